package postgis

import (
	"context"
	"fmt"
)

// MaxZoom is the highest zoom TileMVT accepts.
const MaxZoom = 24

// Tile geometry parameters of TileMVT, those of pg_tileserv and Martin.
const (
	TileExtent = 4096 // tile coordinate extent
	TileBuffer = 64   // buffer around the tile, in tile coordinates
	// TileLayer is the name of the layer TileMVT writes.
	TileLayer = "parts"
)

// tileSQL is the tile query of Martin (and, apart from the LIMIT, of
// pg_tileserv): the features whose box meets the tile's envelope grown by
// the buffer, transformed to web mercator, clipped and quantised by
// ST_AsMVTGeom, encoded by ST_AsMVT. The filter box is the buffered envelope
// transformed to 4326, so the GIST index on geom serves it.
const tileSQL = `WITH b AS (
  SELECT ST_TileEnvelope($1::integer, $2::integer, $3::integer) AS env,
         ST_Transform(ST_TileEnvelope($1::integer, $2::integer, $3::integer, margin => $4::float8 / $5::integer), 4326) AS box
), mvtgeom AS (
  SELECT ST_AsMVTGeom(ST_Transform(p.geom, 3857), b.env, $5::integer, $4::integer, true) AS geom,
         p.code, p.class, p.state, p.dept_owner
  FROM parts p, b
  WHERE p.geom && b.box AND NOT p.retired
)
SELECT ST_AsMVT(mvtgeom.*, '` + TileLayer + `', $5::integer, 'geom') FROM mvtgeom`

// TileMVT returns the uncompressed Mapbox Vector Tile z/x/y (XYZ scheme) of
// the components in use, as PostGIS encodes it with ST_AsMVT: one layer
// "parts" with every component whose box meets the tile plus its buffer,
// with the properties code, class, state and dept_owner. An empty tile is
// an empty slice. A tile out of range is a *TileError.
func (s *Store) TileMVT(ctx context.Context, z, x, y int) ([]byte, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	if err := checkTile(z, x, y); err != nil {
		return nil, err
	}
	var data []byte
	err := s.pool.QueryRow(ctx, tileSQL, z, x, y, TileBuffer, TileExtent).Scan(&data)
	if err != nil {
		return nil, wrap(fmt.Sprintf("tile %d/%d/%d", z, x, y), err)
	}
	return data, nil
}

func checkTile(z, x, y int) error {
	if z < 0 || z > MaxZoom {
		return &TileError{Z: z, X: x, Y: y, Reason: fmt.Sprintf("zoom must be 0..%d", MaxZoom)}
	}
	n := 1 << z
	if x < 0 || x >= n || y < 0 || y >= n {
		return &TileError{Z: z, X: x, Y: y, Reason: fmt.Sprintf("x and y must be 0..%d at zoom %d", n-1, z)}
	}
	return nil
}
