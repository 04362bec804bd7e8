package postgis_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"citytwin/grid"
	"citytwin/migrations"
	"citytwin/parts"
	"citytwin/store/postgis"
	"citytwin/synth"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/clip"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/maptile"
)

// dbURL is the test database: CITYTWIN_PG_URL or postgis.DefaultURL.
func dbURL() string {
	if u := os.Getenv("CITYTWIN_PG_URL"); u != "" {
		return u
	}
	return postgis.DefaultURL
}

// openTest creates a schema of its own for the test, opens a Store whose
// search_path puts it first and migrates it, and drops the schema at the
// end. Without a database the test is skipped, unless CI is set: then it
// fails. conn is a connection of its own with the same search_path.
func openTest(t *testing.T) (*postgis.Store, *pgx.Conn) {
	t.Helper()
	u, conn := newSchema(t)
	s := openURL(t, u)
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return s, conn
}

// newSchema creates an empty schema for the test, dropped at its end, and
// returns the database URL whose search_path puts it first and a
// connection with that search_path.
func newSchema(t *testing.T) (string, *pgx.Conn) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL())
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("PostgreSQL at CITYTWIN_PG_URL is required in CI: %v", err)
		}
		t.Skipf("no PostgreSQL (set CITYTWIN_PG_URL): %v", err)
	}
	schema := fmt.Sprintf("citytwin_test_%d_%d", os.Getpid(), time.Now().UnixNano())
	if _, err := conn.Exec(ctx, `CREATE SCHEMA `+schema); err != nil {
		conn.Close(ctx)
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		if _, err := conn.Exec(context.Background(), `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
		conn.Close(context.Background())
	})
	u, err := url.Parse(dbURL())
	if err != nil {
		t.Fatalf("CITYTWIN_PG_URL must be a postgres:// URL for the tests: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema+",public")
	u.RawQuery = q.Encode()
	if _, err := conn.Exec(ctx, `SET search_path TO `+schema+`, public`); err != nil {
		t.Fatal(err)
	}
	return u.String(), conn
}

// openURL opens a Store on u, closed at the end of the test.
func openURL(t *testing.T, u string) *postgis.Store {
	t.Helper()
	s, err := postgis.Open(context.Background(), u)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

type memSink struct {
	grids     []grid.Grid
	divisions []grid.Division
	parts     []parts.Part
}

func (s *memSink) AddGrids(gs []grid.Grid) error { s.grids = append(s.grids, gs...); return nil }
func (s *memSink) AddDivisions(ds []grid.Division) error {
	s.divisions = append(s.divisions, ds...)
	return nil
}
func (s *memSink) AddParts(ps []parts.Part) error { s.parts = append(s.parts, ps...); return nil }

// city generates a small city (n parts over 4 km) with every 10th part retired.
func city(t *testing.T, n int) *memSink {
	t.Helper()
	o := synth.DefaultOptions()
	o.Components, o.Grids, o.SizeKm = n, 64, 4
	s := &memSink{}
	if err := synth.Generate(context.Background(), o, parts.DefaultCatalogue(), s, nil); err != nil {
		t.Fatal(err)
	}
	for i := range s.parts {
		if i%10 == 0 {
			s.parts[i].Retired = true
		}
	}
	return s
}

func TestOpenErrors(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for name, u := range map[string]string{
		"unreachable": "postgres://postgres@127.0.0.1:1/test?sslmode=disable&connect_timeout=2",
		"bad url":     "postgres://%zz",
	} {
		t.Run(name, func(t *testing.T) {
			s, err := postgis.Open(ctx, u)
			if !errors.Is(err, postgis.ErrConnect) {
				t.Fatalf("Open(%q) = %v, %v; want ErrConnect", u, s, err)
			}
		})
	}
}

func TestMigrate(t *testing.T) {
	s, conn := openTest(t)
	ctx := context.Background()
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	ms, _ := migrations.PostGIS()
	v, ok, err := s.Meta(ctx, "schema_version")
	if err != nil || !ok || v != fmt.Sprint(migrations.Latest(ms)) {
		t.Fatalf("schema_version = %q, %v, %v", v, ok, err)
	}
	var idx []string
	rows, _ := conn.Query(ctx, `SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND indexdef LIKE '%gist%' ORDER BY 1`)
	idx, err = pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || !slices.Equal(idx, []string{"cases_geom", "grids_geom", "parts_geom", "sensors_geom"}) {
		t.Fatalf("GIST indexes = %v, %v", idx, err)
	}
	if err := s.SetMeta(ctx, "schema_version", "99"); err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx); !errors.Is(err, postgis.ErrSchema) {
		t.Fatalf("Migrate over schema_version 99 = %v, want ErrSchema", err)
	}
}

func TestCopy(t *testing.T) {
	s, conn := openTest(t)
	ctx := context.Background()
	c := city(t, 3000)
	n, err := s.CopyParts(ctx, slices.Values(c.parts))
	if err != nil || n != int64(len(c.parts)) {
		t.Fatalf("CopyParts = %d, %v; want %d", n, err, len(c.parts))
	}
	if got, err := s.CountParts(ctx); err != nil || int64(got) != n {
		t.Fatalf("CountParts = %d, %v; want %d", got, err, n)
	}
	ng, err := s.CopyGrids(ctx, slices.Values(c.grids))
	if err != nil || ng != int64(len(c.grids)) {
		t.Fatalf("CopyGrids = %d, %v; want %d", ng, err, len(c.grids))
	}
	if got, err := s.CountGrids(ctx); err != nil || int64(got) != ng {
		t.Fatalf("CountGrids = %d, %v; want %d", got, err, ng)
	}
	var idx int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema() AND indexname = 'parts_geom'`).Scan(&idx); err != nil || idx != 1 {
		t.Fatalf("parts_geom index after the load: %d, %v", idx, err)
	}

	// Every value round-trips, the geometry exactly.
	for _, i := range []int{0, 1, len(c.parts) / 2, len(c.parts) - 1} {
		p := c.parts[i]
		var class, state, owner, wkt string
		var retired bool
		var surveyed time.Time
		var srid int
		err := conn.QueryRow(ctx, `SELECT class, state, dept_owner, retired, surveyed, ST_SRID(geom), ST_AsText(geom, 15) FROM parts WHERE code = $1`, p.Code.String()).
			Scan(&class, &state, &owner, &retired, &surveyed, &srid, &wkt)
		if err != nil {
			t.Fatalf("part %s: %v", p.Code, err)
		}
		if class != p.Class.String() || state != p.State.String() || owner != p.Owner || retired != p.Retired || !surveyed.Equal(p.Surveyed) || srid != 4326 {
			t.Errorf("part %s: got %s %s %s %v %v %d, want %s %s %s %v %v 4326", p.Code, class, state, owner, retired, surveyed, srid,
				p.Class, p.State, p.Owner, p.Retired, p.Surveyed)
		}
		if want := strings.ToUpper(p.Geometry.GeoJSONType()); !strings.HasPrefix(wkt, want) {
			t.Errorf("part %s: geometry %.40s, want a %s", p.Code, wkt, want)
		}
	}

	// A load with a code already there writes nothing.
	dup := []parts.Part{c.parts[5]}
	dup[0].Code++
	for slices.ContainsFunc(c.parts, func(p parts.Part) bool { return p.Code == dup[0].Code }) {
		dup[0].Code++
	}
	if _, err := s.CopyParts(ctx, slices.Values(append(dup, c.parts[7]))); err == nil {
		t.Fatal("CopyParts with a duplicate code succeeded")
	}
	if got, _ := s.CountParts(ctx); int64(got) != n {
		t.Fatalf("after the failed load CountParts = %d, want %d", got, n)
	}

	// A part without geometry is a *RecordError naming it.
	bad := c.parts[3]
	bad.Code, bad.Geometry = dup[0].Code, nil
	_, err = s.CopyParts(ctx, slices.Values([]parts.Part{bad}))
	var re *postgis.RecordError
	if !errors.As(err, &re) || re.Code != bad.Code.String() || !errors.Is(err, postgis.ErrGeometry) {
		t.Fatalf("CopyParts(no geometry) = %v, want a *RecordError for %s", err, bad.Code)
	}

	if err := s.Truncate(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.CountParts(ctx); got != 0 {
		t.Fatalf("after Truncate CountParts = %d", got)
	}
}

// bufferedBound is the lon/lat box of tile t grown by TileBuffer.
func bufferedBound(t maptile.Tile) orb.Bound {
	n := math.Exp2(float64(t.Z))
	m := float64(postgis.TileBuffer) / float64(postgis.TileExtent)
	lon := func(x float64) float64 { return x/n*360 - 180 }
	lat := func(y float64) float64 { return math.Atan(math.Sinh(math.Pi*(1-2*y/n))) * 180 / math.Pi }
	x0, x1 := float64(t.X)-m, float64(t.X)+1+m
	y0, y1 := float64(t.Y)-m, float64(t.Y)+1+m
	return orb.Bound{Min: orb.Point{lon(x0), lat(y1)}, Max: orb.Point{lon(x1), lat(y0)}}
}

func TestTileMVT(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	c := city(t, 3000)
	if _, err := s.CopyParts(ctx, slices.Values(c.parts)); err != nil {
		t.Fatal(err)
	}
	centre := orb.Point{104.06, 30.66}
	east := c.parts[0].Geometry.Bound().Max
	for _, p := range c.parts {
		if b := p.Geometry.Bound(); b.Max[0] > east[0] {
			east = b.Max
		}
	}
	tiles := map[string]struct {
		tile  maptile.Tile
		exact bool // the count must equal the brute-force count
	}{
		"z12 centre": {maptile.At(centre, 12), false},
		"z14 centre": {maptile.At(centre, 14), false},
		"z16 centre": {maptile.At(centre, 16), true},
		"z17 centre": {maptile.At(centre, 17), true},
		"z16 edge":   {maptile.At(east, 16), true},
		"z14 empty":  {maptile.New(0, 0, 14), true},
	}
	for name, tc := range tiles {
		t.Run(name, func(t *testing.T) {
			tl := tc.tile
			data, err := s.TileMVT(ctx, int(tl.Z), int(tl.X), int(tl.Y))
			if err != nil {
				t.Fatal(err)
			}
			// Brute force: the parts in use whose geometry meets the
			// buffered tile, and those whose box does.
			bb := bufferedBound(tl)
			// PostGIS compares float32 boxes (rounded outward, about a
			// metre here), so it may add a feature lying on the buffer's edge.
			loose := bb.Pad(2e-5)
			want, maxWant := map[string]bool{}, 0
			for _, p := range c.parts {
				if p.Retired || !p.Geometry.Bound().Intersects(loose) {
					continue
				}
				maxWant++
				if clip.Geometry(bb, orb.Clone(p.Geometry)) != nil {
					want[p.Code.String()] = true
				}
			}
			layers, err := mvt.Unmarshal(data)
			if err != nil {
				t.Fatalf("decode %d bytes: %v", len(data), err)
			}
			got := 0
			if len(layers) > 0 {
				if len(layers) != 1 || layers[0].Name != "parts" {
					t.Fatalf("layers %v, want one layer parts", layers)
				}
				for _, f := range layers[0].Features {
					code, _ := f.Properties["code"].(string)
					if !want[code] && tc.exact {
						t.Errorf("feature %s is not in the tile", code)
					}
					if f.Properties["class"] != code[6:10] || f.Properties["state"] == nil {
						t.Errorf("feature %s: properties %v", code, f.Properties)
					}
				}
				got = len(layers[0].Features)
			}
			switch {
			case tc.exact && got != len(want):
				t.Errorf("%v: %d features, want %d", tl, got, len(want))
			case !tc.exact && (got > maxWant || got < len(want)*9/10):
				t.Errorf("%v: %d features, want %d..%d", tl, got, len(want)*9/10, maxWant)
			}
			if name != "z14 empty" && got == 0 {
				t.Errorf("%v: no features", tl)
			}
			t.Logf("%v: %d features (%d meet the tile, %d boxes), %d bytes", tl, got, len(want), maxWant, len(data))
		})
	}
	for name, b := range map[string][3]int{
		"negative zoom": {-1, 0, 0},
		"zoom 25":       {25, 0, 0},
		"x too big":     {2, 4, 0},
		"negative y":    {3, 0, -1},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := s.TileMVT(ctx, b[0], b[1], b[2])
			var te *postgis.TileError
			if !errors.As(err, &te) || !errors.Is(err, postgis.ErrTileRange) || te.Z != b[0] {
				t.Fatalf("TileMVT%v = %v, want a *TileError", b, err)
			}
		})
	}
	s.Close()
	if _, err := s.TileMVT(ctx, 0, 0, 0); !errors.Is(err, postgis.ErrClosed) {
		t.Fatalf("TileMVT after Close = %v, want ErrClosed", err)
	}
}
