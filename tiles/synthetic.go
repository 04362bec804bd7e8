package tiles

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"strconv"
	"time"

	"citytwin/parts"

	"github.com/paulmach/orb"
)

// Synthetic describes a synthetic city of components for benchmarks: N
// components clustered around Center over a square of SizeKm, the
// benchmark data that a PostGIS ST_AsMVT comparison loads too (see
// WriteSyntheticCSV).
type Synthetic struct {
	N      int       // number of components
	Seed   uint64    // random seed; the same seed gives the same city
	Center orb.Point // default 104.06E 30.66N (Chengdu)
	SizeKm float64   // side of the square, default 40
}

// syntheticCounties are the county codes of the five central districts of
// Chengdu, one per sector around the centre.
var syntheticCounties = [5]uint32{510104, 510105, 510106, 510107, 510108}

// Each generates the components in a fixed order and calls fn for each
// until fn returns false. A quarter are spread evenly, the rest fall in 400
// gaussian clusters (sigma 0.3-1.3 km for a 40 km city, sizes falling as
// 1/sqrt(rank), centres concentrated towards the middle): at 2,000,000
// components the densest z15 tile (about 1.1 km2) holds about 19,000, the
// density of a dense downtown (a street tree every 6 m, covers every 40 m). Classes follow the catalogue weights
// (ClassInfo.Weight) with the class's geometry kind (points; 30-60 m
// lines; 40x40 m polygons); states are 92 % intact.
func (s Synthetic) Each(cat *parts.Catalogue, fn func(p parts.Part) bool) error {
	if cat == nil {
		cat = parts.DefaultCatalogue()
	}
	if s.Center == (orb.Point{}) {
		s.Center = orb.Point{104.06, 30.66}
	}
	if s.SizeKm <= 0 {
		s.SizeKm = 40
	}
	rng := rand.New(rand.NewPCG(s.Seed, 0x5eed))
	kmLat := 1 / 111.32
	kmLon := 1 / (111.32 * math.Cos(s.Center[1]*math.Pi/180))
	half := s.SizeKm / 2
	classes := cat.All()
	var cum []int
	total := 0
	for _, ci := range classes {
		total += max(ci.Weight, 0)
		cum = append(cum, total)
	}
	if total == 0 {
		return fmt.Errorf("tiles: synthetic city: the catalogue has no class weights")
	}
	type cluster struct{ x, y, sigma, w float64 }
	clusters := make([]cluster, 400)
	wsum := 0.0
	for i := range clusters {
		c := &clusters[i]
		c.x = math.Max(-half, math.Min(half, rng.NormFloat64()*s.SizeKm/6))
		c.y = math.Max(-half, math.Min(half, rng.NormFloat64()*s.SizeKm/6))
		c.sigma = (0.3 + rng.Float64()) * s.SizeKm / 40
		c.w = 1 / math.Pow(float64(i+1), 0.5)
		wsum += c.w
	}
	ccum := make([]float64, len(clusters))
	acc := 0.0
	for i, c := range clusters {
		acc += c.w / wsum
		ccum[i] = acc
	}
	serials := make(map[uint64]uint32)
	day := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < s.N; i++ {
		var x, y float64
		if rng.Float64() < 0.25 {
			x, y = (rng.Float64()*2-1)*half, (rng.Float64()*2-1)*half
		} else {
			u := rng.Float64()
			k := 0
			for lo, hi := 0, len(ccum)-1; lo <= hi; {
				mid := (lo + hi) / 2
				if ccum[mid] < u {
					lo = mid + 1
				} else {
					k, hi = mid, mid-1
				}
			}
			c := clusters[k]
			x = math.Max(-half, math.Min(half, c.x+rng.NormFloat64()*c.sigma))
			y = math.Max(-half, math.Min(half, c.y+rng.NormFloat64()*c.sigma))
		}
		r := rng.IntN(total)
		ci := classes[0]
		for j, c := range cum {
			if r < c {
				ci = classes[j]
				break
			}
		}
		sector := int((math.Atan2(y, x) + math.Pi) / (2 * math.Pi) * 5)
		county := syntheticCounties[min(sector, 4)]
		sk := uint64(county)<<16 | uint64(ci.Class)
		serials[sk]++
		if serials[sk] > 999999 {
			return fmt.Errorf("tiles: synthetic city: more than 999999 components of class %s in county %06d", ci.Class, county)
		}
		code, err := parts.NewCode(county, ci.Class, serials[sk])
		if err != nil {
			return err
		}
		lon, lat := s.Center[0]+x*kmLon, s.Center[1]+y*kmLat
		var g orb.Geometry = orb.Point{lon, lat}
		switch ci.Kind {
		case parts.Line:
			l := (0.03 + rng.Float64()*0.03)
			a := rng.Float64() * math.Pi
			g = orb.LineString{{lon, lat}, {lon + math.Cos(a)*l*kmLon, lat + math.Sin(a)*l*kmLat}}
		case parts.Polygon:
			d := 0.04
			g = orb.Polygon{{{lon, lat}, {lon + d*kmLon, lat}, {lon + d*kmLon, lat + d*kmLat}, {lon, lat + d*kmLat}, {lon, lat}}}
		}
		st := parts.Intact
		switch v := rng.IntN(100); {
		case v >= 98:
			st = parts.Occupied
		case v >= 96:
			st = parts.Missing
		case v >= 92:
			st = parts.Damaged
		}
		p := parts.Part{Code: code, Class: ci.Class, Owner: ci.Owner, Supervisor: ci.Super, State: st,
			Surveyed: day, Changed: day, Geometry: g}
		if !fn(p) {
			return nil
		}
	}
	return nil
}

// WriteSyntheticCSV writes the city as CSV for PostgreSQL COPY ... WITH
// (FORMAT csv, HEADER): code,class,state,owner,geom with geom in EWKT
// (SRID=4326, quoted), the same components that Each generates.
func (s Synthetic) WriteSyntheticCSV(w io.Writer, cat *parts.Catalogue) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	if _, err := bw.WriteString("code,class,state,owner,geom\n"); err != nil {
		return err
	}
	var b []byte
	var werr error
	err := s.Each(cat, func(p parts.Part) bool {
		b = append(b[:0], p.Code.String()...)
		b = append(b, ',')
		b = append(b, p.Class.String()...)
		b = append(b, ',')
		b = append(b, p.State.String()...)
		b = append(b, ',')
		b = append(b, p.Owner...)
		b = append(b, ",\"SRID=4326;"...)
		b = appendWKT(b, p.Geometry)
		b = append(b, "\"\n"...)
		_, werr = bw.Write(b)
		return werr == nil
	})
	if err != nil {
		return err
	}
	if werr != nil {
		return werr
	}
	return bw.Flush()
}

func appendCoords(b []byte, pts []orb.Point) []byte {
	for i, p := range pts {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendFloat(b, p[0], 'f', -1, 64)
		b = append(b, ' ')
		b = strconv.AppendFloat(b, p[1], 'f', -1, 64)
	}
	return b
}

func appendWKT(b []byte, g orb.Geometry) []byte {
	switch g := g.(type) {
	case orb.Point:
		b = append(b, "POINT("...)
		b = appendCoords(b, []orb.Point{g})
	case orb.LineString:
		b = append(b, "LINESTRING("...)
		b = appendCoords(b, g)
	case orb.Polygon:
		b = append(b, "POLYGON("...)
		for i, r := range g {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '(')
			b = appendCoords(b, r)
			b = append(b, ')')
		}
		return append(b, ')')
	}
	return append(b, ')')
}
