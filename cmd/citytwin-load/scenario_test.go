package main

import (
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/paulmach/orb"
)

func testCity() city {
	return newCity(orb.Bound{Min: orb.Point{103.85, 30.48}, Max: orb.Point{104.27, 30.84}}, orb.Point{104.06, 30.66}, 5000)
}

// TestTargetsDeterministic checks that the same seed asks the same things
// and another seed other things.
func TestTargetsDeterministic(t *testing.T) {
	o := defaultOptions()
	codes := []string{"5101040101000001", "5101040101000002", "5101040101000003"}
	for _, name := range []string{"nearest", "bbox", "code", "tile"} {
		a := targets(name, testCity(), o, codes, 200)
		b := targets(name, testCity(), o, codes, 200)
		o2 := o
		o2.Seed = 2
		c := targets(name, testCity(), o2, codes, 200)
		if !slices.Equal(a, b) {
			t.Errorf("%s: the same seed gave other targets", name)
		}
		if slices.Equal(a, c) {
			t.Errorf("%s: seeds 1 and 2 gave the same targets", name)
		}
	}
}

// TestTargetsShape checks the targets' paths and that they fall in the city,
// around the centre.
func TestTargetsShape(t *testing.T) {
	o := defaultOptions()
	c := testCity()
	n := 5000
	num := func(q url.Values, k string) float64 {
		v, err := strconv.ParseFloat(q.Get(k), 64)
		if err != nil {
			t.Fatalf("%s=%q: %v", k, q.Get(k), err)
		}
		return v
	}
	var near int
	for _, p := range targets("nearest", c, o, nil, n) {
		u, err := url.Parse(p)
		if err != nil || u.Path != "/parts/nearest" || u.Query().Get("k") != "10" {
			t.Fatalf("nearest target %q", p)
		}
		pt := orb.Point{num(u.Query(), "lon"), num(u.Query(), "lat")}
		if !c.Bounds.Contains(pt) {
			t.Fatalf("nearest target %q outside the city %v", p, c.Bounds)
		}
		if math.Abs(pt[1]-c.Centre[1])*metresPerDegree < c.Sigma {
			near++
		}
	}
	// About 68 % of a normal distribution lies within one sigma.
	if f := float64(near) / float64(n); f < 0.62 || f > 0.74 {
		t.Errorf("%.2f of the points within one sigma of the centre in latitude, want about 0.68", f)
	}
	for _, p := range targets("bbox", c, o, nil, 500) {
		u, err := url.Parse(p)
		if err != nil || u.Path != "/parts" || u.Query().Get("limit") != "100" {
			t.Fatalf("bbox target %q", p)
		}
		f := strings.Split(u.Query().Get("bbox"), ",")
		if len(f) != 4 {
			t.Fatalf("bbox target %q", p)
		}
		minLat, _ := strconv.ParseFloat(f[1], 64)
		maxLat, _ := strconv.ParseFloat(f[3], 64)
		if side := (maxLat - minLat) * metresPerDegree; side < o.MinSide-1 || side > o.MaxSide+1 {
			t.Errorf("bbox target %q: side %.0f m, want %v to %v", p, side, o.MinSide, o.MaxSide)
		}
	}
	for _, p := range targets("tile", c, o, nil, 500) {
		if !strings.HasPrefix(p, "/tiles/parts/14/") || !strings.HasSuffix(p, ".mvt") {
			t.Fatalf("tile target %q", p)
		}
	}
}

// TestCityCentreOutside checks that targets centre on the box when the
// centre given lies outside it.
func TestCityCentreOutside(t *testing.T) {
	b := orb.Bound{Min: orb.Point{10, 50}, Max: orb.Point{10.2, 50.2}}
	c := newCity(b, orb.Point{104.06, 30.66}, 5000)
	if c.Centre != b.Center() {
		t.Errorf("centre %v, want the box's %v", c.Centre, b.Center())
	}
}
