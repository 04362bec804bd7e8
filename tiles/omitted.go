package tiles

import (
	"context"
	"fmt"
	"slices"
	"time"

	"citytwin/parts"
	"citytwin/spatial"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
)

// cellTest tells whether a point anchors a component in one tile, exactly
// as the count pyramid files it (its cell of the tile's level): a cheap
// box test, and the pyramid's own arithmetic for points within a hair of
// the tile's edges.
type cellTest struct {
	pyr       *pyramid
	inner     orb.Bound // the tile shrunk by eps: surely in
	outer     orb.Bound // the tile grown by eps: outside is surely out
	x, y, sh  uint32
	unchecked bool // the level is above the pyramid's base: never in
}

// cellEps is, in degrees, well above the rounding of a tile's edges.
const cellEps = 1e-9

func newCellTest(pyr *pyramid, t maptile.Tile) cellTest {
	b := t.Bound()
	ct := cellTest{
		pyr:   pyr,
		inner: orb.Bound{Min: orb.Point{b.Min[0] + cellEps, b.Min[1] + cellEps}, Max: orb.Point{b.Max[0] - cellEps, b.Max[1] - cellEps}},
		outer: orb.Bound{Min: orb.Point{b.Min[0] - cellEps, b.Min[1] - cellEps}, Max: orb.Point{b.Max[0] + cellEps, b.Max[1] + cellEps}},
		x:     t.X, y: t.Y,
	}
	if uint32(t.Z) > pyr.base {
		ct.unchecked = true
		return ct
	}
	ct.sh = pyr.base - uint32(t.Z)
	return ct
}

// in tells whether pt anchors in the tile.
func (c *cellTest) in(pt orb.Point) bool {
	if c.unchecked {
		return false
	}
	if pt[0] > c.inner.Min[0] && pt[0] < c.inner.Max[0] && pt[1] > c.inner.Min[1] && pt[1] < c.inner.Max[1] {
		return true
	}
	if !c.outer.Contains(pt) {
		return false
	}
	x, y := c.pyr.baseCell(pt)
	return x>>c.sh == c.x && y>>c.sh == c.y
}

// countTile counts by class the components anchored in tile t that pass f,
// by a scan of the source: the exact counts for a filter the pyramid does
// not answer (owner, department, grid prefix, change date).
func (m *Map) countTile(ctx context.Context, t maptile.Tile, f parts.Filter, dst []classCount) ([]classCount, error) {
	ct := newCellTest(m.pyr, t)
	var n [10000]int32
	var seen []parts.Class
	err := m.scanStriped(ctx, t.Bound(), f, func(e parts.Entry) {
		pt, ok := anchor(e.Geometry)
		if !ok || int(e.Class) >= len(n) || !ct.in(pt) {
			return
		}
		if n[e.Class] == 0 {
			seen = append(seen, e.Class)
		}
		n[e.Class]++
	})
	if err != nil {
		return dst, err
	}
	slices.Sort(seen)
	for _, c := range seen {
		dst = append(dst, classCount{c, int(n[c]), m.priority(c)})
	}
	return dst, nil
}

// scanStriped calls fn once for each component that the source's Scan of
// box with f gives, scanning the box in stripes of longitude (cut from the
// part of the box that holds data, sized to take about chunkHold each)
// rather than at once: the source holds its lock for one stripe at a
// time, so a scan of a big box (a low zoom answered while the aggregates
// build) does not hold its writes back. A point is taken in the stripe
// that holds it (west edge in, east edge out), a line or polygon in the
// first stripe it meets. A write between two stripes may show a moved
// component twice or not at all: the tile is then not cached (the change
// drops it), as for any read that races a write.
func (m *Map) scanStriped(ctx context.Context, box orb.Bound, f parts.Filter, fn func(e parts.Entry)) error {
	lo, hi := box.Min[0], box.Max[0]
	if bd, ok := m.parts.(bounder); ok {
		if bb := bd.Bounds(); !bb.IsZero() {
			lo, hi = max(lo, bb.Min[0]), min(hi, bb.Max[0])
		}
	}
	return walkStripes(lo, hi, 16, chunkHold, func(west, east float64) (time.Duration, error) {
		sb := orb.Bound{Min: orb.Point{max(west, box.Min[0]), box.Min[1]}, Max: orb.Point{min(east, box.Max[0]), box.Max[1]}}
		if sb.Min[0] > sb.Max[0] {
			return 0, nil
		}
		// the stripes before this one
		before := orb.Bound{Min: box.Min, Max: orb.Point{west, box.Max[1]}}
		t0 := time.Now()
		err := m.parts.Scan(ctx, sb, f, func(e parts.Entry) bool {
			if pt, ok := e.Geometry.(orb.Point); ok {
				if pt[0] < west || pt[0] >= east {
					return true
				}
			} else if e.Geometry != nil && e.Geometry.Bound().Min[0] <= west && spatial.Intersects(e.Geometry, before) {
				return true // taken in a stripe before
			}
			fn(e)
			return true
		})
		return time.Since(t0), err
	})
}

// omission is one class's share of what a thinned tile leaves out.
type omission struct {
	class parts.Class
	n     int
}

// writeOmitted fills enc.layer with the "parts_agg" layer of a thinned
// tile: one point at the tile's centre whose properties tell what the
// "parts" layer leaves out of the components anchored in the tile (those
// that pass the filter): count (all of them), omitted (those left out),
// omitted_c0101 and omitted_m01 (left out, by class and major class).
// The feature id is that of the aggregate cell of the tile's own level.
func (m *Map) writeOmitted(enc *tileEncoder, t maptile.Tile) {
	p := &enc.plan
	l := enc.layer
	l.reset(LayerPartsAgg)
	om := enc.omitted[:0]
	total := 0
	for i, cc := range p.counts {
		if d := cc.n - p.kept[i]; d > 0 {
			om = append(om, omission{cc.c, d})
			total += d
		}
	}
	enc.omitted = om
	l.point(Extent/2, Extent/2)
	l.tag(l.key("count"), l.uintValue(uint64(p.total)))
	l.tag(l.key("omitted"), l.uintValue(uint64(total)))
	slices.SortFunc(om, func(a, b omission) int { return int(a.class) - int(b.class) })
	var majors [100]int
	for _, o := range om {
		l.tag(l.key(fmt.Sprintf("omitted_c%04d", o.class)), l.uintValue(uint64(o.n)))
		if mj := o.class.Major(); mj >= 0 && mj < len(majors) {
			majors[mj] += o.n
		}
	}
	for mj, n := range majors {
		if n > 0 {
			l.tag(l.key(fmt.Sprintf("omitted_m%02d", mj)), l.uintValue(uint64(n)))
		}
	}
	l.feature(uint64(t.Z)<<58|uint64(t.X)<<29|uint64(t.Y), geomPoint)
}
