package synth

import (
	"fmt"
	"math"
	"slices"

	"citytwin/grid"
)

// Sizes of the hierarchy.
const (
	maxDistricts       = len(chengduDistricts)
	minDistricts       = 5
	gridsPerStreet     = 120 // mean grids per street
	gridsPerCommunity  = 15  // mean grids per community
	maxStreets         = 99  // street codes 001-099 (street offices)
	maxCommunityGrids  = 40  // communities are bisected until they hold at most this many grids
	maxCommunities     = 999 // 3-digit community codes
	maxGridsInCommunty = 99  // 2-digit grid serials
)

// districtCount is the number of districts of a city of m grids: about
// sqrt(m)/11.5, between 5 and 11, and at most m/4.
func districtCount(m int) int {
	d := int(math.Round(math.Sqrt(float64(m)) / 11.5))
	d = min(max(d, minDistricts), maxDistricts, m/4)
	return max(d, 1)
}

// rect is a block of lattice cells, rows [r0, r1) and columns [c0, c1).
type rect struct{ r0, c0, r1, c1 int }

func (rc rect) cells() int { return (rc.r1 - rc.r0) * (rc.c1 - rc.c0) }

// city is the hierarchy over the lattice.
type city struct {
	districts []district // in code order
	grids     []gridInfo // in code order; the index is the grid id
	divisions []grid.Division
}

type district struct {
	county uint32
	code   string // 6 digits
	name   string
}

type gridInfo struct {
	code     grid.Code
	name     string
	office   string // "street-<9-digit street code>"
	cell     int32
	piece    uint8
	district uint8 // index into city.districts
}

// cutter bisects blocks of the lattice by weight.
type cutter struct {
	l *lattice
	w []float64 // weight per cell
}

func (ct *cutter) weight(rc rect) float64 {
	var s float64
	for r := rc.r0; r < rc.r1; r++ {
		for c := rc.c0; c < rc.c1; c++ {
			s += ct.w[r*ct.l.cols+c]
		}
	}
	return s
}

// cut splits rc across its longer side (in metres) so that the first part
// holds about k1/(k1+k2) of the weight and each part has at least k1 resp.
// k2 cells. ok is false if rc cannot be split that way.
func (ct *cutter) cut(rc rect, k1, k2 int) (a, b rect, ok bool) {
	h, wd := rc.r1-rc.r0, rc.c1-rc.c0
	byCols := float64(wd)*ct.l.cellWm >= float64(h)*ct.l.cellHm
	for attempt := 0; attempt < 2; attempt, byCols = attempt+1, !byCols {
		L, H := h, wd
		if byCols {
			L, H = wd, h
		}
		minP, maxP := ceilDiv(k1, H), L-ceilDiv(k2, H)
		if L < 2 || minP > maxP {
			continue
		}
		line := make([]float64, L)
		var total float64
		for r := rc.r0; r < rc.r1; r++ {
			for c := rc.c0; c < rc.c1; c++ {
				i := r - rc.r0
				if byCols {
					i = c - rc.c0
				}
				line[i] += ct.w[r*ct.l.cols+c]
				total += ct.w[r*ct.l.cols+c]
			}
		}
		target := total * float64(k1) / float64(k1+k2)
		p, best, cum := minP, math.Inf(1), 0.0
		for i := 0; i < maxP; i++ {
			cum += line[i]
			if i+1 >= minP {
				if d := math.Abs(cum - target); d < best {
					p, best = i+1, d
				}
			}
		}
		a, b = rc, rc
		if byCols {
			a.c1, b.c0 = rc.c0+p, rc.c0+p
		} else {
			a.r1, b.r0 = rc.r0+p, rc.r0+p
		}
		return a, b, true
	}
	return rc, rc, false
}

// partition splits rc into about k blocks of equal weight.
func (ct *cutter) partition(rc rect, k int, out []rect) []rect {
	if k <= 1 {
		return append(out, rc)
	}
	k1 := k / 2
	a, b, ok := ct.cut(rc, k1, k-k1)
	if !ok {
		return append(out, rc)
	}
	return ct.partition(b, k-k1, ct.partition(a, k1, out))
}

// until splits rc in halves of equal weight until no block is tooBig.
func (ct *cutter) until(rc rect, tooBig func(rect) bool, out []rect) []rect {
	if !tooBig(rc) {
		return append(out, rc)
	}
	a, b, ok := ct.cut(rc, 1, 1)
	if !ok {
		return append(out, rc)
	}
	return ct.until(b, tooBig, ct.until(a, tooBig, out))
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// newCity builds the district > street > community > grid hierarchy over
// the lattice and fills l.gridOf.
func newCity(l *lattice, f *frame, dens *density, nm *namer) (*city, error) {
	n := l.rows * l.cols
	// Districts and streets balance a blend of area and expected parts.
	w := make([]float64, n)
	var mean float64
	for r := 0; r < l.rows; r++ {
		for c := 0; c < l.cols; c++ {
			x := -f.half + (float64(c)+0.5)*l.cellWm
			y := -f.half + (float64(r)+0.5)*l.cellHm
			w[r*l.cols+c] = dens.at(x, y)
			mean += w[r*l.cols+c]
		}
	}
	mean /= float64(n)
	for i := range w {
		w[i] = 0.25 + 0.75*w[i]/mean
	}
	byDensity := &cutter{l: l, w: w}
	grids := make([]float64, n) // grids per cell: 1, or 2 for a split cell
	for i := range grids {
		grids[i] = 1
		if l.split[i] {
			grids[i] = 2
		}
	}
	byGrids := &cutter{l: l, w: grids}

	rectOf, codeOf := districtRects(l, f, byDensity, districtCount(n+countTrue(l.split)))
	total := byDensity.weight(rect{0, 0, l.rows, l.cols})
	m := n + countTrue(l.split)
	streets := max(float64(len(rectOf)), math.Round(float64(m)/gridsPerStreet))
	// Bisection leaves blocks between half the limit and the limit: 1.4
	// times the mean weight gives about the mean. Communities keep at
	// least 4 grids, at most maxCommunityGrids.
	commWeight := 1.4 * total / math.Max(1, math.Round(float64(m)/gridsPerCommunity))
	tooBig := func(rc rect) bool {
		g := byGrids.weight(rc)
		return g > maxCommunityGrids || (g >= 8 && byDensity.weight(rc) > commWeight)
	}

	cy := &city{}
	l.gridOf = make([][2]int32, n)
	streetNames := map[string]bool{} // membership only
	for di, drc := range rectOf {
		d := chengduDistricts[codeOf[di]]
		cy.districts = append(cy.districts, district{county: d.code, code: fmt.Sprintf("%06d", d.code), name: d.name})
		cy.divisions = append(cy.divisions, grid.Division{Code: fmt.Sprintf("%06d", d.code), Name: d.name, Level: grid.District})
		// Streets in proportion to the district's weight.
		cells := drc.cells()
		k := int(math.Round(streets * byDensity.weight(drc) / total))
		if cells >= 16 {
			k = max(k, 2)
		}
		k = max(min(k, maxStreets, cells/4), 1)
		for si, src := range byDensity.partition(drc, k, nil) {
			scode := fmt.Sprintf("%06d%03d", d.code, si+1)
			sname := nm.unique(streetNames, "街道", "", "", "路", "桥", "")
			office := "street-" + scode
			cy.divisions = append(cy.divisions, grid.Division{Code: scode, Name: sname, Level: grid.Street})
			comms := byDensity.until(src, tooBig, nil)
			if len(comms) > maxCommunities {
				return nil, &OptionError{Field: "Grids", Value: n, Reason: fmt.Sprintf("street %s would need %d communities, more than %d", scode, len(comms), maxCommunities)}
			}
			commNames := map[string]bool{}
			for ci, crc := range comms {
				ccode := scode + fmt.Sprintf("%03d", ci+1)
				cname := nm.unique(commNames, "社区", "", "", "", "路", "街", "苑", "桥")
				cy.divisions = append(cy.divisions, grid.Division{Code: ccode, Name: cname, Level: grid.Community})
				serial := 0
				for r := crc.r0; r < crc.r1; r++ {
					for c := crc.c0; c < crc.c1; c++ {
						cell := r*l.cols + c
						l.gridOf[cell] = [2]int32{-1, -1}
						pieces := 1
						if l.split[cell] {
							pieces = 2
						}
						for piece := 0; piece < pieces; piece++ {
							serial++
							if serial > maxGridsInCommunty {
								return nil, &OptionError{Field: "Grids", Value: n, Reason: fmt.Sprintf("community %s would hold more than %d grids", ccode, maxGridsInCommunty)}
							}
							l.gridOf[cell][piece] = int32(len(cy.grids))
							cy.grids = append(cy.grids, gridInfo{
								code:     grid.Code(fmt.Sprintf("%s%02d", ccode, serial)),
								name:     fmt.Sprintf("%s第%02d网格", cname, serial),
								office:   office,
								cell:     int32(cell),
								piece:    uint8(piece),
								district: uint8(di),
							})
						}
					}
				}
			}
		}
	}
	return cy, nil
}

func countTrue(bs []bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}

// Codes by direction from the centre, counter-clockwise from the
// south-east (see angleOf): the five central districts, then the outer ones.
var (
	coreByAngle = [...]int{0, 4, 2, 1, 3}     // 锦江 成华 金牛 青羊 武侯
	ringByAngle = [...]int{9, 5, 6, 7, 10, 8} // 双流 龙泉驿 青白江 新都 郫都 温江
)

// districtRects splits the lattice into about d districts and returns their
// blocks and indexes into chengduDistricts, in code order. With 9 or more
// districts the five central ones share a core block of 40 % of the side
// and the others a ring of strips around it; otherwise the whole lattice
// is bisected and the districts nearest the centre take the central codes.
func districtRects(l *lattice, f *frame, ct *cutter, d int) ([]rect, []int) {
	centre := func(rc rect) (float64, float64) {
		return -f.half + float64(rc.c0+rc.c1)/2*l.cellWm, -f.half + float64(rc.r0+rc.r1)/2*l.cellHm
	}
	angleOf := func(rc rect) float64 {
		a := math.Atan2(centre(rc)) * 180 / math.Pi
		if a < -60 {
			a += 360
		}
		return a
	}
	type entry struct {
		rc   rect
		code int
	}
	var es []entry
	assign := func(rcs []rect, key func(rect) float64, codes []int) {
		slices.SortStableFunc(rcs, func(a, b rect) int { return cmpFloat(key(a), key(b)) })
		for i, rc := range rcs {
			es = append(es, entry{rc, codes[i]})
		}
	}
	if d >= 9 && l.rows >= 10 && l.cols >= 10 {
		r0, r1 := int(math.Round(0.3*float64(l.rows))), int(math.Round(0.7*float64(l.rows)))
		c0, c1 := int(math.Round(0.3*float64(l.cols))), int(math.Round(0.7*float64(l.cols)))
		core := ct.partition(rect{r0, c0, r1, c1}, 5, nil)
		ring := d - 5
		top, bottom := (ring-1)/2, (ring-2)/2
		var outer []rect
		outer = ct.partition(rect{0, 0, r0, l.cols}, bottom, outer)
		outer = ct.partition(rect{r1, 0, l.rows, l.cols}, top, outer)
		outer = append(outer, rect{r0, 0, r1, c0}, rect{r0, c1, r1, l.cols})
		if len(core) == 5 && len(outer) == ring {
			assign(core, angleOf, coreByAngle[:])
			assign(outer, angleOf, ringByAngle[:ring])
		}
	}
	if es == nil {
		codes := make([]int, d)
		for i := range codes {
			codes[i] = i
		}
		rcs := ct.partition(rect{0, 0, l.rows, l.cols}, d, nil)
		assign(rcs, func(rc rect) float64 { return math.Hypot(centre(rc)) }, codes[:len(rcs)])
	}
	slices.SortFunc(es, func(a, b entry) int { return a.code - b.code })
	rcs, codes := make([]rect, len(es)), make([]int, len(es))
	for i, e := range es {
		rcs[i], codes[i] = e.rc, e.code
	}
	return rcs, codes
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
