// Package tiles encodes the city's components and unit grids as Mapbox
// Vector Tiles (MVT 2.1, extent 4096, buffer 64) for map frontends, without
// HTTP: a Map answers Encode(ctx, layer, z/x/y, filter) with the gzipped
// tile, a strong ETag and the feature counts, from an LRU cache bounded in
// bytes. The protobuf is written directly into reused buffers (no
// intermediate GeoJSON), geometry is clipped to the buffered tile and
// points outside it are dropped. Feature ids are the component's 16-digit
// code (the grid's 14/15-digit code) as an integer; features are written in
// code order, which keeps tiles byte-stable and compresses better.
//
// Content depends on the zoom, so that no tile of a city of millions of
// components grows beyond a few hundred kilobytes:
//
//   - z >= Options.DetailZoom (15): every component, layer "parts"
//     (attributes code, class, state, owner).
//   - Options.ThinZoom (12) <= z < DetailZoom: layer "parts", thinned by
//     density: a tile with at most Options.MaxFeatures components (those
//     whose representative point lies in it and that pass the filter)
//     carries every one of them, whatever its class. Only a denser tile is
//     thinned, by class priority (parts.ClassInfo.Priority): classes in
//     decreasing priority take the budget while it lasts, and the classes
//     that do not fit are sampled by a hash of the code at a power-of-two
//     share (or left out when their share rounds to nothing). The sample
//     depends only on the code, so it is the same in every tile and on
//     every refetch, and what a zoom keeps, the next zoom keeps too when
//     its budget allows. A thinned tile adds a "parts_agg" layer with one
//     point at its centre: count (its components), omitted (those the
//     "parts" layer leaves out) and omitted_c0101 / omitted_m01 (left out,
//     by class and major class). Once built, these tiles read an in-memory
//     index instead of scanning the source: every component bucketed by
//     z16 tile (points as 32-byte records sorted by class and code hash, so
//     a sampled class is a prefix of its run; lines and polygons by
//     reference in every bucket their box meets), filled by Build and kept
//     up to date by PartChanged. Filters on department, grid prefix or
//     change date, and tiles whose features reach the cap, scan the
//     source; a filter the count pyramid does not answer (owner,
//     department, grid prefix, change date) is counted exactly by a scan
//     before a tile over budget is thinned.
//   - z < ThinZoom: layer "parts_agg", one point per non-empty cell of a
//     64x64 grid of cells per tile, with the count and the per-major
//     ("m01") and per-class ("c0101") counts. The counts come from an
//     in-memory pyramid of per-cell counts (by class and state) that Build
//     fills once from a full scan and PartChanged updates in place: a
//     low-zoom tile never scans the components.
//   - Grids: layer "grids" (polygons, simplified with Douglas-Peucker in
//     tile coordinates below Options.SimplifyMaxZoom) from Options.GridZoom
//     (12) up; below it layer "divisions" with the outlines of the
//     communities (z11), streets (z9-10) or districts (z0-8).
//
// Filters (parts.Filter) apply at every zoom. The aggregate answers class,
// major and state filters exactly from its counts. Filters on owner,
// department, grid prefix or change date are answered below ThinZoom by a
// scan of the tile when it holds at most Options.AggregateScanLimit
// components, and refused with a *FilterError (ErrFilterUnsupported)
// otherwise. The grids layers honour only GridPrefix.
//
// PartChanged and GridChanged drop exactly the cached tiles, at every zoom
// 0..24 and for every filter, whose buffered box meets the old or the new
// geometry's box; a change log checked before caching makes sure that an
// Encode racing a change never puts a stale tile back.
package tiles
