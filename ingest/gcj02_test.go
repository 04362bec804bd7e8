package ingest

import (
	"math/rand/v2"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geo"
)

func TestGCJ02RoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	worst := 0.0
	for range 2000 {
		// mainland China, roughly
		w := orb.Point{75 + rng.Float64()*60, 18 + rng.Float64()*35}
		g := GCJ02FromWGS84(w)
		back := WGS84FromGCJ02(g)
		if d := geo.Distance(w, back); d > worst {
			worst = d
		}
	}
	if worst > 0.5 {
		t.Fatalf("worst round-trip error %.3f m, want < 0.5 m", worst)
	}
	t.Logf("worst round-trip error %.2g m", worst)
}

func TestGCJ02Offset(t *testing.T) {
	tests := map[string]struct {
		p        orb.Point
		min, max float64 // metres
	}{
		"Chengdu Tianfu Square": {orb.Point{104.0657, 30.6574}, 100, 700},
		"Chengdu Jinjiang":      {orb.Point{104.0830, 30.6560}, 100, 700},
		"Beijing Tiananmen":     {orb.Point{116.3975, 39.9087}, 100, 700},
		"Cambridge MA":          {orb.Point{-71.1168, 42.3707}, 0, 0},
		"Tokyo":                 {orb.Point{139.7671, 35.6812}, 0, 0},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			d := geo.Distance(tc.p, GCJ02FromWGS84(tc.p))
			if d < tc.min || d > tc.max {
				t.Fatalf("offset %.1f m, want %v..%v m", d, tc.min, tc.max)
			}
			if back := WGS84FromGCJ02(tc.p); tc.max == 0 && back != tc.p {
				t.Fatalf("outside China WGS84FromGCJ02 moved the point to %v", back)
			}
			t.Logf("offset %.1f m", d)
		})
	}
}
