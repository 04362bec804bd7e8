package synth

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"citytwin/grid"
	"citytwin/parts"

	"github.com/paulmach/orb"
)

// BatchSize is the number of records handed to the Sink per call.
const BatchSize = 10_000

// idxBits is the number of low bits of a sort key that hold the part's
// index (enough for MaxComponents).
const idxBits = 26

// Dates: first surveys from 2015 to 2025, changes up to the end of October 2026.
var (
	firstDay  = int(time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC).Unix() / 86400)
	lastSurv  = int(time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC).Unix() / 86400)
	lastDay   = int(time.Date(2026, 10, 31, 0, 0, 0, 0, time.UTC).Unix() / 86400)
	materials = [...]string{"铸铁", "铸铁", "铸铁", "球墨铸铁", "球墨铸铁", "复合材料", "复合材料", "混凝土"}
	stopTails = [...]string{"站", "站", "路口站", "东站", "西站", "南站", "北站"}
)

// generator holds the state of one Generate call; all its randomness comes
// from rng, consumed in a fixed order.
type generator struct {
	o       Options
	rng     *rand.Rand
	frame   frame
	dens    *density
	lat     *lattice
	city    *city
	roads   *roads
	classes *classTable
	names   *namer

	cover   []bool     // per class index: a cover (井盖, 箅子) that has a material
	maint   [][]string // [district][class index] maintenance unit
	serials [][]uint32 // [district][class index] last serial used
}

// Generate writes a synthetic city to out: the divisions, then the grids,
// then o.Components parts in Hilbert order, each in batches of BatchSize.
// progress, if not nil, is called after every batch of parts with the
// number of parts written and o.Components. The same o and catalogue give
// the same records in the same order. Generate stops with ctx.Err() when
// ctx is cancelled and returns the Sink's first error, wrapped.
func Generate(ctx context.Context, o Options, cat *parts.Catalogue, out Sink, progress func(done, total int)) error {
	if err := o.Validate(); err != nil {
		return err
	}
	if cat == nil {
		return &OptionError{Field: "catalogue", Value: nil, Reason: "a class catalogue is required"}
	}
	if out == nil {
		return &OptionError{Field: "sink", Value: nil, Reason: "a sink is required"}
	}
	classes, err := newClassTable(cat)
	if err != nil {
		return err
	}
	g := &generator{o: o, classes: classes, frame: newFrame(o)}
	g.rng = rand.New(rand.NewPCG(uint64(o.Seed), 0x853c49e6748fea9b))
	g.names = &namer{rng: g.rng}
	g.dens = newDensity(g.frame.half, g.rng)
	g.lat = newLattice(o.Grids, &g.frame, g.rng)
	if g.city, err = newCity(g.lat, &g.frame, g.dens, g.names); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := g.emitHierarchy(ctx, out); err != nil {
		return err
	}
	g.roads = newRoads(&g.frame, g.dens, g.rng, g.names)
	g.tables()
	recs, keys, err := g.placeAll(ctx)
	if err != nil {
		return err
	}
	return g.emitParts(ctx, recs, keys, out, progress)
}

// emitHierarchy sends the divisions and then the grids, in code order.
func (g *generator) emitHierarchy(ctx context.Context, out Sink) error {
	if err := out.AddDivisions(slices.Clone(g.city.divisions)); err != nil {
		return fmt.Errorf("synth: writing divisions: %w", err)
	}
	for start := 0; start < len(g.city.grids); start += BatchSize {
		if err := ctx.Err(); err != nil {
			return err
		}
		end := min(start+BatchSize, len(g.city.grids))
		batch := make([]grid.Grid, 0, end-start)
		for _, gi := range g.city.grids[start:end] {
			batch = append(batch, grid.Grid{
				Code:     gi.code,
				Name:     gi.name,
				Dept:     gi.office,
				Version:  1,
				Geometry: orb.Polygon{g.lat.ring(int(gi.cell), int(gi.piece))},
			})
		}
		if err := out.AddGrids(batch); err != nil {
			return fmt.Errorf("synth: writing grids %d-%d: %w", start, end, err)
		}
	}
	return nil
}

// tables precomputes per-class and per-district strings and counters.
func (g *generator) tables() {
	n := len(g.classes.infos)
	g.cover = make([]bool, n)
	for i, ci := range g.classes.infos {
		g.cover[i] = strings.HasSuffix(ci.Name, "井盖") || strings.HasSuffix(ci.Name, "箅子")
	}
	g.maint = make([][]string, len(g.city.districts))
	g.serials = make([][]uint32, len(g.city.districts))
	for d, dist := range g.city.districts {
		g.maint[d] = make([]string, n)
		g.serials[d] = make([]uint32, n)
		for i, ci := range g.classes.infos {
			// The district branch of the owner maintains; street-owned
			// parts are maintained by their street office (set per part).
			g.maint[d][i] = ci.Owner + "-" + dist.code
		}
	}
}

// placeAll places every part and returns the placements with their sort
// keys (Hilbert distance << idxBits | index), sorted.
func (g *generator) placeAll(ctx context.Context) ([]placed, []uint64, error) {
	n := g.o.Components
	recs := make([]placed, n)
	keys := make([]uint64, n)
	scale := float64(uint32(1)<<hilbertOrder) / (2 * g.frame.half)
	const top = 1<<hilbertOrder - 1
	for i := range recs {
		if i&0xffff == 0 {
			if err := ctx.Err(); err != nil {
				return nil, nil, err
			}
		}
		p := g.place()
		recs[i] = p
		hx := min(uint32(max((p.x+g.frame.half)*scale, 0)), top)
		hy := min(uint32(max((p.y+g.frame.half)*scale, 0)), top)
		keys[i] = hilbert(hx, hy)<<idxBits | uint64(i)
	}
	slices.Sort(keys)
	return recs, keys, nil
}

// emitParts builds the parts batch by batch in key order on one goroutine
// while the caller's goroutine hands the previous batch to the sink.
func (g *generator) emitParts(ctx context.Context, recs []placed, keys []uint64, out Sink, progress func(done, total int)) error {
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan []parts.Part, 2)
	errc := make(chan error, 1)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(batches)
		for start := 0; start < len(keys); start += BatchSize {
			if pctx.Err() != nil {
				return
			}
			b, err := g.batch(recs, keys[start:min(start+BatchSize, len(keys))])
			if err != nil {
				errc <- err
				return
			}
			select {
			case batches <- b:
			case <-pctx.Done():
				return
			}
		}
	}()
	done := 0
	var err error
	for b := range batches {
		if err == nil {
			err = ctx.Err()
		}
		if err != nil {
			cancel()
			continue // drain until the producer stops
		}
		if e := out.AddParts(b); e != nil {
			err = fmt.Errorf("synth: writing parts %d-%d: %w", done, done+len(b), e)
			cancel()
			continue
		}
		done += len(b)
		if progress != nil {
			progress(done, len(keys))
		}
	}
	wg.Wait()
	if err != nil {
		return err
	}
	select {
	case err := <-errc:
		return err
	default:
	}
	if done < len(keys) {
		return ctx.Err()
	}
	return nil
}

// batch builds the parts of one batch of sorted keys.
func (g *generator) batch(recs []placed, keys []uint64) ([]parts.Part, error) {
	out := make([]parts.Part, len(keys))
	for k, key := range keys {
		p := &recs[key&(1<<idxBits-1)]
		ci := &g.classes.infos[p.cls]
		geom := g.geometry(p, ci)
		var rep orb.Point
		switch v := geom.(type) {
		case orb.Point:
			rep = v
		case orb.LineString:
			rep = v[0]
		case orb.Polygon:
			rep = v[0][0]
		}
		gid := g.lat.locate(rep)
		gi := &g.city.grids[gid]
		d := gi.district
		g.serials[d][p.cls]++
		serial := g.serials[d][p.cls]
		if serial > 999_999 {
			return nil, &OptionError{Field: "Components", Value: g.o.Components,
				Reason: fmt.Sprintf("district %s has more than 999999 parts of class %s", g.city.districts[d].code, ci.Class)}
		}
		owner, maint := ci.Owner, g.maint[d][p.cls]
		if owner == parts.DeptStreet {
			owner, maint = gi.office, gi.office
		}
		part := &out[k]
		*part = parts.Part{
			Code:       parts.Code(uint64(g.city.districts[d].county)*1e10 + uint64(ci.Class)*1e6 + uint64(serial)),
			Class:      ci.Class,
			Name:       ci.Name,
			Supervisor: ci.Super,
			Owner:      owner,
			Maintainer: maint,
			Grid:       string(gi.code),
			Version:    1,
			Geometry:   geom,
		}
		g.attributes(part, p, int(p.cls))
	}
	return out, nil
}

// attributes draws state, source, dates, material and label.
func (g *generator) attributes(part *parts.Part, p *placed, cls int) {
	rng := g.rng
	switch u := rng.Float64(); {
	case u < 0.92:
		part.State = parts.Intact
	case u < 0.97:
		part.State = parts.Damaged
	case u < 0.98:
		part.State = parts.Missing
	default:
		part.State = parts.Occupied
	}
	switch u := rng.Float64(); {
	case u < 0.85:
		part.Source = parts.Surveyed
	case u < 0.93:
		part.Source = parts.FromMap
	case u < 0.98:
		part.Source = parts.Sketched
	default:
		part.Source = parts.OtherSource
	}
	s := firstDay + rng.IntN(lastSurv-firstDay+1)
	c := s
	if rng.Float64() >= 0.55 {
		c = s + rng.IntN(lastDay-s+1)
	}
	part.Surveyed = time.Unix(int64(s)*86400, 0).UTC()
	part.Changed = time.Unix(int64(c)*86400, 0).UTC()
	if g.cover[cls] {
		part.Material = materials[rng.IntN(len(materials))]
	}
	switch part.Class {
	case 203: // bus shelter: the stop name
		part.Label = g.roads.names[g.roads.segs[p.seg].road] + stopTails[rng.IntN(len(stopTails))]
	case 406: // sculpture
		part.Label = g.names.stem(2) + "雕塑"
	case 602: // construction site
		part.Label = g.roads.names[g.roads.segs[p.seg].road] + g.names.pick("综合体", "安置房", "管网改造", "地铁站") + "项目"
	}
}
