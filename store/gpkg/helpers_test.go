package gpkg

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"citytwin/grid"
	"citytwin/parts"

	"github.com/paulmach/orb"
)

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func mustCode(t testing.TB, s string) parts.Code {
	t.Helper()
	c, err := parts.ParseCode(s)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// sampleParts returns a point, a line and a polygon with every field set.
func sampleParts(t testing.TB) []parts.Part {
	return []parts.Part{
		{
			Code: mustCode(t, "3205080101000001"), Class: 101, Name: "上水井盖 1", Supervisor: "citymgmt",
			Owner: "water", Maintainer: "water-maint", Grid: "32050800100101", State: parts.Damaged,
			Retired: false, Surveyed: day(2019, 3, 14), Changed: day(2024, 11, 2), Source: parts.Surveyed,
			Photo: "photos/1.jpg", Note: "note with 'quotes' and ,commas,", Material: "铸铁", Label: "",
			Version: 3, Geometry: orb.Point{120.6195, 31.3105},
		},
		{
			Code: mustCode(t, "3205080211000007"), Class: 211, Name: "交通护栏", Supervisor: "citymgmt",
			Owner: "traffic", Maintainer: "road", Grid: "32050800100102", State: parts.Missing,
			Retired: true, Surveyed: day(2020, 1, 1), Changed: day(2025, 6, 30), Source: parts.FromMap,
			Photo: "", Note: "", Material: "steel", Label: "人民路",
			Version: 1, Geometry: orb.LineString{{120.61, 31.31}, {120.612, 31.3102}, {120.615, 31.311}},
		},
		{
			Code: mustCode(t, "3205080405000002"), Class: 405, Name: "绿地", Supervisor: "landscape",
			Owner: "landscape", Maintainer: "garden co", Grid: "32050800100101", State: parts.Occupied,
			Surveyed: day(2018, 12, 31), Source: parts.Sketched, Label: "桂花园",
			Version: 7, Geometry: orb.Polygon{
				{{120.60, 31.30}, {120.61, 31.30}, {120.61, 31.31}, {120.60, 31.31}, {120.60, 31.30}},
				{{120.603, 31.303}, {120.604, 31.303}, {120.604, 31.304}, {120.603, 31.303}},
			},
		},
	}
}

func sampleGrids(t testing.TB) []grid.Grid {
	t.Helper()
	var gs []grid.Grid
	for i, s := range []string{"32050800100101", "32050800100102"} {
		c, err := grid.ParseCode(s)
		if err != nil {
			t.Fatal(err)
		}
		x := 120.6 + float64(i)*0.01
		gs = append(gs, grid.Grid{Code: c, Name: fmt.Sprintf("网格 %d", i+1), Dept: "street-001", Version: uint64(i + 1),
			Geometry: orb.Polygon{{{x, 31.3}, {x + 0.01, 31.3}, {x + 0.01, 31.31}, {x, 31.31}, {x, 31.3}}}})
	}
	return gs
}

func sampleDivisions() []grid.Division {
	return []grid.Division{
		{Code: "320508", Name: "姑苏区", Level: grid.District},
		{Code: "320508001", Name: "双塔街道", Level: grid.Street},
		{Code: "320508001001", Name: "锦帆路社区", Level: grid.Community},
	}
}

// writeSample writes the sample parts, grids and divisions to a new file.
func writeSample(t testing.TB) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "city.gpkg")
	w, err := Create(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.AddParts(sampleParts(t)); err != nil {
		t.Fatal(err)
	}
	if err := w.AddGrids(sampleGrids(t)); err != nil {
		t.Fatal(err)
	}
	if err := w.AddDivisions(sampleDivisions()); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	return path
}

func openT(t testing.TB, path string) *Store {
	t.Helper()
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func loadParts(t testing.TB, s *Store) map[parts.Code]parts.Part {
	t.Helper()
	got := map[parts.Code]parts.Part{}
	if err := s.LoadParts(context.Background(), func(p parts.Part) error {
		got[p.Code] = p
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return got
}
