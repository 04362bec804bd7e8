package gpkg

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"citytwin/grid"
	"citytwin/parts"

	"github.com/paulmach/orb"
)

func TestRoundTrip(t *testing.T) {
	path := writeSample(t)
	s := openT(t, path)
	ctx := context.Background()

	n, err := s.CountParts(ctx)
	if err != nil || n != 3 {
		t.Fatalf("CountParts = %d, %v; want 3", n, err)
	}
	got := loadParts(t, s)
	for _, want := range sampleParts(t) {
		if g := got[want.Code]; !reflect.DeepEqual(g, want) {
			t.Errorf("part %s:\n got %+v\nwant %+v", want.Code, g, want)
		}
	}

	var grids []grid.Grid
	if err := s.LoadGrids(ctx, func(g grid.Grid) error { grids = append(grids, g); return nil }); err != nil {
		t.Fatal(err)
	}
	if want := sampleGrids(t); !reflect.DeepEqual(grids, want) {
		t.Errorf("grids:\n got %+v\nwant %+v", grids, want)
	}
	var divs []grid.Division
	if err := s.LoadDivisions(ctx, func(d grid.Division) error { divs = append(divs, d); return nil }); err != nil {
		t.Fatal(err)
	}
	if want := sampleDivisions(); !reflect.DeepEqual(divs, want) {
		t.Errorf("divisions:\n got %+v\nwant %+v", divs, want)
	}
	if s.Path() != path {
		t.Errorf("Path() = %q, want %q", s.Path(), path)
	}
}

// TestFileLayout checks the GeoPackage requirements in the file itself.
func TestFileLayout(t *testing.T) {
	path := writeSample(t)
	db, err := sql.Open("sqlite", fileURI(path, "mode=ro"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	queries := map[string]struct {
		q    string
		want string
	}{
		"application_id":  {`PRAGMA application_id`, "1196444487"},
		"user_version":    {`PRAGMA user_version`, "10300"},
		"srs rows":        {`SELECT group_concat(srs_id) FROM (SELECT srs_id FROM gpkg_spatial_ref_sys ORDER BY srs_id)`, "-1,0,4326"},
		"contents":        {`SELECT group_concat(table_name || ':' || data_type) FROM (SELECT * FROM gpkg_contents ORDER BY table_name)`, "alarms:attributes,calendar:attributes,cases:features,departments:attributes,divisions:attributes,grids:features,meta:attributes,notifications:attributes,parts:features,responsibilities:attributes,schema_migrations:attributes,sensor_status:attributes,sensors:features,tokens:attributes"},
		"geometry cols":   {`SELECT group_concat(table_name || '.' || column_name || ':' || geometry_type_name || ':' || srs_id) FROM (SELECT * FROM gpkg_geometry_columns ORDER BY table_name)`, "cases.geom:POINT:4326,grids.geom:POLYGON:4326,parts.geom:GEOMETRY:4326,sensors.geom:POINT:4326"},
		"parts extent":    {`SELECT min_x || ',' || min_y || ',' || max_x || ',' || max_y FROM gpkg_contents WHERE table_name = 'parts'`, "120.6,31.3,120.6195,31.311"},
		"schema version":  {`SELECT value FROM meta WHERE key = 'schema_version'`, strconv.Itoa(latestVersion())},
		"point blob":      {`SELECT hex(substr(geom, 1, 8)) FROM parts WHERE code = '3205080101000001'`, "47500001E6100000"},
		"polygon header":  {`SELECT hex(substr(geom, 1, 8)) FROM parts WHERE code = '3205080405000002'`, "47500003E6100000"},
		"integrity check": {`PRAGMA integrity_check`, "ok"},
		"dates":           {`SELECT surveyed || '/' || changed FROM parts WHERE code = '3205080101000001'`, "2019-03-14/2024-11-02"},
		"derived codes":   {`SELECT district || '/' || street || '/' || community FROM grids WHERE code = '32050800100101'`, "320508/320508001/320508001001"},
	}
	for name, tc := range queries {
		t.Run(name, func(t *testing.T) {
			var got string
			if err := db.QueryRow(tc.q).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("%s = %q, want %q", tc.q, got, tc.want)
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	good := writeSample(t)
	goodBytes, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	plainSQLite := func() string {
		p := filepath.Join(dir, "plain.db")
		db, err := sql.Open("sqlite", p)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.Exec(`CREATE TABLE t (x); INSERT INTO t VALUES (1)`); err != nil {
			t.Fatal(err)
		}
		return p
	}
	foreignGPKG := func() string {
		p := filepath.Join(dir, "foreign.gpkg")
		db, err := sql.Open("sqlite", p)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.Exec(`PRAGMA application_id = 1196444487; PRAGMA user_version = 10300`); err != nil {
			t.Fatal(err)
		}
		tx, _ := db.Begin()
		if err := createSchema(context.Background(), tx); err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(`DROP TABLE divisions`); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		return p
	}
	oldSchema := func() string {
		p := filepath.Join(dir, "old.gpkg")
		if err := os.WriteFile(p, goodBytes, 0o644); err != nil {
			t.Fatal(err)
		}
		db, err := sql.Open("sqlite", p)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.Exec(`UPDATE meta SET value = '99' WHERE key = 'schema_version'`); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cases := map[string]struct {
		path   string
		want   error
		reason string
	}{
		"missing file":        {filepath.Join(dir, "nope.gpkg"), ErrNotGeoPackage, "no such file"},
		"directory":           {dir, ErrNotGeoPackage, "is a directory"},
		"empty file":          {write("empty.gpkg", nil), ErrNotGeoPackage, "not an SQLite database"},
		"text file":           {write("notes.gpkg", []byte("hello, this is not a database\n")), ErrNotGeoPackage, "not an SQLite database"},
		"plain SQLite":        {plainSQLite(), ErrNotGeoPackage, "application_id is 0x00000000"},
		"truncated":           {write("trunc.gpkg", goodBytes[:len(goodBytes)/2]), ErrNotGeoPackage, "truncated"},
		"header only":         {write("head.gpkg", goodBytes[:100]), ErrNotGeoPackage, "truncated"},
		"GeoPackage not ours": {foreignGPKG(), ErrSchema, "table divisions is missing"},
		"schema version":      {oldSchema(), ErrSchema, `schema version "99"`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			before := hashFile(t, tc.path)
			s, err := Open(context.Background(), tc.path)
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			if !errors.Is(err, tc.want) {
				t.Errorf("error %v does not wrap %v", err, tc.want)
			}
			var oe *OpenError
			if !errors.As(err, &oe) || oe.Path != tc.path {
				t.Errorf("error %v is not an *OpenError naming %s", err, tc.path)
			}
			if !strings.Contains(err.Error(), tc.reason) || !strings.Contains(err.Error(), tc.path) {
				t.Errorf("error %q does not say %q and name the path", err, tc.reason)
			}
			if after := hashFile(t, tc.path); !bytes.Equal(before, after) {
				t.Errorf("Open modified the file")
			}
			if _, err := os.Stat(tc.path + "-wal"); err == nil {
				t.Errorf("Open left a -wal file")
			}
		})
	}
	if err := func() error { _, err := Open(context.Background(), filepath.Join(dir, "nope.gpkg")); return err }(); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file error %v does not wrap fs.ErrNotExist", err)
	}
}

// hashFile returns the SHA-256 of the file, or nil if it is not a regular file.
func hashFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	h := sha256.Sum256(b)
	return h[:]
}

// TestTruncatedTail damages the end of a file whose header does not give
// its size away; Open or Load must fail cleanly, never panic.
func TestCorruptPages(t *testing.T) {
	good := writeSample(t)
	b, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	for name, damage := range map[string]func([]byte){
		"zeroed tail":  func(b []byte) { clear(b[4096:]) },
		"garbage tail": func(b []byte) { copy(b[4096:], bytes.Repeat([]byte{0xA5, 0x13, 0x7F}, len(b))) },
		"no valid-for": func(b []byte) { b[95]++; clear(b[len(b)/2:]) },
	} {
		t.Run(name, func(t *testing.T) {
			c := bytes.Clone(b)
			damage(c)
			p := filepath.Join(t.TempDir(), "bad.gpkg")
			if err := os.WriteFile(p, c, 0o644); err != nil {
				t.Fatal(err)
			}
			before := hashFile(t, p)
			defer func() {
				if after := hashFile(t, p); !bytes.Equal(before, after) {
					t.Errorf("the damaged file was modified")
				}
			}()
			s, err := Open(context.Background(), p)
			if err != nil {
				if !errors.Is(err, ErrNotGeoPackage) && !errors.Is(err, ErrSchema) {
					t.Errorf("Open error %v wraps neither ErrNotGeoPackage nor ErrSchema", err)
				}
				t.Logf("Open: %v", err)
				return
			}
			defer s.Close()
			err = s.LoadParts(context.Background(), func(parts.Part) error { return nil })
			if err == nil {
				t.Errorf("LoadParts of a damaged file succeeded")
			}
			t.Logf("LoadParts: %v", err)
		})
	}
}

func TestPutParts(t *testing.T) {
	s := openT(t, writeSample(t))
	ctx := context.Background()
	ps := sampleParts(t)

	// Update one, add one.
	upd := ps[0]
	upd.State, upd.Version, upd.Note = parts.Intact, 4, "fixed"
	upd.Geometry = orb.Point{121.5, 31.9}
	add := ps[0]
	add.Code = mustCode(t, "3205080101000099")
	add.Geometry = orb.Point{119.0, 30.0}
	add.Version = 1 // an insert
	if err := s.PutParts(ctx, []parts.Part{upd, add}); err != nil {
		t.Fatal(err)
	}
	got := loadParts(t, s)
	if len(got) != 4 {
		t.Fatalf("after put: %d parts, want 4", len(got))
	}
	for _, want := range []parts.Part{upd, add, ps[1], ps[2]} {
		if !reflect.DeepEqual(got[want.Code], want) {
			t.Errorf("part %s:\n got %+v\nwant %+v", want.Code, got[want.Code], want)
		}
	}
	var minx, maxx, miny, maxy float64
	if err := s.db.QueryRow(`SELECT min_x, max_x, min_y, max_y FROM gpkg_contents WHERE table_name = 'parts'`).Scan(&minx, &maxx, &miny, &maxy); err != nil {
		t.Fatal(err)
	}
	if minx != 119 || miny != 30 || maxx != 121.5 || maxy != 31.9 {
		t.Errorf("extent = %v %v %v %v, want 119 30 121.5 31.9", minx, miny, maxx, maxy)
	}
	var fid int
	if err := s.db.QueryRow(`SELECT fid FROM parts WHERE code = ?`, upd.Code.String()).Scan(&fid); err != nil || fid != 1 {
		t.Errorf("updated part has fid %d (%v), want 1 (kept)", fid, err)
	}
}

func TestPutPartsAtomic(t *testing.T) {
	path := writeSample(t)
	s := openT(t, path)
	ctx := context.Background()
	before := loadParts(t, s)

	good := sampleParts(t)[0]
	good.Note = "changed"
	good.Version++ // stored at 3
	fresh := good
	fresh.Code = mustCode(t, "3205080101000050")
	fresh.Version = 1
	cases := map[string]struct {
		bad  func() parts.Part
		want error
	}{
		"missing geometry": {func() parts.Part { p := fresh; p.Code = mustCode(t, "3205080101000051"); p.Geometry = nil; return p }, ErrGeometry},
		"NaN coordinate": {func() parts.Part {
			p := fresh
			p.Code = mustCode(t, "3205080101000052")
			p.Geometry = orb.Point{nan(), 1}
			return p
		}, ErrGeometry},
		"invalid code":  {func() parts.Part { p := fresh; p.Code = 1; return p }, parts.ErrInvalidCode},
		"invalid state": {func() parts.Part { p := fresh; p.Code = mustCode(t, "3205080101000053"); p.State = 9; return p }, parts.ErrInvalid},
		"multipoint": {func() parts.Part {
			p := fresh
			p.Code = mustCode(t, "3205080101000054")
			p.Geometry = orb.MultiPoint{{1, 2}}
			return p
		}, ErrGeometry},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			err := s.PutParts(ctx, []parts.Part{good, fresh, tc.bad()})
			if !errors.Is(err, tc.want) {
				t.Fatalf("PutParts error %v, want one wrapping %v", err, tc.want)
			}
			var re *RowError
			if !errors.As(err, &re) {
				t.Errorf("error %v is not a *RowError", err)
			}
			if after := loadParts(t, s); !reflect.DeepEqual(after, before) {
				t.Errorf("a failed PutParts changed the file: %d parts before, %d after", len(before), len(after))
			}
		})
	}
}

func nan() float64 { var z float64; return z / z }

func TestPutGridsAndDelete(t *testing.T) {
	s := openT(t, writeSample(t))
	ctx := context.Background()
	gs := sampleGrids(t)
	gs[0].Name, gs[0].Version = "renamed", 2 // stored at 1
	c, _ := grid.ParseCode("32050800100103")
	extra := grid.Grid{Code: c, Name: "新", Geometry: orb.Polygon{{{1, 1}, {2, 1}, {2, 2}, {1, 1}}}}
	if err := s.PutGrids(ctx, []grid.Grid{gs[0], extra}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteGrid(ctx, gs[1].Code, 1); !errors.Is(err, grid.ErrVersionMismatch) {
		t.Errorf("delete at version 1 of a grid at 2: %v, want grid.ErrVersionMismatch", err)
	}
	if err := s.DeleteGrid(ctx, gs[1].Code, 2); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteGrid(ctx, gs[1].Code, 0); !errors.Is(err, grid.ErrNotFound) {
		t.Errorf("second delete: %v, want grid.ErrNotFound", err)
	}
	var got []grid.Grid
	if err := s.LoadGrids(ctx, func(g grid.Grid) error { got = append(got, g); return nil }); err != nil {
		t.Fatal(err)
	}
	if want := []grid.Grid{gs[0], extra}; !reflect.DeepEqual(got, want) {
		t.Errorf("grids:\n got %+v\nwant %+v", got, want)
	}
}

func TestPersistsAcrossReopen(t *testing.T) {
	path := writeSample(t)
	ctx := context.Background()
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	p := sampleParts(t)[1]
	p.Name, p.Version = "reopened", 2
	if err := s.PutParts(ctx, []parts.Part{p}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.PutParts(ctx, []parts.Part{p}); !errors.Is(err, ErrClosed) {
		t.Errorf("PutParts after Close: %v, want ErrClosed", err)
	}
	if _, err := os.Stat(path + "-wal"); err == nil {
		t.Errorf("Close left a -wal file")
	}
	s2 := openT(t, path)
	if got := loadParts(t, s2)[p.Code]; got.Name != "reopened" {
		t.Errorf("after reopen name = %q, want reopened", got.Name)
	}
}

func TestWriterErrors(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	ps := sampleParts(t)
	cases := map[string]struct {
		add  func(w *Writer) error
		want error
	}{
		"duplicate code in one call":  {func(w *Writer) error { return w.AddParts([]parts.Part{ps[0], ps[1], ps[0]}) }, parts.ErrExists},
		"duplicate code across calls": {func(w *Writer) error { w.AddParts(ps); return w.AddParts(ps[2:]) }, parts.ErrExists},
		"missing geometry":            {func(w *Writer) error { p := ps[0]; p.Geometry = nil; return w.AddParts([]parts.Part{p}) }, ErrGeometry},
		"invalid code":                {func(w *Writer) error { p := ps[0]; p.Code = 3205080100000001; return w.AddParts([]parts.Part{p}) }, parts.ErrInvalidCode},
		"duplicate grid":              {func(w *Writer) error { g := sampleGrids(t); return w.AddGrids(append(g, g[0])) }, grid.ErrExists},
		"bad division":                {func(w *Writer) error { return w.AddDivisions([]grid.Division{{Code: "3205", Level: grid.District}}) }, grid.ErrInvalidCode},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(name, " ", "_")+".gpkg")
			w, err := Create(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			err = tc.add(w)
			if err == nil {
				err = w.Commit()
			} else if cerr := w.Commit(); !errors.Is(cerr, ErrFailed) {
				t.Errorf("Commit after a failure: %v, want ErrFailed", cerr)
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want one wrapping %v", err, tc.want)
			}
			var re *RowError
			if !errors.As(err, &re) || re.Key == "" {
				t.Errorf("error %v is not a *RowError naming the row", err)
			}
			if err := w.Abort(); err != nil {
				t.Errorf("Abort: %v", err)
			}
			assertOnlyFiles(t, dir)
		})
	}
}

func TestAbortLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	w, err := Create(context.Background(), filepath.Join(dir, "city.gpkg"))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.AddParts(sampleParts(t)); err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) == 0 {
		t.Fatal("no temporary file while writing")
	}
	if _, err := os.Stat(filepath.Join(dir, "city.gpkg")); err == nil {
		t.Fatal("target exists before Commit")
	}
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}
	assertOnlyFiles(t, dir)
	if err := w.AddParts(sampleParts(t)); !errors.Is(err, ErrClosed) {
		t.Errorf("AddParts after Abort: %v, want ErrClosed", err)
	}
}

// TestCommitReplaces checks that Commit replaces an existing file whole.
func TestCommitReplaces(t *testing.T) {
	path := writeSample(t)
	w, err := Create(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.AddParts(sampleParts(t)[:1]); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	assertOnlyFiles(t, filepath.Dir(path), "city.gpkg")
	s := openT(t, path)
	if n, err := s.CountParts(context.Background()); n != 1 || err != nil {
		t.Errorf("CountParts = %d, %v; want 1", n, err)
	}
}

// assertOnlyFiles fails unless dir holds exactly the named files.
func assertOnlyFiles(t *testing.T, dir string, names ...string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	if strings.Join(got, ",") != strings.Join(names, ",") {
		t.Errorf("directory holds %v, want %v", got, names)
	}
}

func TestManyParts(t *testing.T) {
	// More than one batch, with a partial last batch.
	path := filepath.Join(t.TempDir(), "many.gpkg")
	w, err := Create(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	ps := syntheticParts(t, 1234)
	if err := w.AddParts(ps[:1000]); err != nil {
		t.Fatal(err)
	}
	if err := w.AddParts(ps[1000:]); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	s := openT(t, path)
	i := 0
	err = s.LoadParts(context.Background(), func(p parts.Part) error {
		if !reflect.DeepEqual(p, ps[i]) {
			t.Fatalf("part %d:\n got %+v\nwant %+v", i, p, ps[i])
		}
		i++
		return nil
	})
	if err != nil || i != len(ps) {
		t.Fatalf("loaded %d parts (%v), want %d", i, err, len(ps))
	}
	stop := errors.New("stop")
	if err := s.LoadParts(context.Background(), func(parts.Part) error { return stop }); err != stop {
		t.Errorf("LoadParts did not return fn's error: %v", err)
	}
}

// TestWriteWhileLoading writes from LoadParts' callback: the file is in WAL
// mode from Commit on, so the reader does not block the writer.
func TestWriteWhileLoading(t *testing.T) {
	path := writeSample(t)
	if b, err := os.ReadFile(path); err != nil || b[18] != 2 || b[19] != 2 {
		t.Fatalf("a committed file is not in WAL mode (header bytes 18-19 = %v)", b[18:20])
	}
	s := openT(t, path)
	ctx := context.Background()
	n := 0
	err := s.LoadParts(ctx, func(p parts.Part) error {
		n++
		p.Version++
		return s.PutParts(ctx, []parts.Part{p})
	})
	if err != nil || n != 3 {
		t.Fatalf("LoadParts: %d parts, %v", n, err)
	}
	for _, p := range loadParts(t, s) {
		if want := map[string]uint64{"3205080101000001": 4, "3205080211000007": 2, "3205080405000002": 8}[p.Code.String()]; p.Version != want {
			t.Errorf("part %s version %d, want %d", p.Code, p.Version, want)
		}
	}
}

// TestDamagedRows checks the errors for rows that another tool broke.
func TestDamagedRows(t *testing.T) {
	cases := map[string]struct {
		update string
		field  string
		key    string
		want   error
	}{
		"bad code":     {`UPDATE parts SET code = '12345' WHERE fid = 2`, "code", "fid 2", parts.ErrInvalidCode},
		"bad class":    {`UPDATE parts SET class = 'xx' WHERE fid = 2`, "class", "3205080211000007", parts.ErrUnknownClass},
		"bad state":    {`UPDATE parts SET state = 'broken' WHERE fid = 2`, "state", "3205080211000007", parts.ErrInvalid},
		"bad date":     {`UPDATE parts SET surveyed = '2020/01/02' WHERE fid = 2`, "surveyed", "3205080211000007", ErrRow},
		"bad geometry": {`UPDATE parts SET geom = x'47500001' WHERE fid = 2`, "geometry", "3205080211000007", ErrGeometry},
		"bad retired":  {`UPDATE parts SET retired = 5 WHERE fid = 2`, "retired", "3205080211000007", ErrRow},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			path := writeSample(t)
			db, err := sql.Open("sqlite", path)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.Exec(tc.update); err != nil {
				t.Fatal(err)
			}
			db.Close()
			s := openT(t, path)
			err = s.LoadParts(context.Background(), func(parts.Part) error { return nil })
			var re *RowError
			if !errors.As(err, &re) || re.Field != tc.field || re.Key != tc.key || !errors.Is(err, tc.want) {
				t.Errorf("LoadParts error %v, want a *RowError for %s field %s wrapping %v", err, tc.key, tc.field, tc.want)
			}
		})
	}
}

// TestDamagedDataPages damages pages in the middle of a larger file, past
// what Open checks: LoadParts must fail cleanly and the file stay as it was.
func TestDamagedDataPages(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.gpkg")
	w, err := Create(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	// Enough parts that the damaged middle of the file is theirs, not
	// the first pages of the (empty) tables of sensors and cases.
	if err := w.AddParts(syntheticParts(t, 20000)); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := len(b) / 4; i < len(b)/2; i++ {
		b[i] = byte(i * 7)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	before := hashFile(t, path)
	s, err := Open(context.Background(), path)
	if err != nil {
		if !errors.Is(err, ErrNotGeoPackage) {
			t.Errorf("Open error %v does not wrap ErrNotGeoPackage", err)
		}
	} else {
		err = s.LoadParts(context.Background(), func(parts.Part) error { return nil })
		if err == nil {
			t.Errorf("LoadParts of a damaged file succeeded")
		}
		s.Close()
	}
	if after := hashFile(t, path); !bytes.Equal(before, after) {
		t.Errorf("the damaged file was modified")
	}
}

// TestConcurrentWrites runs writes from several goroutines while loading;
// run with -race.
func TestConcurrentWrites(t *testing.T) {
	s := openT(t, writeSample(t))
	ctx := context.Background()
	base := sampleParts(t)[0]
	errs := make(chan error, 8)
	for g := range 4 {
		go func() {
			for i := range 10 {
				p := base
				p.Code = mustCode(t, fmt.Sprintf("32050801010%05d", 100+g*100+i))
				p.Version = 1
				if err := s.PutParts(ctx, []parts.Part{p}); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range 2 {
		go func() {
			errs <- s.LoadParts(ctx, func(parts.Part) error { return nil })
		}()
	}
	for range 6 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if n, err := s.CountParts(ctx); n != 43 || err != nil {
		t.Errorf("CountParts = %d, %v; want 43", n, err)
	}
}
