package tiles

import (
	"cmp"
	"slices"
)

// clusterItems keeps at most max items. Above it, the items are gathered
// in square cells of the tile, from 16 tile units wide and doubling until
// the cells are few enough; each cell is written as its highest ranked
// item (ties: the smaller id) with count the number of items in the cell.
// The result is in a stable order whatever the order of the input.
func clusterItems(items []liveItem, max int) []liveItem {
	slices.SortFunc(items, func(a, b liveItem) int {
		if c := cmp.Compare(b.rank, a.rank); c != 0 {
			return c
		}
		return cmp.Compare(a.id, b.id)
	})
	if len(items) <= max {
		return items
	}
	type cellKey struct{ x, y int32 }
	for size := int32(16); ; size *= 2 {
		cells := make(map[cellKey]int, max) // cell -> index in out
		out := make([]liveItem, 0, max)
		for _, it := range items { // best first: the first item of a cell stands for it
			k := cellKey{floorDiv(it.x, size), floorDiv(it.y, size)}
			if j, ok := cells[k]; ok {
				out[j].count += it.count
				continue
			}
			cells[k] = len(out)
			out = append(out, it)
		}
		if len(out) <= max || size >= 1<<20 {
			if len(out) > max {
				out = out[:max]
			}
			return out
		}
	}
}

func floorDiv(a, b int32) int32 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}
