package tiles

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"

	"citytwin/grid"
	"citytwin/parts"

	"github.com/klauspost/compress/gzip"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/maptile"
)

// The fixture city: 4x4 unit grids of about 100 m around fixCenter in two
// communities of one street, and 200 components on and around them.
var fixCenter = orb.Point{104.06, 30.66}

// fixDay is the latest change date of the fixture parts.
var fixDay = time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)

const (
	fixDLon = 0.00104 // about 100 m
	fixDLat = 0.0009
)

func fixtureGrids() []grid.Grid {
	var gs []grid.Grid
	for i := 0; i < 4; i++ {
		for j := 0; j < 4; j++ {
			comm := 1 + i/2
			serial := 1 + j + 4*(i%2)
			code := grid.Code(fmt.Sprintf("510104001%03d%02d", comm, serial))
			x0 := fixCenter[0] + float64(i-2)*fixDLon
			y0 := fixCenter[1] + float64(j-2)*fixDLat
			ring := orb.Ring{{x0, y0}, {x0 + fixDLon, y0}, {x0 + fixDLon, y0 + fixDLat}, {x0, y0 + fixDLat}, {x0, y0}}
			gs = append(gs, grid.Grid{Code: code, Name: fmt.Sprintf("第%d网格", serial), Dept: "street-001", Geometry: orb.Polygon{ring}})
		}
	}
	return gs
}

// fixtureGridOf returns the code of the fixture grid that holds the centre
// of g's box, or "" outside the lattice.
func fixtureGridOf(g orb.Geometry) string {
	c := g.Bound().Center()
	i := int(math.Floor((c[0]-fixCenter[0])/fixDLon)) + 2
	j := int(math.Floor((c[1]-fixCenter[1])/fixDLat)) + 2
	if i < 0 || i > 3 || j < 0 || j > 3 {
		return ""
	}
	return fmt.Sprintf("510104001%03d%02d", 1+i/2, 1+j+4*(i%2))
}

func fixtureParts() []parts.Part {
	cat := parts.DefaultCatalogue()
	rng := rand.New(rand.NewPCG(7, 11))
	classes := []parts.Class{101, 102, 113, 118, 203, 305, 402, 407}
	var ps []parts.Part
	serial := map[parts.Class]uint32{}
	add := func(cl parts.Class, st parts.State, g orb.Geometry) {
		serial[cl]++
		code, err := parts.NewCode(510104, cl, serial[cl])
		if err != nil {
			panic(err)
		}
		ci, _ := cat.Lookup(cl)
		day := fixDay.AddDate(0, 0, -int(serial[cl]%3)*30)
		ps = append(ps, parts.Part{Code: code, Class: cl, State: st, Owner: ci.Owner, Supervisor: ci.Super, Surveyed: day, Changed: day,
			Grid: fixtureGridOf(g), Geometry: g})
	}
	for i := 0; i < 200; i++ {
		lon := fixCenter[0] + (rng.Float64()*2-1)*2.5*fixDLon
		lat := fixCenter[1] + (rng.Float64()*2-1)*2.5*fixDLat
		add(classes[i%len(classes)], parts.State(rng.IntN(4)), orb.Point{lon, lat})
	}
	// two guard rails and two green spaces, one of each much larger than a z18 tile
	add(211, parts.Intact, orb.LineString{{fixCenter[0] - 3*fixDLon, fixCenter[1] + 0.1*fixDLat}, {fixCenter[0] + 3*fixDLon, fixCenter[1] + 0.2*fixDLat}})
	add(211, parts.Damaged, orb.LineString{{fixCenter[0] + 0.3*fixDLon, fixCenter[1] - 0.3*fixDLat}, {fixCenter[0] + 0.6*fixDLon, fixCenter[1] - 0.5*fixDLat}, {fixCenter[0] + 0.9*fixDLon, fixCenter[1] - 0.4*fixDLat}})
	add(405, parts.Intact, orb.Polygon{{{fixCenter[0] - 1.5*fixDLon, fixCenter[1] - 1.5*fixDLat}, {fixCenter[0] + 1.5*fixDLon, fixCenter[1] - 1.5*fixDLat},
		{fixCenter[0] + 1.5*fixDLon, fixCenter[1] + 1.5*fixDLat}, {fixCenter[0] - 1.5*fixDLon, fixCenter[1] + 1.5*fixDLat}, {fixCenter[0] - 1.5*fixDLon, fixCenter[1] - 1.5*fixDLat}},
		{{fixCenter[0] - 0.5*fixDLon, fixCenter[1] - 0.5*fixDLat}, {fixCenter[0] - 0.5*fixDLon, fixCenter[1] + 0.5*fixDLat},
			{fixCenter[0] + 0.5*fixDLon, fixCenter[1] + 0.5*fixDLat}, {fixCenter[0] + 0.5*fixDLon, fixCenter[1] - 0.5*fixDLat}, {fixCenter[0] - 0.5*fixDLon, fixCenter[1] - 0.5*fixDLat}}})
	add(405, parts.Occupied, orb.Polygon{{{fixCenter[0] + 1.1*fixDLon, fixCenter[1] + 1.1*fixDLat}, {fixCenter[0] + 1.4*fixDLon, fixCenter[1] + 1.1*fixDLat},
		{fixCenter[0] + 1.4*fixDLon, fixCenter[1] + 1.3*fixDLat}, {fixCenter[0] + 1.1*fixDLon, fixCenter[1] + 1.1*fixDLat}}})
	return ps
}

type fixture struct {
	m     *Map
	reg   *parts.Registry
	grids *grid.Index
}

func newFixture(t testing.TB, o Options) *fixture {
	t.Helper()
	b := parts.NewBuilder(nil, 256)
	for _, p := range fixtureParts() {
		if err := b.Add(p); err != nil {
			t.Fatalf("fixture part %s: %v", p.Code, err)
		}
	}
	reg := b.Build()
	ix := grid.NewIndex()
	for _, g := range fixtureGrids() {
		if _, _, err := ix.Put(g); err != nil {
			t.Fatalf("fixture grid %s: %v", g.Code, err)
		}
	}
	ix.SetDivision(grid.Division{Code: "510104", Name: "锦江区"})
	ix.SetDivision(grid.Division{Code: "510104001", Name: "督院街街道"})
	ix.SetDivision(grid.Division{Code: "510104001001", Name: "一社区"})
	ix.SetDivision(grid.Division{Code: "510104001002", Name: "二社区"})
	return &fixture{m: New(reg, ix, o), reg: reg, grids: ix}
}

// gunzip returns the raw MVT of a tile.
func gunzip(t testing.TB, data []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("gunzip: %v", err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("gunzip: %v", err)
	}
	return raw
}

// decode decodes a tile with orb's MVT decoder.
func decode(t testing.TB, tile Tile) mvt.Layers {
	t.Helper()
	ls, err := mvt.Unmarshal(gunzip(t, tile.Data))
	if err != nil {
		t.Fatalf("mvt.Unmarshal: %v", err)
	}
	return ls
}

func layerNamed(ls mvt.Layers, name string) *mvt.Layer {
	for _, l := range ls {
		if l.Name == name {
			return l
		}
	}
	return nil
}

func mustEncode(t testing.TB, m *Map, layer string, tl maptile.Tile, f parts.Filter) Tile {
	t.Helper()
	tile, err := m.Encode(context.Background(), layer, tl, f)
	if err != nil {
		t.Fatalf("Encode(%s, %d/%d/%d): %v", layer, tl.Z, tl.X, tl.Y, err)
	}
	return tile
}

// sliceSource is a brute-force PartSource that counts its scans.
type sliceSource struct {
	entries []parts.Entry
	scans   atomic.Int64
	visited atomic.Int64
}

func (s *sliceSource) Scan(ctx context.Context, b orb.Bound, f parts.Filter, fn func(e parts.Entry) bool) error {
	s.scans.Add(1)
	n := 0
	for _, e := range s.entries {
		n++
		if n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if !e.Geometry.Bound().Intersects(b) {
			continue
		}
		p := parts.Part{Code: e.Code, Class: e.Class, State: e.State, Owner: e.Owner}
		if !f.Match(&p) {
			continue
		}
		if !fn(e) {
			break
		}
	}
	s.visited.Add(int64(n))
	return nil
}
