package synth

import (
	"math"
	"math/rand/v2"
	"sort"
)

// mainSpacing is the distance between main roads, metres; in squares wider
// than maxMainRoads km they are spaced wider.
const (
	mainSpacing  = 1000.0
	maxMainRoads = 120
)

// segment is a straight piece of road in local metres.
type segment struct {
	ax, ay float64 // start
	dx, dy float64 // end - start
	ux, uy float64 // unit direction
	length float64
	road   int32 // index into roads.names
	main   bool
}

// roads is the synthetic road network: main roads on a jittered lattice,
// ring roads around the centre, and local streets inside each main block,
// more of them where the city is denser.
type roads struct {
	segs    []segment
	names   []string
	cum     []float64 // cumulative sampling weight over segs
	mainIdx []int32   // main segments
	mainCum []float64 // cumulative sampling weight over mainIdx
}

func newRoads(f *frame, dens *density, rng *rand.Rand, nm *namer) *roads {
	rd := &roads{}
	k := min(max(2, int(math.Round(2*f.half/mainSpacing))), maxMainRoads)
	sp := 2 * f.half / float64(k)
	node := make([][2]float64, (k+1)*(k+1))
	for i := 0; i <= k; i++ {
		for j := 0; j <= k; j++ {
			x, y := -f.half+float64(j)*sp, -f.half+float64(i)*sp
			if j > 0 && j < k {
				x += (2*rng.Float64() - 1) * 0.15 * sp
			}
			if i > 0 && i < k {
				y += (2*rng.Float64() - 1) * 0.15 * sp
			}
			node[i*(k+1)+j] = [2]float64{x, y}
		}
	}
	at := func(i, j int) [2]float64 { return node[i*(k+1)+j] }
	// Main roads: every lattice line but the border of the square.
	for i := 1; i < k; i++ {
		name := rd.name(nm.stem(2) + nm.pick("路", "路", "大道", "大街"))
		for j := 0; j < k; j++ {
			rd.add(at(i, j), at(i, j+1), name, true)
		}
	}
	for j := 1; j < k; j++ {
		name := rd.name(nm.stem(2) + nm.pick("路", "街", "大道"))
		for i := 0; i < k; i++ {
			rd.add(at(i, j), at(i+1, j), name, true)
		}
	}
	// Ring roads.
	for _, ring := range []struct {
		r    float64
		name string
	}{{0.065, "一环路"}, {0.115, "二环路"}, {0.2, "三环路"}, {0.33, "绕城大道"}} {
		name := rd.name(ring.name)
		const n = 96
		var pts [n][2]float64
		for s := 0; s < n; s++ {
			a := 2 * math.Pi * float64(s) / n
			r := ring.r * 2 * f.half * (1 + 0.03*(2*rng.Float64()-1))
			pts[s] = [2]float64{r * math.Cos(a), r * math.Sin(a)}
		}
		for s := 0; s < n; s++ {
			rd.add(pts[s], pts[(s+1)%n], name, true)
		}
	}
	// Local streets inside each block.
	for i := 0; i < k; i++ {
		for j := 0; j < k; j++ {
			p00, p10, p01, p11 := at(i, j), at(i, j+1), at(i+1, j), at(i+1, j+1)
			cx, cy := (p00[0]+p11[0])/2, (p00[1]+p11[1])/2
			n := 1 + int(math.Round(6*math.Min(1, dens.at(cx, cy))))
			for s := 1; s < n; s++ {
				t := float64(s) / float64(n)
				rd.add(lerp(p00, p01, t), lerp(p10, p11, t), rd.name(nm.stem(2)+nm.pick("街", "巷", "路", "横街")), false)
				rd.add(lerp(p00, p10, t), lerp(p01, p11, t), rd.name(nm.stem(2)+nm.pick("街", "巷", "路", "北街")), false)
			}
		}
	}
	// Sampling weights: length times density, main roads a little busier.
	var tot, totMain float64
	rd.cum = make([]float64, len(rd.segs))
	for i, s := range rd.segs {
		w := s.length * dens.at(s.ax+s.dx/2, s.ay+s.dy/2)
		if s.main {
			w *= 1.3
			totMain += w
			rd.mainIdx = append(rd.mainIdx, int32(i))
			rd.mainCum = append(rd.mainCum, totMain)
		}
		tot += w
		rd.cum[i] = tot
	}
	return rd
}

func (rd *roads) name(s string) int32 {
	rd.names = append(rd.names, s)
	return int32(len(rd.names) - 1)
}

func (rd *roads) add(a, b [2]float64, road int32, main bool) {
	dx, dy := b[0]-a[0], b[1]-a[1]
	l := math.Hypot(dx, dy)
	if l == 0 {
		return
	}
	rd.segs = append(rd.segs, segment{ax: a[0], ay: a[1], dx: dx, dy: dy, ux: dx / l, uy: dy / l, length: l, road: road, main: main})
}

// pick returns a segment index drawn by weight; main restricts the draw to
// main roads.
func (rd *roads) pick(u float64, main bool) int32 {
	if main && len(rd.mainIdx) > 0 {
		i := sort.SearchFloat64s(rd.mainCum, u*rd.mainCum[len(rd.mainCum)-1])
		return rd.mainIdx[min(i, len(rd.mainIdx)-1)]
	}
	i := sort.SearchFloat64s(rd.cum, u*rd.cum[len(rd.cum)-1])
	return int32(min(i, len(rd.cum)-1))
}

func lerp(a, b [2]float64, t float64) [2]float64 {
	return [2]float64{a[0] + (b[0]-a[0])*t, a[1] + (b[1]-a[1])*t}
}
