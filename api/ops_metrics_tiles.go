package api

import (
	"github.com/prometheus/client_golang/prometheus"

	"citytwin/tiles"
)

// tileCacheCollector exports the tile cache's statistics (tiles.Map.Stats)
// in /metrics, from one snapshot a scrape.
type tileCacheCollector struct {
	tm    *tiles.Map
	descs []tileCacheMetric
}

// tileCacheMetric is one statistic of the tile cache.
type tileCacheMetric struct {
	desc  *prometheus.Desc
	kind  prometheus.ValueType
	value func(s *tiles.Stats) float64
}

func newTileCacheCollector(tm *tiles.Map) *tileCacheCollector {
	metric := func(name, help string, kind prometheus.ValueType, value func(s *tiles.Stats) float64) tileCacheMetric {
		return tileCacheMetric{
			desc:  prometheus.NewDesc(prometheus.BuildFQName("citytwin", "tile_cache", name), help, nil, nil),
			kind:  kind,
			value: value,
		}
	}
	return &tileCacheCollector{tm: tm, descs: []tileCacheMetric{
		metric("hits_total", "Tile requests answered from the cache.", prometheus.CounterValue,
			func(s *tiles.Stats) float64 { return float64(s.Hits) }),
		metric("misses_total", "Tile requests that encoded the tile.", prometheus.CounterValue,
			func(s *tiles.Stats) float64 { return float64(s.Misses) }),
		metric("shared_total", "Tile cache misses that waited for the same tile being encoded.", prometheus.CounterValue,
			func(s *tiles.Stats) float64 { return float64(s.Shared) }),
		metric("evictions_total", "Cached tiles evicted to stay within the cache size.", prometheus.CounterValue,
			func(s *tiles.Stats) float64 { return float64(s.Evictions) }),
		metric("invalidations_total", "Cached tiles dropped because an edit changed them.", prometheus.CounterValue,
			func(s *tiles.Stats) float64 { return float64(s.Dropped) }),
		metric("stale_total", "Encoded tiles not cached because an edit raced them.", prometheus.CounterValue,
			func(s *tiles.Stats) float64 { return float64(s.StaleBlocks) }),
		metric("bytes", "Bytes of the cached tiles.", prometheus.GaugeValue,
			func(s *tiles.Stats) float64 { return float64(s.Bytes) }),
		metric("entries", "Cached tiles, all layers and filters.", prometheus.GaugeValue,
			func(s *tiles.Stats) float64 { return float64(s.Entries) }),
		metric("in_flight", "Tiles being encoded now.", prometheus.GaugeValue,
			func(s *tiles.Stats) float64 { return float64(s.InFlight) }),
	}}
}

// Describe implements prometheus.Collector.
func (c *tileCacheCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, m := range c.descs {
		ch <- m.desc
	}
}

// Collect implements prometheus.Collector.
func (c *tileCacheCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.tm.Stats()
	for _, m := range c.descs {
		ch <- prometheus.MustNewConstMetric(m.desc, m.kind, m.value(&s))
	}
}
