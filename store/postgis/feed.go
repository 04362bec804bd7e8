package postgis

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"citytwin/grid"
	"citytwin/parts"
)

// ChangesChannel is the LISTEN/NOTIFY channel on which the triggers of
// migration 0004 announce every committed change; the payload is the
// schema of the changed table.
const ChangesChannel = "citytwin_changes"

// Change is one row of the change log (table changes): a committed insert,
// update or delete of a part, a grid or a record of sensors and cases,
// whoever made it.
type Change struct {
	Seq     int64
	At      time.Time // the time of the writing transaction
	Table   string    // "parts", "grids", "sensors", "alarms", "cases", "departments", "responsibilities" or "calendar"
	Key     string    // the code, the id, or for responsibilities "district/type:class"
	Op      string    // "insert", "update" or "delete"
	Version uint64    // the row's version after the change (before it, for a delete)
}

// ChangePage is one read of the change log, all of it in one snapshot.
type ChangePage struct {
	// Changes are the rows asked for, in seq order.
	Changes []Change
	// Newest is the highest seq in the log (0 when it is empty); Pruned
	// the highest seq pruning deleted (0 when none).
	Newest, Pruned int64
	// XMin and XMax bound the read's snapshot: every transaction with an
	// id below XMin had ended, every transaction that had begun writing
	// has an id below XMax. A seq missing below a seq that was read
	// belongs to a transaction that was still running (or that rolled
	// back); once a later read's XMin reaches the XMax of the read that
	// found it missing, that transaction has ended, and a seq still
	// missing never comes.
	XMin, XMax uint64
}

// Gap is a range of seqs, From to To inclusive, missing from the log when
// a read with snapshot XMax saw later ones.
type Gap struct {
	From, To int64
	XMax     uint64
}

// queryer is a connection, a transaction or the pool.
type queryer interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// ReadChanges reads, in one snapshot, the rows of the change log that fill
// gaps and at most limit rows after seq after.
func (s *Store) ReadChanges(ctx context.Context, gaps []Gap, after int64, limit int) (ChangePage, error) {
	if err := s.check(); err != nil {
		return ChangePage{}, err
	}
	var page ChangePage
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		var err error
		page, err = readChanges(ctx, tx, gaps, after, limit)
		return err
	})
	return page, err
}

// readChanges is ReadChanges in tx, which must be REPEATABLE READ so that
// its statements share one snapshot.
func readChanges(ctx context.Context, tx pgx.Tx, gaps []Gap, after int64, limit int) (ChangePage, error) {
	var page ChangePage
	var xmin, xmax int64
	err := tx.QueryRow(ctx, `SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint,
  pg_snapshot_xmax(pg_current_snapshot())::text::bigint,
  coalesce((SELECT max(seq) FROM changes), 0),
  coalesce((SELECT value::bigint FROM meta WHERE key = '`+prunedKey+`'), 0)`).
		Scan(&xmin, &xmax, &page.Newest, &page.Pruned)
	if err != nil {
		return page, wrap("read change log", err)
	}
	page.XMin, page.XMax = uint64(xmin), uint64(xmax)
	if len(gaps) > 0 {
		from, to := make([]int64, len(gaps)), make([]int64, len(gaps))
		lo, hi := gaps[0].From, gaps[0].To
		for i, g := range gaps {
			from[i], to[i] = g.From, g.To
			lo, hi = min(lo, g.From), max(hi, g.To)
		}
		rows, err := tx.Query(ctx, `SELECT seq, at, tbl, key, op, coalesce(version, 0) FROM changes
WHERE seq BETWEEN $1 AND $2
  AND EXISTS (SELECT 1 FROM unnest($3::bigint[], $4::bigint[]) g(a, b) WHERE seq BETWEEN g.a AND g.b)
ORDER BY seq`, lo, hi, from, to)
		if err != nil {
			return page, wrap("read change log gaps", err)
		}
		if page.Changes, err = scanChanges(rows, page.Changes); err != nil {
			return page, err
		}
	}
	rows, err := tx.Query(ctx, `SELECT seq, at, tbl, key, op, coalesce(version, 0) FROM changes
WHERE seq > $1 ORDER BY seq LIMIT $2`, after, limit)
	if err != nil {
		return page, wrap("read change log", err)
	}
	page.Changes, err = scanChanges(rows, page.Changes)
	return page, err
}

func scanChanges(rows pgx.Rows, out []Change) ([]Change, error) {
	defer rows.Close()
	for rows.Next() {
		var c Change
		var v int64
		if err := rows.Scan(&c.Seq, &c.At, &c.Table, &c.Key, &c.Op, &v); err != nil {
			return out, wrap("read change log", err)
		}
		c.Version = uint64(max(v, 0))
		out = append(out, c)
	}
	return out, wrap("read change log", rows.Err())
}

// LatestChange returns the highest seq of the change log (0 when empty).
func (s *Store) LatestChange(ctx context.Context) (int64, error) {
	if err := s.check(); err != nil {
		return 0, err
	}
	var n int64
	err := s.pool.QueryRow(ctx, `SELECT coalesce(max(seq), 0) FROM changes`).Scan(&n)
	return n, wrap("read change log", err)
}

// PartsByCode returns the stored parts with the given codes (codes not
// stored are left out). Rows that do not decode go to bad, when set, and
// are skipped; without bad the first one stops the read.
func (s *Store) PartsByCode(ctx context.Context, codes []string, bad func(*RowError) error) ([]parts.Part, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	return partsByCode(ctx, s.pool, codes, bad)
}

func partsByCode(ctx context.Context, q queryer, codes []string, bad func(*RowError) error) ([]parts.Part, error) {
	if len(codes) == 0 {
		return nil, nil
	}
	rows, err := q.Query(ctx, partSelect+` WHERE code = ANY($1)`, codes)
	if err != nil {
		return nil, wrap("read parts by code", err)
	}
	out := make([]parts.Part, 0, len(codes))
	err = scanParts(rows, func(p parts.Part) error { out = append(out, p); return nil }, bad)
	return out, err
}

// GridsByCode returns the stored grids with the given codes, like
// PartsByCode.
func (s *Store) GridsByCode(ctx context.Context, codes []string, bad func(*RowError) error) ([]grid.Grid, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	return gridsByCode(ctx, s.pool, codes, bad)
}

func gridsByCode(ctx context.Context, q queryer, codes []string, bad func(*RowError) error) ([]grid.Grid, error) {
	if len(codes) == 0 {
		return nil, nil
	}
	rows, err := q.Query(ctx, gridSelect+` WHERE code = ANY($1)`, codes)
	if err != nil {
		return nil, wrap("read grids by code", err)
	}
	var out []grid.Grid
	err = scanGrids(rows, func(g grid.Grid) error { out = append(out, g); return nil }, bad)
	return out, err
}

// pruneLock is the first key of the transaction advisory lock that lets
// one replica at a time prune the change log of a schema (the second key
// is the hash of the schema's name).
const pruneLock = 0x63747072 // "ctpr"

// prunedKey is the key in meta of the highest seq pruned from the log.
const prunedKey = "changes_pruned_through"

// PruneChanges deletes the rows of the change log older than before, and
// returns how many it deleted. Only one caller at a time prunes a schema:
// when another holds the lock, it returns at once with ran false.
func (s *Store) PruneChanges(ctx context.Context, before time.Time) (n int64, ran bool, err error) {
	if err := s.check(); err != nil {
		return 0, false, err
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT pg_try_advisory_xact_lock($1, hashtext(current_schema()))`, int32(pruneLock)).Scan(&ran); err != nil {
			return err
		}
		if !ran {
			return nil
		}
		var through int64
		if err := tx.QueryRow(ctx, `WITH d AS (DELETE FROM changes WHERE at < $1 RETURNING seq)
SELECT count(*), coalesce(max(seq), 0) FROM d`, before).Scan(&n, &through); err != nil {
			return err
		}
		if through == 0 {
			return nil
		}
		// Followers behind this seq lost changes: they see it here.
		_, err := tx.Exec(ctx, `INSERT INTO meta (key, value) VALUES ($1, $2::bigint::text)
ON CONFLICT (key) DO UPDATE SET value = greatest(meta.value::bigint, excluded.value::bigint)::text`, prunedKey, through)
		return err
	})
	if err != nil {
		return 0, false, fmt.Errorf("postgis: prune change log: %w", err)
	}
	return n, ran, nil
}

// Ping checks that the database answers, within ctx.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.check(); err != nil {
		return err
	}
	return wrap("ping", s.pool.Ping(ctx))
}
