// Package twin is the city in memory: it composes the component registry and
// the grid index, loads them from a store at start, and owns the single write
// path (validate, persist, apply to the indexes, emit a Change) that every
// edit takes, whatever its source.
package twin
