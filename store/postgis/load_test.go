package postgis_test

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"citytwin/parts"
	"citytwin/store/postgis"

	"github.com/jackc/pgx/v5"
)

// loadCity copies a city of n parts into a new schema and returns the
// store, a connection of its own and the codes in storage order.
func loadCity(t *testing.T, n int) (*postgis.Store, *pgx.Conn, []string) {
	t.Helper()
	s, conn := openTest(t)
	ctx := context.Background()
	if _, err := s.CopyParts(ctx, slices.Values(city(t, n).parts)); err != nil {
		t.Fatal(err)
	}
	rows, err := conn.Query(ctx, `SELECT code FROM parts ORDER BY ctid`)
	if err != nil {
		t.Fatal(err)
	}
	codes, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return s, conn, codes
}

// collect loads every part with load.
func collect(t *testing.T, load func(fn func(parts.Part) error) error) []parts.Part {
	t.Helper()
	var ps []parts.Part
	if err := load(func(p parts.Part) error { ps = append(ps, p); return nil }); err != nil {
		t.Fatal(err)
	}
	return ps
}

// released waits until every connection of s is back in its pool (a
// connection left in a query or a transaction is closed in the
// background).
func released(t *testing.T, s *postgis.Store) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for s.AcquiredConns() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d connections still acquired after the load", s.AcquiredConns())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func codesOf(ps []parts.Part) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Code.String()
	}
	return out
}

// A load over several connections, in ranges of one block, gives the parts
// of a load over one, in storage order, and returns its connections.
func TestLoadPartsOverConnections(t *testing.T) {
	s, _, order := loadCity(t, 3000)
	ctx := context.Background()
	one := collect(t, func(fn func(parts.Part) error) error { return s.LoadParts(ctx, fn) })
	for _, o := range []struct{ conns, blocks, chunk, ahead int }{
		{3, 1, 1024, 16},
		{3, 7, 5, 1},
		{2, 1000, 1, 1}, // fewer blocks than two ranges: one connection
		{1, 1, 64, 2},
	} {
		many := collect(t, func(fn func(parts.Part) error) error {
			return s.LoadPartsWith(ctx, fn, o.conns, o.blocks, o.chunk, o.ahead, nil)
		})
		if got := codesOf(many); !slices.Equal(got, order) {
			t.Fatalf("%+v: %d parts not in storage order (%d in the table)", o, len(got), len(order))
		}
		if !reflect.DeepEqual(many, one) {
			t.Fatalf("%+v: the parts differ from those of LoadParts", o)
		}
		if n := s.AcquiredConns(); n != 0 {
			t.Fatalf("%+v: %d connections still acquired after the load", o, n)
		}
	}
}

// The connections of a load read one snapshot: rows updated, moved and
// inserted by another session after the first one began are seen as they
// were, once.
func TestLoadPartsOneSnapshot(t *testing.T) {
	s, conn, order := loadCity(t, 3000)
	ctx := context.Background()
	change := func() error {
		// Every row gets a new version, most in new blocks at the end
		// of the table, and a part is added.
		if _, err := conn.Exec(ctx, `UPDATE parts SET version = version + 1`); err != nil {
			return err
		}
		_, err := conn.Exec(ctx, `INSERT INTO parts SELECT left(code, 10) || '999999', class, name, dept_supervisor,
  dept_owner, dept_maintainer, grid_code, state, retired, surveyed, changed, source, photo, note, material, label,
  version, geom, source_name, source_id FROM parts WHERE code = $1`, order[0])
		return err
	}
	seen := make(map[string]int)
	err := s.LoadPartsWith(ctx, func(p parts.Part) error {
		seen[p.Code.String()]++
		if p.Version != 1 {
			t.Errorf("part %s: version %d, want 1 (the version before the update)", p.Code, p.Version)
		}
		return nil
	}, 3, 1, 1, 1, change)
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != len(order) {
		t.Fatalf("%d parts seen, want %d", len(seen), len(order))
	}
	for c, n := range seen {
		if n != 1 {
			t.Fatalf("part %s seen %d times", c, n)
		}
	}
}

// A row that does not decode stops a load over several connections with a
// *RowError naming it, after the rows before it; so does fn's error, and
// a cancelled context; every connection goes back to the pool.
func TestLoadPartsErrors(t *testing.T) {
	s, conn, order := loadCity(t, 3000)
	ctx := context.Background()
	bad := order[len(order)/2]
	if _, err := conn.Exec(ctx, `UPDATE parts SET state = 'bogus' WHERE code = $1`, bad); err != nil {
		t.Fatal(err)
	}
	// The update moved the row: read the order again.
	rows, err := conn.Query(ctx, `SELECT code FROM parts ORDER BY ctid`)
	if err != nil {
		t.Fatal(err)
	}
	if order, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
		t.Fatal(err)
	}
	load := func(ctx context.Context, fn func(parts.Part) error) error {
		return s.LoadPartsWith(ctx, fn, 3, 2, 10, 2, nil)
	}
	var got []string
	err = load(ctx, func(p parts.Part) error { got = append(got, p.Code.String()); return nil })
	var re *postgis.RowError
	if !errors.As(err, &re) || re.Key != bad || re.Field != "state" || !errors.Is(err, postgis.ErrRow) {
		t.Fatalf("load with a bad state = %v, want a *RowError for %s", err, bad)
	}
	if want := order[:slices.Index(order, bad)]; !slices.Equal(got, want) {
		t.Fatalf("%d parts before the bad row, want %d", len(got), len(want))
	}
	released(t, s)

	stop := errors.New("stop")
	n := 0
	err = load(ctx, func(parts.Part) error {
		if n++; n == 100 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 100 {
		t.Fatalf("load stopped by fn after %d parts = %v, want %v after 100", n, err, stop)
	}

	cctx, cancel := context.WithCancel(ctx)
	n = 0
	err = load(cctx, func(parts.Part) error {
		if n++; n == 100 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled load = %v after %d parts, want context.Canceled", err, n)
	}
	released(t, s)
}
