package parts_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"citytwin/parts"

	"github.com/paulmach/orb"
)

// cityGen generates a deterministic synthetic city around Chengdu (104.06E
// 30.66N) over 40 x 40 km: points clustered with a dense centre, lines
// (guard rails, bridges) and polygons (car parks, green spaces, sites) with
// the catalogue's class mix.
type cityGen struct {
	rng      *rand.Rand
	classes  []parts.ClassInfo
	cum      []float64
	clusters []orb.Point
	serial   map[[2]uint32]uint32
}

var (
	genCentre   = orb.Point{104.06, 30.66}
	genHalfLon  = 20000 / (111320 * math.Cos(30.66*math.Pi/180))
	genHalfLat  = 20000 / 110574.0
	genCounties = []uint32{510104, 510105, 510106, 510107, 510108, 510112}
	genRoads    = []string{"人民南路", "人民北路", "蜀都大道", "天府大道", "一环路", "二环路", "三环路", "春熙路", "红星路", "建设路",
		"府河路", "锦江路", "青年路", "东大街", "西大街", "顺城街", "盐市口", "骡马市", "玉林路", "科华路",
		"武侯祠大街", "金沙路", "草堂路", "光华大道", "成温路", "羊西线", "蜀汉路", "抚琴路", "沙湾路", "驷马桥路"}
	genMaterials = []string{"铸铁", "复合材料", "混凝土", "钢", "不锈钢", "木"}
)

func newCityGen(seed uint64, cat *parts.Catalogue) *cityGen {
	g := &cityGen{rng: rand.New(rand.NewPCG(seed, 0x5eed)), classes: cat.All(), serial: map[[2]uint32]uint32{}}
	total := 0.0
	for _, ci := range g.classes {
		w := float64(ci.Weight)
		switch ci.Kind {
		case parts.Line:
			w *= 2.2
		case parts.Polygon:
			w *= 1.7
		}
		total += w
		g.cum = append(g.cum, total)
	}
	for i := range g.cum {
		g.cum[i] /= total
	}
	for range 300 {
		g.clusters = append(g.clusters, g.uniform())
	}
	return g
}

func (g *cityGen) uniform() orb.Point {
	return orb.Point{genCentre[0] + (g.rng.Float64()*2-1)*genHalfLon, genCentre[1] + (g.rng.Float64()*2-1)*genHalfLat}
}

// point draws a location: 35% uniform, 35% around the centre (sigma 4 km),
// 30% in 300 neighbourhood clusters (sigma 200 m).
func (g *cityGen) point() orb.Point {
	var p orb.Point
	switch u := g.rng.Float64(); {
	case u < 0.35:
		p = g.uniform()
	case u < 0.70:
		p = orb.Point{genCentre[0] + g.rng.NormFloat64()*genHalfLon/5, genCentre[1] + g.rng.NormFloat64()*genHalfLat/5}
	default:
		c := g.clusters[g.rng.IntN(len(g.clusters))]
		p = orb.Point{c[0] + g.rng.NormFloat64()*genHalfLon/100, c[1] + g.rng.NormFloat64()*genHalfLat/100}
	}
	p[0] = math.Max(genCentre[0]-genHalfLon, math.Min(genCentre[0]+genHalfLon, p[0]))
	p[1] = math.Max(genCentre[1]-genHalfLat, math.Min(genCentre[1]+genHalfLat, p[1]))
	return p
}

const degPerM = 1 / 111000.0

func (g *cityGen) geometry(k parts.Kind, p orb.Point) orb.Geometry {
	switch k {
	case parts.Line:
		n := 2 + g.rng.IntN(5)
		l := make(orb.LineString, 0, n)
		l = append(l, p)
		a := g.rng.Float64() * 2 * math.Pi
		for i := 1; i < n; i++ {
			a += (g.rng.Float64() - 0.5) * 0.6
			step := (20 + g.rng.Float64()*60) * degPerM
			p = orb.Point{p[0] + math.Cos(a)*step, p[1] + math.Sin(a)*step}
			l = append(l, p)
		}
		return l
	case parts.Polygon:
		w := (30 + g.rng.Float64()*120) * degPerM
		h := (30 + g.rng.Float64()*120) * degPerM
		return orb.Polygon{{p, {p[0] + w, p[1]}, {p[0] + w, p[1] + h}, {p[0], p[1] + h}, p}}
	}
	return p
}

// next returns the next part.
func (g *cityGen) next() parts.Part {
	u := g.rng.Float64()
	i := 0
	for i < len(g.cum)-1 && g.cum[i] < u {
		i++
	}
	ci := g.classes[i]
	county := genCounties[g.rng.IntN(len(genCounties))]
	key := [2]uint32{county, uint32(ci.Class)}
	g.serial[key]++
	code, err := parts.NewCode(county, ci.Class, g.serial[key])
	if err != nil {
		panic(err)
	}
	pt := g.point()
	road := genRoads[g.rng.IntN(len(genRoads))]
	cx := int((pt[0] - genCentre[0] + genHalfLon) / (2 * genHalfLon) * 199.999)
	cy := int((pt[1] - genCentre[1] + genHalfLat) / (2 * genHalfLat) * 199.999)
	p := parts.Part{
		Code:       code,
		Class:      ci.Class,
		Name:       road + ci.Name,
		Supervisor: ci.Super,
		Owner:      ci.Owner,
		Maintainer: ci.Owner + "-maint",
		Grid:       fmt.Sprintf("%06d%03d%03d%02d", county, 1+cx/10, 1+cy/10, 1+cx%10+10*(cy%2)),
		Surveyed:   time.Date(2015+g.rng.IntN(5), 1, 1+g.rng.IntN(365), 0, 0, 0, 0, time.UTC),
		Changed:    time.Date(2020+g.rng.IntN(6), 1, 1+g.rng.IntN(365), 0, 0, 0, 0, time.UTC),
		Source:     parts.Source(g.rng.IntN(4)),
		Material:   genMaterials[g.rng.IntN(len(genMaterials))],
		Geometry:   g.geometry(ci.Kind, pt),
	}
	switch s := g.rng.IntN(100); {
	case s < 5:
		p.State = parts.Damaged
	case s < 7:
		p.State = parts.Missing
	case s < 8:
		p.State = parts.Occupied
	}
	switch ci.Class {
	case 203, 406, 602:
		p.Label = road + "站"
	}
	if g.rng.IntN(100) < 3 {
		p.Photo = "photos/" + code.String() + ".jpg"
	}
	if g.rng.IntN(100) < 1 {
		p.Note = "巡查发现需复核"
	}
	return p
}
