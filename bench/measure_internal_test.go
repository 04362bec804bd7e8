package bench_test

import (
	"errors"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
)

func TestPercentile(t *testing.T) {
	ms := func(vs ...int) []time.Duration {
		out := make([]time.Duration, len(vs))
		for i, v := range vs {
			out[i] = time.Duration(v) * time.Millisecond
		}
		return out
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = 100 - i // 100 .. 1, unsorted
	}
	for name, tc := range map[string]struct {
		ds   []time.Duration
		q    float64
		want float64
	}{
		"empty":        {nil, 0.5, 0},
		"one":          {ms(7), 0.99, 7},
		"median odd":   {ms(3, 1, 2), 0.5, 2},
		"p50 of 1-100": {ms(hundred...), 0.5, 50},
		"p99 of 1-100": {ms(hundred...), 0.99, 99},
		"max":          {ms(hundred...), 1, 100},
	} {
		t.Run(name, func(t *testing.T) {
			if got := percentile(tc.ds, tc.q); got != tc.want {
				t.Errorf("percentile(%v, %v) = %v, want %v", tc.ds, tc.q, got, tc.want)
			}
		})
	}
}

func TestLists(t *testing.T) {
	b := orb.Bound{Min: orb.Point{103.85, 30.48}, Max: orb.Point{104.27, 30.84}}
	a, again := lists(b, 50), lists(b, 50)
	if len(a) != 6 {
		t.Fatalf("%d lists, want 6", len(a))
	}
	for i, l := range a {
		if !slices.Equal(l.tiles, again[i].tiles) {
			t.Errorf("%s: two calls give different tiles", l.name)
		}
		area := b
		if i >= 3 {
			area = boxAround(centre, denseHalfKm)
		}
		for _, tl := range l.tiles {
			if tl.Z != l.zoom || !tl.Bound().Intersects(area) {
				t.Errorf("%s: tile %v is not a z%d tile over %v", l.name, tl, l.zoom, area)
			}
		}
	}
}

func TestPass(t *testing.T) {
	list := make([]maptile.Tile, 40)
	for i := range list {
		list[i] = maptile.New(uint32(i), 0, 8)
	}
	t.Run("all served in order", func(t *testing.T) {
		var r run
		var calls atomic.Int64
		err := r.pass(list, 3, 0, nil, func(i int, tl maptile.Tile) (tileResult, error) {
			if tl != list[i] {
				t.Errorf("fn(%d, %v): wrong tile", i, tl)
			}
			calls.Add(1)
			time.Sleep(time.Millisecond)
			return tileResult{bytes: 10, features: 2}, nil
		})
		if err != nil || calls.Load() != 40 || r.tiles != 40 || len(r.lat) != 40 || r.bytes != 400 || r.features != 80 {
			t.Fatalf("err %v, calls %d, run %+v", err, calls.Load(), r)
		}
		if p := percentile(r.all, 0.5); p < 1 {
			t.Errorf("p50 %v ms, want >= 1 ms", p)
		}
	})
	t.Run("budget", func(t *testing.T) {
		var r run
		err := r.pass(list, 2, 5*time.Millisecond, nil, func(int, maptile.Tile) (tileResult, error) {
			time.Sleep(2 * time.Millisecond)
			return tileResult{}, nil
		})
		if err != nil || r.tiles >= 40 || r.tiles < 2 || len(r.lat) != r.tiles {
			t.Fatalf("err %v, %d tiles served, %d latencies", err, r.tiles, len(r.lat))
		}
	})
	t.Run("error", func(t *testing.T) {
		var r run
		boom := errors.New("boom")
		err := r.pass(list, 2, 0, selfCPU, func(i int, _ maptile.Tile) (tileResult, error) {
			if i == 5 {
				return tileResult{}, boom
			}
			return tileResult{}, nil
		})
		if !errors.Is(err, boom) {
			t.Fatalf("err %v, want boom", err)
		}
	})
}
