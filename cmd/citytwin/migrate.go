package main

import (
	"context"
	"fmt"
	"io"

	"citytwin/migrations"
	"citytwin/store/gpkg"
	"citytwin/store/postgis"
)

// runMigrate applies the schema migrations a PostGIS database or a
// GeoPackage file lacks and says which it applied. serve, import, copy
// and token do the same at start; this is for a deployment that migrates
// once, before it starts its replicas. Safe to run twice, and from two
// machines at once.
func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("migrate", stderr)
	data := fs.String("data", "", "GeoPackage file to migrate")
	pg := fs.String("pg", "", "PostGIS database URL to migrate")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: migrate: unexpected argument %q", errUsage, fs.Arg(0))
	}
	var (
		done   []migrations.Migration
		latest int
		what   string
	)
	switch {
	case (*pg == "") == (*data == ""):
		return fmt.Errorf("%w: migrate: give --data FILE or --pg URL", errUsage)
	case *pg != "":
		s, err := postgis.Open(ctx, *pg)
		if err != nil {
			return err
		}
		defer s.Close()
		if done, err = s.ApplyMigrations(ctx); err != nil {
			return err
		}
		ms, err := migrations.PostGIS()
		if err != nil {
			return err
		}
		latest, what = migrations.Latest(ms), "the database"
	default:
		// Open applies the migrations the file lacks.
		s, err := gpkg.Open(ctx, *data)
		if err != nil {
			return err
		}
		defer s.Close()
		done = s.Migrated()
		ms, err := migrations.GeoPackage()
		if err != nil {
			return err
		}
		latest, what = migrations.Latest(ms), *data
	}
	for _, m := range done {
		fmt.Fprintf(stdout, "applied %s\n", m.File())
	}
	fmt.Fprintf(stdout, "%s is at schema version %d (%d migration(s) applied now)\n", what, latest, len(done))
	return nil
}
