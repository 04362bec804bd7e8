package synth

import (
	"math"
	"math/rand/v2"
)

// density is the relative density of components over the square: a broad
// Gaussian at the centre, a few smaller sub-centres (satellite towns) and a
// low floor so that the edge is sparse but not empty. Coordinates are local
// metres.
type density struct {
	centres []bump
	floor   float64
}

type bump struct {
	x, y, amp float64
	inv2s2    float64 // 1 / (2 sigma^2)
}

func newDensity(half float64, rng *rand.Rand) *density {
	s := 2 * half
	d := &density{floor: 0.03}
	d.centres = append(d.centres, bump{amp: 1, inv2s2: 1 / (2 * sq(0.17*s))})
	n := 4 + rng.IntN(3)
	for i := 0; i < n; i++ {
		a := 2*math.Pi*float64(i)/float64(n) + rng.Float64()*0.8
		r := (0.22 + 0.15*rng.Float64()) * s
		sig := (0.035 + 0.025*rng.Float64()) * s
		d.centres = append(d.centres, bump{
			x: r * math.Cos(a), y: r * math.Sin(a),
			amp: 0.25 + 0.25*rng.Float64(), inv2s2: 1 / (2 * sq(sig)),
		})
	}
	return d
}

// at returns the density at local (x, y); the centre is about 1.
func (d *density) at(x, y float64) float64 {
	v := d.floor
	for _, b := range d.centres {
		v += b.amp * math.Exp(-(sq(x-b.x)+sq(y-b.y))*b.inv2s2)
	}
	return v
}

func sq(v float64) float64 { return v * v }
