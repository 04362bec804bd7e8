package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"

	"github.com/paulmach/orb"
)

// metresPerDegree is the length of one degree of latitude (and of longitude
// at the equator), close enough for drawing targets.
const metresPerDegree = 111_320.0

// city is the area targets are drawn from: points fall around the dense
// centre (normal, sigma metres in each axis) and inside the bounds.
type city struct {
	Bounds orb.Bound
	Centre orb.Point
	Sigma  float64
}

// newCity is the city of bounds with targets around centre, or around the
// bounds' centre when centre lies outside them.
func newCity(bounds orb.Bound, centre orb.Point, sigma float64) city {
	if !bounds.Contains(centre) {
		centre = bounds.Center()
	}
	return city{Bounds: bounds, Centre: centre, Sigma: sigma}
}

// degrees returns the degrees of longitude and latitude of one metre at
// the centre.
func (c city) degrees() (lon, lat float64) {
	return 1 / (metresPerDegree * math.Cos(c.Centre[1]*math.Pi/180)), 1 / metresPerDegree
}

// Point draws a point around the centre, inside the bounds (uniform over
// the bounds in the unlikely case that 64 draws all fall outside).
func (c city) Point(rng *rand.Rand) orb.Point {
	dLon, dLat := c.degrees()
	for range 64 {
		p := orb.Point{
			c.Centre[0] + rng.NormFloat64()*c.Sigma*dLon,
			c.Centre[1] + rng.NormFloat64()*c.Sigma*dLat,
		}
		if c.Bounds.Contains(p) {
			return p
		}
	}
	return orb.Point{
		c.Bounds.Min[0] + rng.Float64()*(c.Bounds.Max[0]-c.Bounds.Min[0]),
		c.Bounds.Min[1] + rng.Float64()*(c.Bounds.Max[1]-c.Bounds.Min[1]),
	}
}

// Box draws a square box, side uniform from minSide to maxSide metres,
// centred on a Point.
func (c city) Box(rng *rand.Rand, minSide, maxSide float64) orb.Bound {
	p := c.Point(rng)
	side := minSide + rng.Float64()*(maxSide-minSide)
	dLon, dLat := c.degrees()
	hx, hy := side/2*dLon, side/2*dLat
	return orb.Bound{Min: orb.Point{p[0] - hx, p[1] - hy}, Max: orb.Point{p[0] + hx, p[1] + hy}}
}

// tileJSON is the part of the server's TileJSON the generator reads.
type tileJSON struct {
	Bounds []float64 `json:"bounds"`
}

// discoverBounds asks the server for the box of its components
// (GET /tiles/parts.json). A whole-world box means the server does not
// know it.
func discoverBounds(ctx context.Context, client *http.Client, base string) (orb.Bound, error) {
	u := base + "/tiles/parts.json"
	var tj tileJSON
	if err := getJSON(ctx, client, u, &tj); err != nil {
		return orb.Bound{}, err
	}
	if len(tj.Bounds) != 4 {
		return orb.Bound{}, fmt.Errorf("%w: %s has no bounds; pass --bbox", errDiscovery, u)
	}
	b := orb.Bound{Min: orb.Point{tj.Bounds[0], tj.Bounds[1]}, Max: orb.Point{tj.Bounds[2], tj.Bounds[3]}}
	if err := checkBound(b); err != nil {
		return orb.Bound{}, fmt.Errorf("%w: the bounds %v of %s: %v; pass --bbox", errDiscovery, tj.Bounds, u, err)
	}
	if b.Max[0]-b.Min[0] > 90 {
		return orb.Bound{}, fmt.Errorf("%w: %s gives the whole world as bounds (an empty city?); pass --bbox", errDiscovery, u)
	}
	return b, nil
}

// getJSON GETs u and decodes a 200 answer into v.
func getJSON(ctx context.Context, client *http.Client, u string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("%w: %v", errDiscovery, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("%w: %v", errDiscovery, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		return fmt.Errorf("%w: GET %s: %s: %s", errDiscovery, u, resp.Status, b)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return fmt.Errorf("%w: GET %s: %v", errDiscovery, u, err)
	}
	return nil
}
