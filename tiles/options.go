package tiles

import "citytwin/parts"

// MaxZoom is the highest zoom Encode accepts.
const MaxZoom = 24

// MaxBudget is the largest Options.MaxFeatures.
const MaxBudget = 1 << 20

// Extent is the tile coordinate extent of every layer (MVT default).
const Extent = 4096

// Layer names, as requested from Encode and as written in the tiles.
const (
	LayerParts     = "parts"     // components; requested and written
	LayerGrids     = "grids"     // unit grids; requested and written
	LayerCity      = "city"      // requested only: all layers in one tile
	LayerPartsAgg  = "parts_agg" // written below ThinZoom for "parts"
	LayerDivisions = "divisions" // written below GridZoom for "grids"
)

// Options tunes a Map. The zero value of a field takes its default; see
// DefaultOptions.
type Options struct {
	// Catalogue gives the class priorities used for thinning.
	// Default parts.DefaultCatalogue().
	Catalogue *parts.Catalogue
	// DetailZoom is the zoom from which every component is drawn, however
	// dense the tile. Default 15.
	DetailZoom uint32
	// ThinZoom is the lowest zoom that draws components (up to DetailZoom
	// a tile denser than MaxFeatures is thinned); below it the aggregate
	// layer is drawn. Default 12.
	ThinZoom uint32
	// GridZoom is the lowest zoom that draws grid polygons; below it the
	// outlines of divisions are drawn. Default 12.
	GridZoom uint32
	// MaxFeatures is the feature budget of a tile below DetailZoom: a tile
	// with more components is thinned to about this many. Default 8192:
	// one point in every 32 pixels of a 512 px tile; the densest tiles of
	// the 2M city are 480 KB before gzip and 120 KB after (16,384 made
	// them 970 and 230 KB, twice the encode and gzip time and twice the
	// map's parse and draw time, for points that cover one another at
	// z14). At most MaxBudget.
	MaxFeatures int
	// Buffer is the tile buffer in tile coordinates (of Extent). Default 64.
	Buffer int
	// Simplify is the Douglas-Peucker tolerance, in tile coordinates, for
	// lines and polygons below SimplifyMaxZoom. Default 4 (a quarter of a
	// pixel of a 256 px tile). Negative disables simplification.
	Simplify float64
	// SimplifyMaxZoom is the first zoom drawn without simplification. Default 18.
	SimplifyMaxZoom uint32
	// AggregateScanLimit bounds the scan that answers, below ThinZoom, a
	// filter the aggregate does not count (owner, dept, grid prefix, change
	// date). Default 250000.
	AggregateScanLimit int
	// CacheBytes bounds the tile cache. Default 256 MiB; negative disables it.
	CacheBytes int64
	// GzipLevel is the gzip level (klauspost/compress), 1 to 9. Default 2:
	// on city tiles it compresses about 2 % smaller than 1 and, in CPU
	// time, about 4 % faster.
	GzipLevel int
}

// aggCellsLog2 is log2 of the aggregate cells per tile side (64).
const aggCellsLog2 = 6

// DefaultOptions returns the defaults that zero fields of Options take.
func DefaultOptions() Options {
	return Options{
		Catalogue:          parts.DefaultCatalogue(),
		DetailZoom:         15,
		ThinZoom:           12,
		GridZoom:           12,
		MaxFeatures:        8192,
		Buffer:             64,
		Simplify:           4,
		SimplifyMaxZoom:    18,
		AggregateScanLimit: 250000,
		CacheBytes:         256 << 20,
		GzipLevel:          2,
	}
}

func (o Options) withDefaults() Options {
	d := DefaultOptions()
	if o.Catalogue == nil {
		o.Catalogue = d.Catalogue
	}
	if o.DetailZoom == 0 || o.DetailZoom > MaxZoom {
		o.DetailZoom = d.DetailZoom
	}
	if o.ThinZoom == 0 || o.ThinZoom > o.DetailZoom {
		o.ThinZoom = min(d.ThinZoom, o.DetailZoom)
	}
	if o.GridZoom == 0 || o.GridZoom > MaxZoom {
		o.GridZoom = d.GridZoom
	}
	if o.MaxFeatures <= 0 {
		o.MaxFeatures = d.MaxFeatures
	}
	o.MaxFeatures = min(o.MaxFeatures, MaxBudget)
	if o.Buffer <= 0 {
		o.Buffer = d.Buffer
	}
	if o.Simplify == 0 {
		o.Simplify = d.Simplify
	}
	if o.SimplifyMaxZoom == 0 {
		o.SimplifyMaxZoom = d.SimplifyMaxZoom
	}
	if o.AggregateScanLimit <= 0 {
		o.AggregateScanLimit = d.AggregateScanLimit
	}
	if o.CacheBytes == 0 {
		o.CacheBytes = d.CacheBytes
	}
	if o.GzipLevel < 1 || o.GzipLevel > 9 {
		o.GzipLevel = d.GzipLevel
	}
	return o
}
