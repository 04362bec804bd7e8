package grid

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/paulmach/orb"
)

// Outline returns the outline of a district, street or community (a 6, 9
// or 12 digit prefix): the edges of its grids that no two of its grids
// share, chained into lines (closed rings where the grids tile cleanly),
// with exactly collinear middle points dropped. Edges cancel only where the
// grids share exact vertices. Outlines are cached until a grid under the
// prefix is put or removed; the result is the caller's own copy. The error
// wraps ErrNotFound when no grid is under prefix, and is a *CodeError when
// prefix is not a 6, 9 or 12 digit prefix.
func (ix *Index) Outline(prefix string) (orb.MultiLineString, error) {
	lv, err := parsePrefix(prefix)
	if err != nil {
		return nil, err
	}
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	ix.cacheMu.Lock()
	ml, ok := ix.outlines[prefix]
	ix.cacheMu.Unlock()
	if !ok {
		es := under(ix.sortedLocked(), prefix)
		if len(es) == 0 {
			return nil, fmt.Errorf("%w: no grid under %s %s", ErrNotFound, lv, prefix)
		}
		ml = outline(es)
		ix.cacheMu.Lock()
		if ix.outlines == nil {
			ix.outlines = make(map[string]orb.MultiLineString)
		}
		ix.outlines[prefix] = ml
		ix.cacheMu.Unlock()
	}
	return ml.Clone(), nil
}

// edge is a segment with its end points in canonical (lexicographic) order.
type edge struct{ a, b orb.Point }

func lessPoint(p, q orb.Point) int {
	if c := cmp.Compare(p[0], q[0]); c != 0 {
		return c
	}
	return cmp.Compare(p[1], q[1])
}

// outline cancels the edges shared by two of the grids es and chains the
// rest.
func outline(es []*entry) orb.MultiLineString {
	count := make(map[edge]int)
	for _, e := range es {
		for _, r := range e.grid.Geometry {
			for i := 0; i+1 < len(r); i++ {
				a, b := r[i], r[i+1]
				if a == b {
					continue
				}
				if lessPoint(a, b) > 0 {
					a, b = b, a
				}
				count[edge{a, b}]++
			}
		}
	}
	var edges []edge
	for k, n := range count {
		if n == 1 {
			edges = append(edges, k)
		}
	}
	slices.SortFunc(edges, func(x, y edge) int {
		if c := lessPoint(x.a, y.a); c != 0 {
			return c
		}
		return lessPoint(x.b, y.b)
	})
	adj := make(map[orb.Point][]int, len(edges))
	for i, e := range edges {
		adj[e.a] = append(adj[e.a], i)
		adj[e.b] = append(adj[e.b], i)
	}
	used := make([]bool, len(edges))
	var out orb.MultiLineString
	for i := range edges {
		if used[i] {
			continue
		}
		used[i] = true
		start, cur := edges[i].a, edges[i].b
		line := orb.LineString{start, cur}
		for cur != start {
			next := -1
			for _, j := range adj[cur] {
				if !used[j] {
					next = j
					break
				}
			}
			if next < 0 {
				break // an open chain: the grids do not tile cleanly here
			}
			used[next] = true
			if edges[next].a == cur {
				cur = edges[next].b
			} else {
				cur = edges[next].a
			}
			line = append(line, cur)
		}
		if cur == start {
			line = closeRing(dropCollinear(line[:len(line)-1]))
		}
		out = append(out, line)
	}
	return out
}

// dropCollinear removes the points of the cyclic sequence q that lie
// exactly on the straight line between their neighbours.
func dropCollinear(q []orb.Point) []orb.Point {
	out := make([]orb.Point, 0, len(q))
	for _, p := range q {
		for len(out) >= 2 && straight(out[len(out)-2], out[len(out)-1], p) {
			out = out[:len(out)-1]
		}
		out = append(out, p)
	}
	for len(out) >= 3 {
		n := len(out)
		switch {
		case straight(out[n-2], out[n-1], out[0]):
			out = out[:n-1]
		case straight(out[n-1], out[0], out[1]):
			out = out[1:]
		default:
			return out
		}
	}
	return out
}

// closeRing returns q with its first point appended.
func closeRing(q []orb.Point) orb.LineString {
	return append(orb.LineString(q), q[0])
}

// straight reports whether b lies exactly on the segment from a to c,
// strictly between them.
func straight(a, b, c orb.Point) bool {
	cross := (b[0]-a[0])*(c[1]-a[1]) - (b[1]-a[1])*(c[0]-a[0])
	dot := (b[0]-a[0])*(c[0]-b[0]) + (b[1]-a[1])*(c[1]-b[1])
	return cross == 0 && dot > 0
}
