package parts

import (
	"context"
	"errors"
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
		pg, err = r.page(context.Background(), world, Filter{}, 10, cursor{}, 0, in)
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
