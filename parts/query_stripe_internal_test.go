package parts

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/paulmach/orb"
)

// stripeCity builds a registry of n points on a 0.001-degree lattice.
func stripeCity(t testing.TB, n int) *Registry {
	t.Helper()
	b := NewBuilder(nil, n)
	side := 1
	for side*side < n {
		side++
	}
	for i := range n {
		c, err := NewCode(510104, 101, uint32(i+1))
		if err != nil {
			t.Fatal(err)
		}
		pt := orb.Point{104 + float64(i%side)*0.001, 30 + float64(i/side)*0.001}
		if err := b.Add(Part{Code: c, Version: 1, Geometry: pt}); err != nil {
			t.Fatal(err)
		}
	}
	return b.Build()
}

// TestExactTestsOutsideTheLock blocks the exact test of a search and
// writes meanwhile: the write must not wait for the search.
func TestExactTestsOutsideTheLock(t *testing.T) {
	r := stripeCity(t, 3*stripeSize)
	world := orb.Bound{Min: orb.Point{-180, -90}, Max: orb.Point{180, 90}}
	if n := len(r.stripes(r.Bounds())); n < 3 {
		t.Fatalf("%d stripes for %d parts, want at least 3", n, r.Len())
	}
	entered, release := make(chan struct{}), make(chan struct{})
	first := true
	in := func(pt orb.Point, g orb.Geometry) bool {
		if first {
			first = false
			close(entered)
			<-release
		}
		return true
	}
	done := make(chan error, 1)
	var pg Page
	go func() {
		var err error
		pg, err = r.page(context.Background(), world, Filter{}, 10, cursor{}, 0, exactTest{in: in})
		done <- err
	}()
	<-entered
	c, _ := NewCode(510104, 101, 1)
	p, err := r.Get(c)
	if err != nil {
		t.Fatal(err)
	}
	wrote := make(chan struct{})
	go func() {
		p.Version++
		p.Name = "moved during a search"
		r.Put(p)
		close(wrote)
	}()
	select {
	case <-wrote:
	case <-time.After(5 * time.Second):
		t.Fatal("a write waits for a search's exact tests")
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if pg.NumberMatched != r.Len() || len(pg.Parts) != 10 {
		t.Fatalf("matched %d of %d, page of %d", pg.NumberMatched, r.Len(), len(pg.Parts))
	}
}

// TestStripedSearchCancels checks that a search returns the context's
// error between stripes and within one.
func TestStripedSearchCancels(t *testing.T) {
	r := stripeCity(t, 2*stripeSize)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := r.Within(ctx, r.Bounds().ToPolygon(), Filter{}, 10, "")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Within with a cancelled context: %v", err)
	}
}

// TestWritesDuringASearch writes while a search of several stripes waits
// in an exact test outside the lock: the parts retired, moved out of the
// box or changed out of the filter meanwhile are tested again under the
// last lock and left out of the page, of views and of parts alike. Then
// writes between the views and the parts of Search (partsOf) are caught
// the same way.
func TestWritesDuringASearch(t *testing.T) {
	r := stripeCity(t, 3*stripeSize)
	box := r.Bounds()
	code := func(i uint32) Code {
		c, err := NewCode(510104, 101, i)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	f := Filter{States: []State{Intact}}
	for _, views := range []bool{true, false} {
		r := stripeCity(t, 3*stripeSize)
		entered, release := make(chan struct{}), make(chan struct{})
		first := true
		test := inBox(box)
		in := func(pt orb.Point, g orb.Geometry) bool {
			if first {
				first = false
				close(entered)
				<-release
			}
			return test(pt, g)
		}
		type result struct {
			codes   []Code
			matched int
			err     error
		}
		done := make(chan result, 1)
		go func() {
			var res result
			if views {
				vp, _, err := r.viewPage(context.Background(), box, f, 10, cursor{}, 0, exactTest{in: in}, nil)
				for _, v := range vp.Views {
					res.codes = append(res.codes, v.Code())
				}
				res.matched, res.err = vp.NumberMatched, err
			} else {
				pg, err := r.page(context.Background(), box, f, 10, cursor{}, 0, exactTest{in: in})
				for _, p := range pg.Parts {
					res.codes = append(res.codes, p.Code)
				}
				res.matched, res.err = pg.NumberMatched, err
			}
			done <- res
		}()
		<-entered
		write := func(i uint32, change func(p *Part)) {
			p, err := r.Get(code(i))
			if err != nil {
				t.Fatal(err)
			}
			change(&p)
			p.Version++
			r.Put(p)
		}
		write(1, func(p *Part) { p.Retired = true })
		write(2, func(p *Part) { p.Geometry = orb.Point{0, 0} })
		write(3, func(p *Part) { p.State = Damaged })
		write(4, func(p *Part) { p.Name = "renamed, still in" })
		close(release)
		res := <-done
		if res.err != nil {
			t.Fatal(res.err)
		}
		// The page is cut at 10 before the last tests: 7 parts are left.
		var want []Code
		for i := uint32(4); i <= 10; i++ {
			want = append(want, code(i))
		}
		if !slices.Equal(res.codes, want) || res.matched != 3*stripeSize {
			t.Fatalf("views %v: page %v (matched %d), want %v (matched %d)", views, res.codes, res.matched, want, 3*stripeSize)
		}
	}

	// Writes between the views and the parts of Search.
	m := r.compile(f)
	ex := boxTest(box)
	vp, _, err := r.viewPage(context.Background(), box, f, 10, cursor{}, 0, ex, nil)
	if err != nil || len(vp.Views) != 10 {
		t.Fatalf("%d views, %v", len(vp.Views), err)
	}
	for i, change := range []func(p *Part){
		func(p *Part) { p.Retired = true },
		func(p *Part) { p.Geometry = orb.Point{0, 0} },                               // moved out
		func(p *Part) { p.State = Missing },                                          // filtered out
		func(p *Part) { p.Geometry = orb.Point{104.0005, 30.0005} },                  // moved within
		func(p *Part) { p.Geometry = orb.LineString{{103, 29}, {105, 31}} },          // a line across
		func(p *Part) { p.Geometry = orb.Polygon{{{0, 0}, {1, 0}, {1, 1}, {0, 0}}} }, // a polygon outside
	} {
		p, err := r.Get(vp.Views[i].Code())
		if err != nil {
			t.Fatal(err)
		}
		change(&p)
		p.Version++
		r.Put(p)
	}
	var got []Code
	for _, p := range r.partsOf(vp.Views, m, ex) {
		got = append(got, p.Code)
	}
	want := []Code{vp.Views[3].Code(), vp.Views[4].Code(), vp.Views[6].Code(), vp.Views[7].Code(), vp.Views[8].Code(), vp.Views[9].Code()}
	if !slices.Equal(got, want) {
		t.Fatalf("parts after writes %v, want %v", got, want)
	}
}
