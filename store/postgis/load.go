package postgis

import (
	"context"
	"fmt"
	"runtime"
	"time"

	"citytwin/grid"
	"citytwin/parts"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"
)

// partSelect reads parts in the order of partColumns, the geometry as WKB.
const partSelect = `SELECT code, class, coalesce(name, ''), coalesce(dept_supervisor, ''),
  coalesce(dept_owner, ''), coalesce(dept_maintainer, ''), coalesce(grid_code, ''),
  coalesce(state, ''), retired, surveyed, changed, coalesce(source, ''), coalesce(photo, ''),
  coalesce(note, ''), coalesce(material, ''), coalesce(label, ''), version, ST_AsBinary(geom),
  coalesce(source_name, ''), coalesce(source_id, '')
FROM parts`

// LoadParts calls fn with every part, retired ones included, streaming, as
// one query on one snapshot would see them, in storage order (over one
// connection the server may start the scan of a big table where a
// concurrent scan is). It stops at fn's first error and returns it; a row
// that does not decode gives a *RowError. The rows are decoded beside fn,
// over up to three connections of the pool depending on the processors
// (see loadparts.go and defaultLoad); one connection of the pool is left
// free, so fn may write to the store.
func (s *Store) LoadParts(ctx context.Context, fn func(p parts.Part) error) error {
	if err := s.check(); err != nil {
		return err
	}
	return s.loadParts(ctx, fn, defaultLoad(runtime.GOMAXPROCS(0)))
}

// scanParts decodes rows of partSelect and calls fn with each; it closes
// rows. A row that does not decode stops the scan with its *RowError, or,
// when bad is set, is handed to bad (which stops the scan by returning an
// error) and skipped.
func scanParts(rows pgx.Rows, fn func(p parts.Part) error, bad func(*RowError) error) error {
	defer rows.Close()
	var (
		p                       parts.Part
		code, class, state, src string
		surveyed, changed       *time.Time
		version                 int64
		geom                    []byte
		err                     error
	)
	for rows.Next() {
		p = parts.Part{}
		if err := rows.Scan(&code, &class, &p.Name, &p.Supervisor, &p.Owner, &p.Maintainer, &p.Grid,
			&state, &p.Retired, &surveyed, &changed, &src, &p.Photo, &p.Note, &p.Material, &p.Label,
			&version, &geom, &p.SourceName, &p.SourceID); err != nil {
			return wrap("load parts", err)
		}
		if p.Code, err = parts.ParseCode(code); err != nil {
			if err := badRow(bad, &RowError{Table: "parts", Key: code, Field: "code", Err: err}); err != nil {
				return err
			}
			continue
		}
		if p.Class, err = parts.ParseClass(class); err != nil {
			if err := badRow(bad, &RowError{Table: "parts", Key: code, Field: "class", Err: err}); err != nil {
				return err
			}
			continue
		}
		if p.State, err = parts.ParseState(state); err != nil {
			if err := badRow(bad, &RowError{Table: "parts", Key: code, Field: "state", Err: err}); err != nil {
				return err
			}
			continue
		}
		if src != "" {
			if p.Source, err = parts.ParseSource(src); err != nil {
				if err := badRow(bad, &RowError{Table: "parts", Key: code, Field: "source", Err: err}); err != nil {
					return err
				}
				continue
			}
		}
		p.Surveyed, p.Changed = day(surveyed), day(changed)
		if version < 0 {
			if err := badRow(bad, &RowError{Table: "parts", Key: code, Field: "version", Err: fmt.Errorf("negative version %d", version)}); err != nil {
				return err
			}
			continue
		}
		p.Version = uint64(version)
		if geom != nil {
			if p.Geometry, err = wkb.Unmarshal(geom); err != nil {
				if err := badRow(bad, &RowError{Table: "parts", Key: code, Field: "geom", Err: err}); err != nil {
					return err
				}
				continue
			}
		}
		if err := fn(p); err != nil {
			return err
		}
	}
	return wrap("load parts", rows.Err())
}

// LoadGrids calls fn with every unit grid, streaming; like LoadParts.
func (s *Store) LoadGrids(ctx context.Context, fn func(g grid.Grid) error) error {
	if err := s.check(); err != nil {
		return err
	}
	rows, err := s.pool.Query(ctx, gridSelect)
	if err != nil {
		return wrap("load grids", err)
	}
	return scanGrids(rows, fn, nil)
}

// gridSelect reads grids, the geometry as WKB.
const gridSelect = `SELECT code, coalesce(name, ''), coalesce(dept, ''), version, ST_AsBinary(geom) FROM grids`

// scanGrids decodes rows of gridSelect and calls fn with each; it closes
// rows. Bad rows go to bad as in scanParts.
func scanGrids(rows pgx.Rows, fn func(g grid.Grid) error, bad func(*RowError) error) error {
	defer rows.Close()
	var (
		code    string
		version int64
		geom    []byte
		err     error
	)
	for rows.Next() {
		var g grid.Grid
		if err := rows.Scan(&code, &g.Name, &g.Dept, &version, &geom); err != nil {
			return wrap("load grids", err)
		}
		if g.Code, err = grid.ParseCode(code); err != nil {
			if err := badRow(bad, &RowError{Table: "grids", Key: code, Field: "code", Err: err}); err != nil {
				return err
			}
			continue
		}
		if version < 0 {
			if err := badRow(bad, &RowError{Table: "grids", Key: code, Field: "version", Err: fmt.Errorf("negative version %d", version)}); err != nil {
				return err
			}
			continue
		}
		g.Version = uint64(version)
		if geom != nil {
			gm, err := wkb.Unmarshal(geom)
			if err != nil {
				if err := badRow(bad, &RowError{Table: "grids", Key: code, Field: "geom", Err: err}); err != nil {
					return err
				}
				continue
			}
			poly, ok := gm.(orb.Polygon)
			if !ok {
				if err := badRow(bad, &RowError{Table: "grids", Key: code, Field: "geom", Err: fmt.Errorf("a %s, not a Polygon", gm.GeoJSONType())}); err != nil {
					return err
				}
				continue
			}
			g.Geometry = poly
		}
		if err := fn(g); err != nil {
			return err
		}
	}
	return wrap("load grids", rows.Err())
}

// LoadDivisions calls fn with every district, street and community.
func (s *Store) LoadDivisions(ctx context.Context, fn func(d grid.Division) error) error {
	if err := s.check(); err != nil {
		return err
	}
	rows, err := s.pool.Query(ctx, `SELECT code, coalesce(name, ''), level FROM divisions ORDER BY code`)
	if err != nil {
		return wrap("load divisions", err)
	}
	defer rows.Close()
	for rows.Next() {
		var d grid.Division
		var level int16
		if err := rows.Scan(&d.Code, &d.Name, &level); err != nil {
			return wrap("load divisions", err)
		}
		if level < int16(grid.District) || level > int16(grid.Community) {
			return &RowError{Table: "divisions", Key: d.Code, Field: "level", Err: fmt.Errorf("level %d is not district (%d), street or community (%d)", level, grid.District, grid.Community)}
		}
		d.Level = grid.Level(level)
		if err := fn(d); err != nil {
			return err
		}
	}
	return wrap("load divisions", rows.Err())
}

// day is the UTC day of a date column; the zero time for NULL.
func day(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// badRow is what a scan does with a row that does not decode: stop with
// it when bad is nil, else whatever bad says (nil: skip the row).
func badRow(bad func(*RowError) error, e *RowError) error {
	if bad == nil {
		return e
	}
	return bad(e)
}
