package postgis

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"math"
	"strings"

	"citytwin/grid"
	"citytwin/parts"

	"github.com/jackc/pgx/v5"
)

// insertSQL is the insert of one row of table with cols (the last is the
// geometry, sent as EWKB) that does nothing when the code exists: the
// caller counts the rows it wrote.
func insertSQL(table string, cols []string) string {
	var vals []string
	for i, c := range cols {
		vals = append(vals, param(c, i+1))
	}
	return "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES (" + strings.Join(vals, ", ") +
		") ON CONFLICT (code) DO NOTHING"
}

// updateSQL is the update of one row of table with cols ($1 the code)
// that only happens when the stored version is the one before the new one
// (the version column's parameter): a version stored as 0 counts as 1,
// the version the twin gives a part loaded without one.
func updateSQL(table string, cols []string) string {
	var sets []string
	vp := ""
	for i, c := range cols {
		if c == "version" {
			vp = fmt.Sprintf("$%d", i+1)
		}
		if c != "code" {
			sets = append(sets, c+" = "+param(c, i+1))
		}
	}
	return "UPDATE " + table + " SET " + strings.Join(sets, ", ") +
		" WHERE code = $1 AND coalesce(nullif(version, 0), 1) = " + vp + "::bigint - 1"
}

func param(col string, i int) string {
	if col == "geom" {
		return fmt.Sprintf("ST_GeomFromEWKB($%d::bytea)", i)
	}
	return fmt.Sprintf("$%d", i)
}

var (
	insertParts = insertSQL("parts", partColumns)
	updateParts = updateSQL("parts", partColumns)
	insertGrids = insertSQL("grids", gridColumns)
	updateGrids = updateSQL("grids", gridColumns)
)

// PutParts writes parts in one transaction: all of them, or none. Each
// write is conditional on the version the writer read, so that two
// replicas (or a replica and a GIS user) never overwrite each other's
// edits: a part at version 1 is inserted, and fails with an error wrapping
// parts.ErrExists when its code is stored already; a part at version n > 1
// replaces the stored one only if that is at version n-1, and fails with
// an error wrapping parts.ErrVersionMismatch otherwise (or when the part
// is gone). A part whose geometry cannot be encoded is a *RecordError.
// Every error names the part.
func (s *Store) PutParts(ctx context.Context, ps []parts.Part) error {
	if err := s.check(); err != nil {
		return err
	}
	if len(ps) == 0 {
		return nil
	}
	rows := make([][]any, len(ps))
	keys := make([]versioned, len(ps))
	for i, p := range ps {
		row, err := partRow(p, nil)
		if err != nil {
			return err
		}
		rows[i], keys[i] = row, versioned{code: p.Code.String(), version: max(p.Version, 1)}
	}
	return s.sendConditional(ctx, "parts", insertParts, updateParts, rows, keys, parts.ErrExists, parts.ErrVersionMismatch)
}

// PutGrids writes unit grids in one transaction, each on condition of its
// version like PutParts: errors wrap grid.ErrExists and
// grid.ErrVersionMismatch.
func (s *Store) PutGrids(ctx context.Context, gs []grid.Grid) error {
	if err := s.check(); err != nil {
		return err
	}
	if len(gs) == 0 {
		return nil
	}
	rows := make([][]any, len(gs))
	keys := make([]versioned, len(gs))
	for i, g := range gs {
		row, err := gridRow(g, nil)
		if err != nil {
			return err
		}
		rows[i], keys[i] = row, versioned{code: string(g.Code), version: max(g.Version, 1)}
	}
	return s.sendConditional(ctx, "grids", insertGrids, updateGrids, rows, keys, grid.ErrExists, grid.ErrVersionMismatch)
}

// versioned is the key and new version of one conditional write.
type versioned struct {
	code    string
	version uint64
}

// sendConditional writes rows, one conditional write per key (insert at
// version 1, update from the version before), in one transaction and one
// pipeline, and rolls it back when a write found its condition false: a
// *ConflictError wrapping errExists (an insert) or errMismatch (an update)
// that names the record and the stored version.
func (s *Store) sendConditional(ctx context.Context, table, insert, update string, rows [][]any, keys []versioned, errExists, errMismatch error) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var p pipeline
		for i, k := range keys {
			q := insert
			if k.version > 1 {
				q = update
			}
			p.queueCond("put "+table+" "+k.code, q, rows[i], func() error {
				ce := &ConflictError{Table: table, Key: k.code, Err: errExists}
				if k.version > 1 {
					ce.Err, ce.Expected = errMismatch, k.version-1
					var err error
					if ce.Stored, err = storedVersion(ctx, tx, table, k.code); err != nil {
						return err
					}
				}
				return ce
			})
		}
		return p.run(ctx, tx)
	})
}

// storedVersion returns the version of the row with code, 0 when there is
// none (a stored 0 reads as 1).
func storedVersion(ctx context.Context, tx pgx.Tx, table, code string) (uint64, error) {
	var v int64
	err := tx.QueryRow(ctx, `SELECT coalesce(nullif(version, 0), 1) FROM `+table+` WHERE code = $1`, code).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, wrap("read version of "+table+" "+code, err)
	}
	return uint64(max(v, 0)), nil
}

// DeleteGrid deletes the unit grid with code c. When version is not 0 it
// deletes it only at that version, and fails with an error wrapping
// grid.ErrVersionMismatch when the stored grid is at another; an unknown
// code gives an error wrapping grid.ErrNotFound.
func (s *Store) DeleteGrid(ctx context.Context, c grid.Code, version uint64) error {
	if err := s.check(); err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM grids WHERE code = $1 AND ($2::bigint = 0 OR coalesce(nullif(version, 0), 1) = $2::bigint)`,
			string(c), int64(min(version, math.MaxInt64)))
		if err != nil {
			return wrap("delete grid "+string(c), err)
		}
		if tag.RowsAffected() == 1 {
			return nil
		}
		stored, err := storedVersion(ctx, tx, "grids", string(c))
		if err != nil {
			return err
		}
		if stored == 0 {
			return fmt.Errorf("postgis: delete grid %s: %w", c, grid.ErrNotFound)
		}
		return &ConflictError{Table: "grids", Key: string(c), Expected: version, Stored: stored, Err: grid.ErrVersionMismatch}
	})
}

// CopyDivisions bulk-loads districts, streets and communities with COPY in
// one transaction and returns the number of rows written.
func (s *Store) CopyDivisions(ctx context.Context, seq iter.Seq[grid.Division]) (int64, error) {
	if err := s.check(); err != nil {
		return 0, err
	}
	next, stop := iter.Pull(seq)
	defer stop()
	row := make([]any, 3)
	src := pgx.CopyFromFunc(func() ([]any, error) {
		d, ok := next()
		if !ok {
			return nil, nil
		}
		row[0], row[1], row[2] = d.Code, d.Name, int16(d.Level)
		return row, nil
	})
	var n int64
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		n, err = tx.CopyFrom(ctx, pgx.Identifier{"divisions"}, []string{"code", "name", "level"}, src)
		return wrap("copy divisions", err)
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}
