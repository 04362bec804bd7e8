package bench_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"math"
	"net/url"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"citytwin/grid"
	"citytwin/parts"
	"citytwin/store/postgis"
	"citytwin/synth"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
)

// benchSchema is the PostgreSQL schema that holds the benchmark's city.
const benchSchema = "citytwin_bench"

// city is the benchmark city, built once per process.
type city struct {
	n        int
	reg      *parts.Registry
	grids    *grid.Index
	checksum string
	pg       *postgis.Store // nil without a database
	pgErr    error          // why pg is nil
}

var (
	cityOnce sync.Once
	theCity  *city
	cityErr  error
)

// envInt reads a positive integer from the environment, def when unset.
func envInt(tb testing.TB, name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		tb.Fatalf("%s=%q is not a positive number", name, s)
	}
	return n
}

// envDuration reads a duration from the environment, def when unset.
func envDuration(tb testing.TB, name string, def time.Duration) time.Duration {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		tb.Fatalf("%s=%q is not a positive duration", name, s)
	}
	return d
}

// getCity builds the city of CITYTWIN_BENCH_N components once and loads it
// into PostGIS when a database answers.
func getCity(b *testing.B) *city {
	n := envInt(b, "CITYTWIN_BENCH_N", 2_000_000)
	cityOnce.Do(func() { theCity, cityErr = buildCity(b, n) })
	if cityErr != nil {
		b.Fatal(cityErr)
	}
	if theCity.n != n {
		b.Fatalf("the city has %d components, CITYTWIN_BENCH_N asks %d", theCity.n, n)
	}
	return theCity
}

// sink adds generated parts to a registry builder and grids to an index.
type sink struct {
	b     *parts.Builder
	grids *grid.Index
}

func (s *sink) AddParts(ps []parts.Part) error {
	for _, p := range ps {
		if err := s.b.Add(p); err != nil {
			return err
		}
	}
	return nil
}

func (s *sink) AddGrids(gs []grid.Grid) error {
	for _, g := range gs {
		if _, _, err := s.grids.Put(g); err != nil {
			return err
		}
	}
	return nil
}

func (s *sink) AddDivisions(ds []grid.Division) error {
	for _, d := range ds {
		s.grids.SetDivision(d)
	}
	return nil
}

func buildCity(b *testing.B, n int) (*city, error) {
	ctx := context.Background()
	o := synth.DefaultOptions()
	o.Components = n
	cat := parts.DefaultCatalogue()
	s := &sink{b: parts.NewBuilder(cat, n), grids: grid.NewIndex()}
	t0 := time.Now()
	if err := synth.Generate(ctx, o, cat, s, nil); err != nil {
		return nil, fmt.Errorf("generate %d parts: %w", n, err)
	}
	t1 := time.Now()
	c := &city{n: n, reg: s.b.Build(), grids: s.grids}
	t2 := time.Now()
	c.checksum = checksum(c.reg)
	b.Logf("city: %d parts, %d grids, bounds %v; generated in %v, registry built in %v",
		c.reg.Len(), c.grids.Len(), c.reg.Bounds(), t1.Sub(t0).Round(time.Millisecond), t2.Sub(t1).Round(time.Millisecond))
	c.pg, c.pgErr = loadPostGIS(ctx, b, c)
	if c.pgErr != nil {
		b.Logf("PostGIS comparison skipped: %v", c.pgErr)
	}
	return c, nil
}

// checksum is an FNV-1a hash of every part's code, class, state, currency,
// owner and coordinates, in the registry's storage order.
func checksum(reg *parts.Registry) string {
	h := fnv.New64a()
	var buf []byte
	coords := func(ps []orb.Point) {
		for _, p := range ps {
			buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(p[0]))
			buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(p[1]))
		}
	}
	n := 0
	reg.Each(func(p parts.Part) bool {
		buf = binary.LittleEndian.AppendUint64(buf[:0], uint64(p.Code))
		buf = append(buf, byte(p.State))
		if p.Retired {
			buf = append(buf, 1)
		}
		buf = append(buf, p.Owner...)
		switch g := p.Geometry.(type) {
		case orb.Point:
			coords([]orb.Point{g})
		case orb.LineString:
			coords(g)
		case orb.Polygon:
			for _, r := range g {
				coords(r)
			}
		}
		h.Write(buf)
		n++
		return true
	})
	return fmt.Sprintf("n=%d fnv64a=%016x", n, h.Sum64())
}

// pgURL is CITYTWIN_PG_URL (or the default) with the benchmark's schema
// first on the search_path and, unless the URL says otherwise, jit=off.
func pgURL() (base, withSchema string, err error) {
	base = os.Getenv("CITYTWIN_PG_URL")
	if base == "" {
		base = postgis.DefaultURL
	}
	u, err := url.Parse(base)
	if err != nil {
		return "", "", fmt.Errorf("CITYTWIN_PG_URL is not a URL: %w", err)
	}
	q := u.Query()
	q.Set("search_path", benchSchema+",public")
	// PostgreSQL's default JIT compiles the dense tiles' query plans at
	// every execution and makes them about 3 times slower: tile servers
	// run with it off, so does the benchmark.
	if !q.Has("jit") {
		q.Set("jit", "off")
	}
	u.RawQuery = q.Encode()
	return base, u.String(), nil
}

// loadPostGIS loads the city's parts into benchSchema, unless the table
// already holds them (same count and checksum).
func loadPostGIS(ctx context.Context, b *testing.B, c *city) (*postgis.Store, error) {
	base, withSchema, err := pgURL()
	if err != nil {
		return nil, err
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	conn, err := pgx.Connect(cctx, base)
	cancel()
	if err != nil {
		return nil, err
	}
	_, err = conn.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+benchSchema)
	conn.Close(ctx)
	if err != nil {
		return nil, err
	}
	st, err := postgis.Open(ctx, withSchema)
	if err != nil {
		return nil, err
	}
	if err := st.Migrate(ctx); err != nil {
		st.Close()
		return nil, err
	}
	have, err := st.CountParts(ctx)
	if err != nil {
		st.Close()
		return nil, err
	}
	sum, _, err := st.Meta(ctx, "bench_checksum")
	if err != nil {
		st.Close()
		return nil, err
	}
	if have == c.n && sum == c.checksum {
		b.Logf("PostGIS: %s.parts already holds the %d parts (%s)", benchSchema, have, sum)
		return st, nil
	}
	t0 := time.Now()
	if err := st.Truncate(ctx); err != nil {
		st.Close()
		return nil, err
	}
	n, err := st.CopyParts(ctx, c.reg.Each)
	if err != nil {
		st.Close()
		return nil, err
	}
	if err := st.SetMeta(ctx, "bench_checksum", c.checksum); err != nil {
		st.Close()
		return nil, err
	}
	b.Logf("PostGIS: loaded %d parts into %s.parts in %v (COPY, GIST index, ANALYZE)", n, benchSchema, time.Since(t0).Round(time.Millisecond))
	return st, nil
}
