package main

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"citytwin/migrations"
)

func TestMigrateCommand(t *testing.T) {
	pg, _ := pgCity(t)
	ms, err := migrations.PostGIS()
	if err != nil {
		t.Fatal(err)
	}
	out, _, err := runCmd(t, "migrate", "--pg", pg)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if !strings.Contains(out, "applied "+m.File()+"\n") {
			t.Errorf("first migrate does not say it applied %s:\n%s", m.File(), out)
		}
	}
	out, _, err = runCmd(t, "migrate", "--pg", pg)
	if err != nil || strings.Contains(out, "applied 0") || !strings.Contains(out, "(0 migration(s) applied now)") {
		t.Fatalf("second migrate: %q, %v; want nothing applied", out, err)
	}

	city := filepath.Join(t.TempDir(), "city.gpkg")
	if _, _, err := runCmd(t, "gen", "--components", "200", "--grids", "4", "--out", city); err != nil {
		t.Fatal(err)
	}
	out, _, err = runCmd(t, "migrate", "--data", city)
	if err != nil || !strings.Contains(out, "(0 migration(s) applied now)") {
		t.Fatalf("migrate of a new file: %q, %v; want it up to date", out, err)
	}

	for name, args := range map[string][]string{
		"neither": {"migrate"},
		"both":    {"migrate", "--pg", pg, "--data", city},
		"extra":   {"migrate", "--data", city, "x"},
	} {
		t.Run(name, func(t *testing.T) {
			if _, _, err := runCmd(t, args...); !errors.Is(err, errUsage) {
				t.Errorf("%v: %v, want a usage error", args, err)
			}
		})
	}
}
