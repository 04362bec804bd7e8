package migrations_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"citytwin/migrations"
)

func TestEmbedded(t *testing.T) {
	for name, load := range map[string]func() ([]migrations.Migration, error){
		"postgis": migrations.PostGIS,
		"gpkg":    migrations.GeoPackage,
	} {
		t.Run(name, func(t *testing.T) {
			ms, err := load()
			if err != nil {
				t.Fatal(err)
			}
			if len(ms) < 2 || ms[0].Name != "base" || ms[1].Name != "records" {
				t.Fatalf("migrations %v, want base, records, ...", names(ms))
			}
			for i, m := range ms {
				if m.Version != i+1 || m.SQL == "" {
					t.Errorf("migration %d: %+v", i, m.File())
				}
			}
		})
	}
	pg, _ := migrations.PostGIS()
	if !slices.Contains(names(pg), "0004_changes.sql") {
		t.Errorf("postgis migrations %v, want 0004_changes among them", names(pg))
	}
}

func names(ms []migrations.Migration) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.File())
	}
	return out
}

func TestLoadRejects(t *testing.T) {
	for name, files := range map[string][]string{
		"gap":         {"0001_a.sql", "0003_c.sql"},
		"repeat":      {"0001_a.sql", "0001_b.sql"},
		"no number":   {"base.sql"},
		"short":       {"01_base.sql"},
		"upper case":  {"0001_Base.sql"},
		"not sql":     {"0001_a.txt"},
		"from zero":   {"0000_a.sql"},
		"no name":     {"0001_.sql"},
		"starts at 2": {"0002_b.sql"},
	} {
		t.Run(name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			for _, f := range files {
				fsys["m/"+f] = &fstest.MapFile{Data: []byte("SELECT 1;")}
			}
			_, err := migrations.Load(fsys, "m")
			var fe *migrations.FileError
			if !errors.As(err, &fe) || !errors.Is(err, migrations.ErrFile) {
				t.Fatalf("Load(%v) = %v, want a *FileError", files, err)
			}
		})
	}
	fsys := fstest.MapFS{"m/0001_a.sql": {Data: []byte("  \n")}}
	if _, err := migrations.Load(fsys, "m"); !errors.Is(err, migrations.ErrFile) {
		t.Errorf("empty file: %v, want ErrFile", err)
	}
}

// memTarget records what Run applies; fail makes Apply of that version fail.
type memTarget struct {
	applied map[int]string
	order   []int
	fail    int
}

func (m *memTarget) Applied(context.Context) (map[int]string, error) {
	out := map[int]string{}
	for k, v := range m.applied {
		out[k] = v
	}
	return out, nil
}

func (m *memTarget) Apply(_ context.Context, mg migrations.Migration) error {
	if mg.Version == m.fail {
		return errors.New("syntax error")
	}
	m.applied[mg.Version] = mg.Name
	m.order = append(m.order, mg.Version)
	return nil
}

func TestRun(t *testing.T) {
	ctx := context.Background()
	ms := []migrations.Migration{{1, "base", "x"}, {2, "records", "y"}, {3, "changes", "z"}}
	type tcase struct {
		applied map[int]string
		fail    int
		want    []int
		err     error
	}
	for name, tc := range map[string]tcase{
		"empty":      {applied: map[int]string{}, want: []int{1, 2, 3}},
		"up to date": {applied: map[int]string{1: "base", 2: "records", 3: "changes"}},
		"behind":     {applied: map[int]string{1: "base"}, want: []int{2, 3}},
		"newer":      {applied: map[int]string{1: "base", 4: "future"}, err: migrations.ErrNewer},
		"renamed":    {applied: map[int]string{1: "other"}, err: migrations.ErrMismatch},
		"fails":      {applied: map[int]string{}, fail: 2, want: []int{1}, err: migrations.ErrFailed},
	} {
		t.Run(name, func(t *testing.T) {
			tg := &memTarget{applied: tc.applied, fail: tc.fail}
			done, err := migrations.Run(ctx, "test", tg, ms)
			if !errors.Is(err, tc.err) || (err == nil) != (tc.err == nil) {
				t.Fatalf("Run = %v, want %v", err, tc.err)
			}
			if len(tg.order) != len(tc.want) {
				t.Fatalf("applied %v, want %v", tg.order, tc.want)
			}
			for i := range tc.want {
				if tg.order[i] != tc.want[i] || done[i].Version != tc.want[i] {
					t.Fatalf("applied %v (returned %v), want %v", tg.order, names(done), tc.want)
				}
			}
			if err != nil && !strings.Contains(err.Error(), "test") {
				t.Errorf("error %q does not name the store", err)
			}
		})
	}
}
