package postgis

import (
	"context"
	"errors"
	"iter"
	"time"

	"citytwin/grid"
	"citytwin/parts"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/ewkb"
)

// SRID is the spatial reference of every stored geometry (WGS84 lon/lat).
const SRID = 4326

// CopyParts bulk-loads the parts of seq with COPY in one transaction, then
// runs ANALYZE, and returns the number of rows written. A code already in
// the table fails the whole load (unique violation) and writes nothing.
// Loading into an empty table drops the GIST index first and builds it once
// at the end (a sorted build, much faster than row by row). A part whose
// geometry cannot be encoded stops the load with a *RecordError.
func (s *Store) CopyParts(ctx context.Context, seq iter.Seq[parts.Part]) (int64, error) {
	if err := s.check(); err != nil {
		return 0, err
	}
	next, stop := iter.Pull(seq)
	defer stop()
	row := make([]any, len(partColumns))
	var bad error
	src := pgx.CopyFromFunc(func() ([]any, error) {
		p, ok := next()
		if !ok {
			return nil, nil
		}
		if _, err := partRow(p, row); err != nil {
			bad = err
			return nil, err
		}
		return row, nil
	})
	n, err := s.copy(ctx, "parts", "parts_geom", createPartsGeomIndex, partColumns, src)
	if bad != nil {
		return 0, bad
	}
	return n, err
}

// CopyGrids bulk-loads unit grids like CopyParts loads parts.
func (s *Store) CopyGrids(ctx context.Context, seq iter.Seq[grid.Grid]) (int64, error) {
	if err := s.check(); err != nil {
		return 0, err
	}
	next, stop := iter.Pull(seq)
	defer stop()
	row := make([]any, len(gridColumns))
	var bad error
	src := pgx.CopyFromFunc(func() ([]any, error) {
		g, ok := next()
		if !ok {
			return nil, nil
		}
		if _, err := gridRow(g, row); err != nil {
			bad = err
			return nil, err
		}
		return row, nil
	})
	n, err := s.copy(ctx, "grids", "grids_geom", createGridsGeomIndex, gridColumns, src)
	if bad != nil {
		return 0, bad
	}
	return n, err
}

// partRow fills row (a new one when nil) with the values of p in the order
// of partColumns, the geometry as EWKB.
func partRow(p parts.Part, row []any) ([]any, error) {
	geom, err := encodeGeometry(p.Geometry)
	if err != nil {
		return nil, &RecordError{Table: "parts", Code: p.Code.String(), Err: ErrGeometry, Cause: err}
	}
	if row == nil {
		row = make([]any, len(partColumns))
	}
	cl := p.Class
	if cl == 0 {
		cl = p.Code.Class()
	}
	row[0] = p.Code.String()
	row[1] = cl.String()
	row[2] = p.Name
	row[3] = p.Supervisor
	row[4] = p.Owner
	row[5] = p.Maintainer
	row[6] = p.Grid
	row[7] = p.State.String()
	row[8] = p.Retired
	row[9] = date(p.Surveyed)
	row[10] = date(p.Changed)
	row[11] = p.Source.String()
	row[12] = p.Photo
	row[13] = p.Note
	row[14] = p.Material
	row[15] = p.Label
	row[16] = int64(max(p.Version, 1))
	row[17] = geom
	row[18] = p.SourceName
	row[19] = p.SourceID
	return row, nil
}

// gridRow fills row (a new one when nil) with the values of g in the order
// of gridColumns.
func gridRow(g grid.Grid, row []any) ([]any, error) {
	var geom []byte
	err := errors.New("no geometry")
	if len(g.Geometry) > 0 {
		geom, err = encodeGeometry(g.Geometry)
	}
	if err != nil {
		return nil, &RecordError{Table: "grids", Code: string(g.Code), Err: ErrGeometry, Cause: err}
	}
	if row == nil {
		row = make([]any, len(gridColumns))
	}
	c := string(g.Code)
	row[0] = c
	row[1] = g.Name
	row[2] = g.Dept
	row[3] = prefix(c, 6)
	row[4] = prefix(c, 9)
	row[5] = prefix(c, 12)
	row[6] = int64(max(g.Version, 1))
	row[7] = geom
	return row, nil
}

// copy runs one COPY into table in a transaction, dropping and rebuilding
// the GIST index index when the table starts empty, then ANALYZEs it.
func (s *Store) copy(ctx context.Context, table, index, createIndex string, cols []string, src pgx.CopyFromSource) (int64, error) {
	var n int64
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var empty bool
		if err := tx.QueryRow(ctx, `SELECT NOT EXISTS (SELECT 1 FROM `+table+`)`).Scan(&empty); err != nil {
			return wrap("copy "+table, err)
		}
		if empty {
			if _, err := tx.Exec(ctx, `DROP INDEX IF EXISTS `+index); err != nil {
				return wrap("copy "+table+": drop index", err)
			}
		}
		var err error
		if n, err = tx.CopyFrom(ctx, pgx.Identifier{table}, cols, src); err != nil {
			return wrap("copy "+table, err)
		}
		if empty {
			if _, err := tx.Exec(ctx, createIndex); err != nil {
				return wrap("copy "+table+": create index", err)
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	if _, err := s.pool.Exec(ctx, `ANALYZE `+table); err != nil {
		return n, wrap("analyze "+table, err)
	}
	return n, nil
}

// encodeGeometry returns the little-endian EWKB of g with SRID.
func encodeGeometry(g orb.Geometry) ([]byte, error) {
	if g == nil {
		return nil, errors.New("no geometry")
	}
	return ewkb.Marshal(g, SRID)
}

// date is the day of t for a date column, or nil (NULL) for the zero time.
func date(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}

func prefix(s string, n int) string {
	if len(s) < n {
		return s
	}
	return s[:n]
}
