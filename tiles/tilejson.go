package tiles

import (
	"math"

	"github.com/paulmach/orb"
)

// TileJSON is a TileJSON 3.0.0 document describing one layer of the map.
type TileJSON struct {
	TileJSON     string        `json:"tilejson"`
	Name         string        `json:"name"`
	Scheme       string        `json:"scheme"`
	Tiles        []string      `json:"tiles"`
	MinZoom      int           `json:"minzoom"`
	MaxZoom      int           `json:"maxzoom"`
	Bounds       [4]float64    `json:"bounds"`
	Center       [3]float64    `json:"center"`
	VectorLayers []VectorLayer `json:"vector_layers"`
}

// VectorLayer describes a layer written in the tiles: its fields and the
// zooms at which it appears.
type VectorLayer struct {
	ID          string            `json:"id"`
	Description string            `json:"description"`
	MinZoom     int               `json:"minzoom"`
	MaxZoom     int               `json:"maxzoom"`
	Fields      map[string]string `json:"fields"`
}

// TileJSONMaxZoom is the maxzoom that TileJSON advertises.
const TileJSONMaxZoom = 22

// bounder is implemented by sources that know the box of their contents
// (parts.Registry, grid.Index).
type bounder interface{ Bounds() orb.Bound }

// TileJSON describes a layer ("parts", "grids" or "city") served at
// tilesURL (a template with {z}, {x} and {y}). An unknown layer gets a
// document without vector layers; Encode reports the error.
func (m *Map) TileJSON(layer, tilesURL string) TileJSON {
	tj := TileJSON{
		TileJSON:     "3.0.0",
		Name:         "citytwin " + layer,
		Scheme:       "xyz",
		Tiles:        []string{tilesURL},
		MinZoom:      0,
		MaxZoom:      TileJSONMaxZoom,
		VectorLayers: []VectorLayer{},
	}
	thin, grid := int(m.o.ThinZoom), int(m.o.GridZoom)
	partsLayers := []VectorLayer{
		{ID: LayerPartsAgg, Description: "components counted per cell (64x64 cells per tile)", MinZoom: 0, MaxZoom: thin - 1,
			Fields: map[string]string{"count": "Number", "m01": "Number: count of major class 01 (one field per major present, m01..m06)",
				"c0101": "Number: count of minor class 0101 (one field per class present)"}},
		{ID: LayerParts, Description: "components (部件); thinned by class priority below z" + itoa(int(m.o.DetailZoom)), MinZoom: thin, MaxZoom: TileJSONMaxZoom,
			Fields: map[string]string{"code": "String: 16-digit identification code", "class": "String: 4-digit minor class",
				"state": "String: 完好 破损 丢失 占用", "owner": "String: owner department code (权属单位)"}},
	}
	gridLayers := []VectorLayer{
		{ID: LayerDivisions, Description: "outlines of districts, streets and communities", MinZoom: 0, MaxZoom: grid - 1,
			Fields: map[string]string{"code": "String: 6, 9 or 12 digit division code", "name": "String", "level": "String: district, street or community"}},
		{ID: LayerGrids, Description: "unit grids (单元网格)", MinZoom: grid, MaxZoom: TileJSONMaxZoom,
			Fields: map[string]string{"code": "String: 14 or 15 digit grid code", "name": "String", "dept": "String: responsible department"}},
	}
	switch layer {
	case LayerParts:
		tj.VectorLayers = partsLayers
	case LayerGrids:
		tj.VectorLayers = gridLayers
	case LayerCity:
		tj.VectorLayers = append(partsLayers, gridLayers...)
	}
	b, ok := m.bounds()
	if !ok {
		tj.Bounds = [4]float64{-180, -maxLat, 180, maxLat}
		return tj
	}
	tj.Bounds = [4]float64{b.Min[0], b.Min[1], b.Max[0], b.Max[1]}
	c := b.Center()
	tj.Center = [3]float64{c[0], c[1], math.Min(12, TileJSONMaxZoom)}
	return tj
}

func itoa(v int) string {
	if v < 10 {
		return string(rune('0' + v))
	}
	return itoa(v/10) + string(rune('0'+v%10))
}

// bounds returns the box of the map's contents, if known.
func (m *Map) bounds() (orb.Bound, bool) {
	var out orb.Bound
	ok := false
	add := func(b orb.Bound) {
		if b.IsZero() {
			return
		}
		if !ok {
			out, ok = b, true
			return
		}
		out = out.Union(b)
	}
	for _, src := range []any{m.parts, m.grids} {
		if bd, is := src.(bounder); is {
			add(bd.Bounds())
		}
	}
	if !ok {
		m.pyr.mu.RLock()
		if m.pyr.hasBound {
			add(m.pyr.bound)
		}
		m.pyr.mu.RUnlock()
	}
	return out, ok
}
