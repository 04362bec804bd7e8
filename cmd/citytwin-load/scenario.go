package main

import (
	"hash/fnv"
	"math/rand/v2"
	"strconv"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
)

// scenario is one kind of request, with the target of the issue "HTTP API"
// on the 2,000,000-component city (zero fields: no target).
type scenario struct {
	Name   string
	MinRPS float64 // requests per second to reach
	MaxP99 float64 // p99 latency to stay under, milliseconds
	Gzip   bool    // always ask for gzip (tiles, as map clients do)
}

// knownScenarios returns the scenarios in the order "all" runs them.
func knownScenarios() []scenario {
	return []scenario{
		{Name: "nearest", MinRPS: 10000},
		{Name: "bbox", MinRPS: 5000, MaxP99: 20},
		{Name: "code", MinRPS: 20000},
		{Name: "tile", Gzip: true},
	}
}

// scenarioNamed returns the scenario called name.
func scenarioNamed(name string) (scenario, bool) {
	for _, sc := range knownScenarios() {
		if sc.Name == name {
			return sc, true
		}
	}
	return scenario{}, false
}

// rngFor is the random source of one purpose ("nearest", "codes", ...)
// under seed: the same seed and purpose always draw the same numbers.
func rngFor(seed uint64, purpose string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(purpose))
	return rand.New(rand.NewPCG(seed, h.Sum64()))
}

// targets returns n request paths (with query) of scenario name over c,
// drawn from seed; code targets are drawn from codes.
func targets(name string, c city, o options, codes []string, n int) []string {
	rng := rngFor(o.Seed, name)
	out := make([]string, n)
	k, limit := strconv.Itoa(o.K), strconv.Itoa(o.Limit)
	for i := range out {
		switch name {
		case "nearest":
			p := c.Point(rng)
			out[i] = "/parts/nearest?lon=" + coord(p[0]) + "&lat=" + coord(p[1]) + "&k=" + k
		case "bbox":
			b := c.Box(rng, o.MinSide, o.MaxSide)
			out[i] = "/parts?bbox=" + bboxParam(b) + "&limit=" + limit
		case "code":
			out[i] = "/parts/" + codes[rng.IntN(len(codes))]
		case "tile":
			t := maptile.At(c.Point(rng), maptile.Zoom(o.Zoom))
			out[i] = "/tiles/parts/" + strconv.Itoa(int(t.Z)) + "/" + strconv.FormatUint(uint64(t.X), 10) + "/" + strconv.FormatUint(uint64(t.Y), 10) + ".mvt"
		}
	}
	return out
}

// coord formats a longitude or latitude to 1e-6 degrees (about 0.1 m).
func coord(v float64) string { return strconv.FormatFloat(v, 'f', 6, 64) }

// bboxParam formats a box as minLon,minLat,maxLon,maxLat.
func bboxParam(b orb.Bound) string {
	return coord(b.Min[0]) + "," + coord(b.Min[1]) + "," + coord(b.Max[0]) + "," + coord(b.Max[1])
}
