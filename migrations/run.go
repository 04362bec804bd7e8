package migrations

import (
	"context"
	"slices"
)

// Target is a database that migrations are applied to. The store that
// implements it holds the lock that keeps other processes from migrating
// the same database for the whole of Run.
type Target interface {
	// Applied returns the recorded migrations, version to name, creating
	// the record table schema_migrations when it is missing.
	Applied(ctx context.Context) (map[int]string, error)
	// Apply runs m and records it in schema_migrations, in one
	// transaction: all of it or nothing.
	Apply(ctx context.Context, m Migration) error
}

// Run applies to t, in version order, the migrations of ms that it lacks,
// and returns those it applied (none when t is up to date: running twice
// is safe). store names the store in errors. A migration t records that ms
// does not hold gives a *VersionError wrapping ErrNewer, one recorded
// under another name a *VersionError wrapping ErrMismatch; nothing is
// applied then. A failed migration gives an *ApplyError; the ones applied
// before it stay.
func Run(ctx context.Context, store string, t Target, ms []Migration) ([]Migration, error) {
	applied, err := t.Applied(ctx)
	if err != nil {
		return nil, err
	}
	versions := make([]int, 0, len(applied))
	for v := range applied {
		versions = append(versions, v)
	}
	slices.Sort(versions)
	for _, v := range versions {
		i, ok := slices.BinarySearchFunc(ms, v, func(m Migration, v int) int { return m.Version - v })
		if !ok {
			return nil, &VersionError{Store: store, Version: v, Recorded: applied[v], Latest: Latest(ms), Err: ErrNewer}
		}
		if ms[i].Name != applied[v] {
			return nil, &VersionError{Store: store, Version: v, Recorded: applied[v], Known: ms[i].Name, Latest: Latest(ms), Err: ErrMismatch}
		}
	}
	var done []Migration
	for _, m := range ms {
		if _, ok := applied[m.Version]; ok {
			continue
		}
		if err := ctx.Err(); err != nil {
			return done, err
		}
		if err := t.Apply(ctx, m); err != nil {
			return done, &ApplyError{Store: store, Migration: m, Err: err}
		}
		done = append(done, m)
	}
	return done, nil
}
