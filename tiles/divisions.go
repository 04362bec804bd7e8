package tiles

import (
	"sync"

	"citytwin/grid"

	"github.com/paulmach/orb"
)

// outline is the outline of one division, as drawn below GridZoom.
type outline struct {
	div   grid.Division
	lines orb.MultiLineString
	bound orb.Bound
}

// outlines caches the outlines of the divisions of each level; GridChanged
// forgets the ones a changed grid belongs to.
type outlines struct {
	mu     sync.Mutex
	src    GridSource
	levels map[grid.Level][]*outline // nil entry: list to rebuild
	byCode map[string]*outline
}

func newOutlines(src GridSource) *outlines {
	return &outlines{src: src, levels: make(map[grid.Level][]*outline), byCode: make(map[string]*outline)}
}

// level returns the outlines of a level, computing the missing ones.
func (o *outlines) level(l grid.Level) ([]*outline, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if list, ok := o.levels[l]; ok {
		return list, nil
	}
	divs := o.src.Divisions(l, "")
	list := make([]*outline, 0, len(divs))
	for _, d := range divs {
		ol := o.byCode[d.Code]
		if ol == nil || ol.div != d {
			lines, err := o.src.Outline(d.Code)
			if err != nil {
				return nil, err
			}
			if len(lines) == 0 {
				continue
			}
			ol = &outline{div: d, lines: lines, bound: lines.Bound()}
			o.byCode[d.Code] = ol
		}
		list = append(list, ol)
	}
	o.levels[l] = list
	return list, nil
}

// forget drops the outlines of the divisions that hold a grid code.
func (o *outlines) forget(c grid.Code) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, p := range []string{c.District(), c.Street(), c.Community()} {
		delete(o.byCode, p)
	}
	clear(o.levels)
}

// divisionLevel is the level drawn at a zoom below GridZoom.
func divisionLevel(z, gridZoom uint32) grid.Level {
	switch {
	case z+1 >= gridZoom:
		return grid.Community
	case z+3 >= gridZoom:
		return grid.Street
	}
	return grid.District
}
