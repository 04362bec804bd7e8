package postgis

import (
	"context"
	"fmt"
	"iter"
	"strings"

	"citytwin/grid"
	"citytwin/parts"

	"github.com/jackc/pgx/v5"
)

// upsertSQL is the insert-or-replace by code of one row of table with
// cols, the last of which is the geometry, sent as EWKB.
func upsertSQL(table string, cols []string) string {
	var vals, sets []string
	for i, c := range cols {
		v := fmt.Sprintf("$%d", i+1)
		if c == "geom" {
			v = fmt.Sprintf("ST_GeomFromEWKB($%d::bytea)", i+1)
		}
		vals = append(vals, v)
		if c != "code" {
			sets = append(sets, c+" = excluded."+c)
		}
	}
	return "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES (" + strings.Join(vals, ", ") +
		") ON CONFLICT (code) DO UPDATE SET " + strings.Join(sets, ", ")
}

var (
	upsertParts = upsertSQL("parts", partColumns)
	upsertGrids = upsertSQL("grids", gridColumns)
)

// PutParts inserts or replaces (by code) parts in one transaction: all of
// them are stored, or none. A part whose geometry cannot be encoded is a
// *RecordError and nothing is written.
func (s *Store) PutParts(ctx context.Context, ps []parts.Part) error {
	if err := s.check(); err != nil {
		return err
	}
	if len(ps) == 0 {
		return nil
	}
	batch := &pgx.Batch{}
	for _, p := range ps {
		row, err := partRow(p, nil)
		if err != nil {
			return err
		}
		batch.Queue(upsertParts, row...)
	}
	return s.sendBatch(ctx, "put parts", batch)
}

// PutGrids inserts or replaces (by code) unit grids in one transaction.
func (s *Store) PutGrids(ctx context.Context, gs []grid.Grid) error {
	if err := s.check(); err != nil {
		return err
	}
	if len(gs) == 0 {
		return nil
	}
	batch := &pgx.Batch{}
	for _, g := range gs {
		row, err := gridRow(g, nil)
		if err != nil {
			return err
		}
		batch.Queue(upsertGrids, row...)
	}
	return s.sendBatch(ctx, "put grids", batch)
}

// sendBatch runs batch in one transaction.
func (s *Store) sendBatch(ctx context.Context, op string, batch *pgx.Batch) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		return wrap(op, tx.SendBatch(ctx, batch).Close())
	})
}

// DeleteGrid deletes the unit grid with code c; an unknown code gives an
// error wrapping grid.ErrNotFound.
func (s *Store) DeleteGrid(ctx context.Context, c grid.Code) error {
	if err := s.check(); err != nil {
		return err
	}
	tag, err := s.pool.Exec(ctx, `DELETE FROM grids WHERE code = $1`, string(c))
	if err != nil {
		return wrap("delete grid "+string(c), err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgis: delete grid %s: %w", c, grid.ErrNotFound)
	}
	return nil
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
