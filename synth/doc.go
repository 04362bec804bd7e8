// Package synth generates deterministic synthetic cities: a square of unit
// grids (单元网格) organised as districts > streets > communities > grids with
// real-looking Chengdu GB/T 2260 county codes, and millions of components
// (部件) placed along a synthetic road network, dense in the centre and
// sparse at the edge.
//
// The same Options (including the Seed) always produce the same sequence of
// records, byte for byte: all randomness comes from one PCG generator seeded
// from Options.Seed and consumed in a fixed order.
//
// Grids: the square is cut into a lattice of rows x cols quadrilaterals
// whose interior vertices are jittered and shared by the neighbouring cells,
// so the cells tile the square without gaps or overlaps. rows and cols are
// chosen close to sqrt(Grids) with the smallest remainder r = Grids - rows*cols;
// when r > 0, r cells spread evenly over the lattice are cut along a diagonal
// into two triangles, which makes the count exactly Grids. Every cell is
// convex and its ring is counter-clockwise.
//
// Hierarchy: every division is a rectangle of lattice cells, so every
// level is contiguous. With 9 or more districts (the default city has 11)
// the five central districts (锦江区 510104, 青羊区 510105, 金牛区 510106,
// 武侯区 510107, 成华区 510108) split a core block of 40 % of the side and
// the outer ones (龙泉驿区 510112 ... 郫都区 510117) the ring of strips around
// it, each code on its side of the real city; with fewer districts the
// whole lattice is bisected and the districts nearest the centre take the
// central codes. Districts and streets are cut by recursive bisection
// weighted by the expected number of components, so central ones are
// smaller; streets (001-099, about 120 grids on average) get a share of
// the city's streets in proportion to that weight; communities are bisected
// inside a street to about 15 grids on average (at most 40); grid serials are
// 2 digits. Each grid's Dept is its street office, "street-<street code>".
//
// Components: each is placed along a segment of the road network (a
// jittered lattice of main roads, three ring roads, and local streets that
// are denser where the city is denser), chosen with probability proportional
// to its length times the density at its middle, offset a few metres to one
// side. The class mix follows ClassInfo.Weight within each geometry kind,
// with about 96 % points, 3 % lines and 1 % polygons. Parts are emitted in
// Hilbert order of their representative point (a point itself, the first
// vertex of a line or polygon), in batches of BatchSize.
package synth
