package grid

import (
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/paulmach/orb"
)

func square(x0, y0, x1, y1 float64) orb.Ring {
	return orb.Ring{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}, {x0, y0}}
}

func TestIndexPutValidates(t *testing.T) {
	ok := orb.Polygon{square(104, 30, 104.01, 30.01)}
	tests := map[string]struct {
		g     Grid
		field string // FieldError field; "" for a code error
	}{
		"bad code":         {g: Grid{Code: "5101040010010", Geometry: ok}},
		"community code":   {g: Grid{Code: "51010400100100", Geometry: ok}},
		"no rings":         {g: Grid{Code: "51010400100101"}, field: "geometry"},
		"3 points":         {g: Grid{Code: "51010400100101", Geometry: orb.Polygon{{{104, 30}, {104.01, 30}, {104, 30}}}}, field: "geometry"},
		"open ring":        {g: Grid{Code: "51010400100101", Geometry: orb.Polygon{{{104, 30}, {104.01, 30}, {104.01, 30.01}, {104, 30.01}}}}, field: "geometry"},
		"open hole":        {g: Grid{Code: "51010400100101", Geometry: orb.Polygon{ok[0], {{104.001, 30.001}, {104.002, 30.001}, {104.002, 30.002}, {104.001, 30.002}}}}, field: "geometry"},
		"longitude 181":    {g: Grid{Code: "51010400100101", Geometry: orb.Polygon{square(180.5, 30, 181, 30.01)}}, field: "geometry"},
		"latitude -91":     {g: Grid{Code: "51010400100101", Geometry: orb.Polygon{square(104, -91, 104.01, -90.5)}}, field: "geometry"},
		"NaN":              {g: Grid{Code: "51010400100101", Geometry: orb.Polygon{square(math.NaN(), 30, 104.01, 30.01)}}, field: "geometry"},
		"infinite":         {g: Grid{Code: "51010400100101", Geometry: orb.Polygon{square(104, 30, math.Inf(1), 30.01)}}, field: "geometry"},
		"zero area":        {g: Grid{Code: "51010400100101", Geometry: orb.Polygon{{{104, 30}, {104.01, 30}, {104.02, 30}, {104, 30}}}}, field: "geometry"},
		"zero area hole":   {g: Grid{Code: "51010400100101", Geometry: orb.Polygon{ok[0], {{104.001, 30.001}, {104.002, 30.001}, {104.001, 30.001}, {104.001, 30.001}}}}, field: "geometry"},
		"valid is no fail": {g: Grid{Code: "51010400100101", Geometry: ok}, field: "-"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			ix := NewIndex()
			_, _, err := ix.Put(tc.g)
			switch tc.field {
			case "-":
				if err != nil || ix.Len() != 1 {
					t.Fatalf("Put(%s) = %v, Len %d; want nil, 1", tc.g.Code, err, ix.Len())
				}
				return
			case "":
				if !errors.Is(err, ErrInvalidCode) {
					t.Fatalf("Put(%q) = %v; want ErrInvalidCode", tc.g.Code, err)
				}
			default:
				var fe *FieldError
				if !errors.As(err, &fe) || fe.Field != tc.field || !errors.Is(err, ErrInvalid) {
					t.Fatalf("Put = %v; want a *FieldError for %q wrapping ErrInvalid", err, tc.field)
				}
				if msg := err.Error(); !strings.HasPrefix(msg, "grid: invalid geometry: grid "+string(tc.g.Code)) {
					t.Errorf("error %q does not name the field and the grid", msg)
				}
			}
			if ix.Len() != 0 {
				t.Errorf("a rejected Put left %d grids", ix.Len())
			}
		})
	}
}

func TestIndexPutGetRemove(t *testing.T) {
	ix := NewIndex()
	if b := ix.Bounds(); b != (orb.Bound{}) {
		t.Errorf("empty Bounds = %v", b)
	}
	a := Grid{Code: "51010400100101", Name: "a", Geometry: orb.Polygon{square(104, 30, 104.01, 30.01)}}
	if old, existed, err := ix.Put(a); err != nil || existed || old.Code != "" {
		t.Fatalf("first Put = %v, %v, %v", old, existed, err)
	}
	// The index keeps its own copy of the geometry.
	a.Geometry[0][1] = orb.Point{200, 200}
	g, err := ix.Get(a.Code)
	if err != nil || g.Name != "a" || g.Geometry[0][1] != (orb.Point{104.01, 30}) {
		t.Fatalf("Get = %v, %v; want the geometry as put", g, err)
	}
	// Upsert moves the grid.
	moved := Grid{Code: a.Code, Name: "a2", Geometry: orb.Polygon{square(105, 31, 105.01, 31.01)}}
	old, existed, err := ix.Put(moved)
	if err != nil || !existed || old.Name != "a" {
		t.Fatalf("second Put = %v, %v, %v; want the old grid", old.Name, existed, err)
	}
	if ix.Len() != 1 {
		t.Errorf("Len = %d after upsert; want 1", ix.Len())
	}
	if _, err := ix.Locate(orb.Point{104.005, 30.005}); !errors.Is(err, ErrNotFound) {
		t.Errorf("Locate at the old place = %v; want ErrNotFound", err)
	}
	if g, err := ix.Locate(orb.Point{105.005, 31.005}); err != nil || g.Name != "a2" {
		t.Errorf("Locate at the new place = %v, %v", g.Name, err)
	}
	if b := ix.Bounds(); b != (orb.Bound{Min: orb.Point{105, 31}, Max: orb.Point{105.01, 31.01}}) {
		t.Errorf("Bounds = %v", b)
	}
	if _, err := ix.Get("51010400100102"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get(unknown) = %v; want ErrNotFound", err)
	}
	if _, err := ix.Remove("51010400100102"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Remove(unknown) = %v; want ErrNotFound", err)
	}
	if g, err := ix.Remove(a.Code); err != nil || g.Name != "a2" {
		t.Fatalf("Remove = %v, %v", g.Name, err)
	}
	if _, err := ix.Get(a.Code); !errors.Is(err, ErrNotFound) || ix.Len() != 0 {
		t.Errorf("after Remove: Get = %v, Len = %d", err, ix.Len())
	}
	if _, err := ix.Locate(orb.Point{105.005, 31.005}); !errors.Is(err, ErrNotFound) {
		t.Errorf("Locate after Remove = %v; want ErrNotFound", err)
	}
	if _, err := ix.Division("510104"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Division after the last grid went = %v; want ErrNotFound", err)
	}
}

func TestIndexZeroValue(t *testing.T) {
	var ix Index
	if _, err := ix.Locate(orb.Point{104, 30}); !errors.Is(err, ErrNotFound) || ix.Len() != 0 {
		t.Fatalf("empty zero Index: Locate = %v, Len = %d", err, ix.Len())
	}
	g := Grid{Code: "51010400100101", Geometry: orb.Polygon{square(104, 30, 104.01, 30.01)}}
	if _, _, err := ix.Put(g); err != nil {
		t.Fatal(err)
	}
	ix.SetDivision(Division{Code: "510104", Name: "锦江区"})
	if d, err := ix.Division("510104"); err != nil || d.Name != "锦江区" {
		t.Errorf("Division = %+v, %v", d, err)
	}
	if o, err := ix.Outline("510104001001"); err != nil || len(o) != 1 {
		t.Errorf("Outline = %v, %v", o, err)
	}
	if got, err := ix.Locate(orb.Point{104.005, 30.005}); err != nil || got.Code != g.Code {
		t.Errorf("Locate = %v, %v", got.Code, err)
	}
}

func TestIndexEach(t *testing.T) {
	l := newLattice(t, 12, 9, 3, 3, 1)
	ix := l.index(t)
	want := make([]Code, len(l.grids))
	for i, g := range l.grids {
		want[i] = g.Code
	}
	slices.Sort(want)
	var got []Code
	ix.Each(func(g Grid) bool { got = append(got, g.Code); return true })
	if !slices.Equal(got, want) {
		t.Fatalf("Each order:\n got %v\nwant %v", got, want)
	}
	n := 0
	ix.Each(func(Grid) bool { n++; return n < 5 })
	if n != 5 {
		t.Errorf("Each went on after false: %d calls", n)
	}
	// The callback may write to the index.
	ix.Each(func(g Grid) bool {
		_, err := ix.Remove(g.Code)
		return err == nil
	})
	if ix.Len() != 0 {
		t.Errorf("Len = %d after removing every grid from Each", ix.Len())
	}
}

// TestIndexConcurrent runs readers against one writer; run it with -race.
func TestIndexConcurrent(t *testing.T) {
	l := newLattice(t, 10, 10, 5, 5, 2)
	ix := l.index(t)
	far := Grid{Code: "51010900100101", Geometry: orb.Polygon{square(110, 35, 110.01, 35.01)}}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < 300; i++ {
			if _, _, err := ix.Put(far); err != nil {
				t.Error(err)
				return
			}
			if _, err := ix.Remove(far.Code); err != nil {
				t.Error(err)
				return
			}
		}
		close(stop)
	}()
	inner := orb.Point{lon0 + 5.5*step, lat0 + 5.5*step}
	for r := 0; r < 3; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := ix.Locate(inner); err != nil {
					t.Errorf("Locate during writes: %v", err)
					return
				}
				if err := ix.Search(context.Background(), ix.Bounds(), func(Grid) bool { return true }); err != nil {
					t.Error(err)
					return
				}
				if _, err := ix.Outline("510104001001"); err != nil {
					t.Error(err)
					return
				}
				ix.Each(func(Grid) bool { return true })
				_ = ix.Divisions(Cell, "")
			}
		}()
	}
	wg.Wait()
	if ix.Len() != 100 {
		t.Errorf("Len = %d; want 100", ix.Len())
	}
}
