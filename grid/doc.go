// Package grid models unit grids (单元网格): the 14-digit grid Code (and the
// 15-digit Beijing variant), the district > street > community > grid
// hierarchy that the code carries as prefixes, and the Index that finds the
// one grid holding a point.
package grid
