// Package bench holds the end-to-end benchmarks of citytwin that need the
// whole synthetic city (2,000,000 components by default) and, for the
// comparison, PostgreSQL with PostGIS. It has no code of its own: the
// benchmarks are in its test files and run only with -bench.
//
// BenchmarkTiles generates the city with package synth, builds the
// in-memory registry, grid index and tile map, loads the same components
// into PostGIS (once: a rerun finds them by count and checksum in the
// schema citytwin_bench), and times the same lists of z12, z14 and z16
// tiles of the "parts" layer (random over the whole city, and over the
// 5 x 5 km dense centre around 104.06, 30.66) three ways:
//
//   - citytwin-cold: tiles.Map with the cache disabled (the count pyramid
//     is built once before, as at start-up);
//   - citytwin-warm: tiles.Map after a first pass filled its cache;
//   - postgis: postgis.Store.TileMVT, the ST_AsMVT query of Martin and
//     pg_tileserv, over the first CITYTWIN_BENCH_PG_TILES tiles of the same
//     list, with JIT off (PostgreSQL's JIT makes dense tiles about 3 times
//     slower; tile servers turn it off).
//
// Each sub-benchmark reports tiles/s, p50-ms and p99-ms per tile, CPU ms
// per tile (citytwin: this process; PostGIS: the postgres processes plus
// this one, read from /proc; unlike wall times it holds on a busy machine),
// bytes and features per tile; postgis adds how many times citytwin beats
// it on the same tiles: x-tps (citytwin cold tiles/s over PostGIS's),
// x-cold and x-warm (PostGIS mean latency over citytwin's), x-cpu (PostGIS
// CPU per tile over citytwin cold's), and, for a sample of 20 tiles, its
// features, gzipped size and gzip time. citytwin's tiles are gzipped
// (level 1) and, at z12-z14, thinned where a tile holds more than
// tiles.Options.MaxFeatures components (sparser tiles hold every one);
// PostGIS's are raw and hold every component. Tiles are requested by
// CITYTWIN_BENCH_WORKERS goroutines at once for both; ns/op is one pass over
// a list. A summary table is printed at the end.
//
// BenchmarkLargestTile encodes every tile over the city at z0..z14 and the
// z15..z18 tiles under the four densest z14 tiles, and reports the largest
// gzipped tile per zoom (zNN-KB), with PostGIS's size of the same tile
// from z12 up.
//
// Environment:
//
//	CITYTWIN_BENCH_N           components (default 2000000)
//	CITYTWIN_BENCH_TILES       tiles per list (default 1000)
//	CITYTWIN_BENCH_BUDGET      time budget of a citytwin cold pass (default 30s)
//	CITYTWIN_BENCH_PG_TILES    tiles per list for PostGIS, a prefix of the
//	                           list (default 200)
//	CITYTWIN_BENCH_PG_BUDGET   time budget of a PostGIS pass (default 40s)
//	CITYTWIN_BENCH_WORKERS     concurrent requests (default GOMAXPROCS)
//	CITYTWIN_PG_URL            PostgreSQL URL (default postgis.DefaultURL);
//	                           without a database the PostGIS parts are skipped
//
// A pass that runs out of its budget stops early; the figures then cover
// the tiles served, a prefix of the list. Run:
//
//	go test -run '^$' -bench . -benchtime 1x -timeout 30m ./bench
package bench
