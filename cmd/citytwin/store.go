package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"

	"citytwin/app"
	"citytwin/grid"
	"citytwin/parts"
	"citytwin/store/gpkg"
	"citytwin/store/postgis"
)

// openStore opens the GeoPackage at data, or, when pg is set, the PostGIS
// database at pg, migrated (app.OpenStore); exactly one must be given.
// close releases it.
func openStore(ctx context.Context, data, pg string) (st app.Store, close func(), err error) {
	switch {
	case pg != "" && data != "":
		return nil, nil, fmt.Errorf("%w: give --data FILE or --pg URL, not both", errUsage)
	case pg == "" && data == "":
		return nil, nil, fmt.Errorf("%w: give --data FILE or --pg URL", errUsage)
	}
	return app.OpenStore(ctx, data, pg)
}

// runCopy copies a GeoPackage city into an empty PostGIS database, the way
// a deployment moves from the embedded store to a shared one.
func runCopy(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("copy", stderr)
	data := fs.String("data", "", "GeoPackage file to copy from")
	pg := fs.String("pg", "", "PostGIS database URL to copy into (its tables must be empty)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *data == "" || *pg == "" {
		return fmt.Errorf("%w: copy: --data FILE and --pg URL are required", errUsage)
	}
	if _, err := os.Stat(*data); err != nil {
		return fmt.Errorf("copy: %w", err)
	}
	src, err := gpkg.Open(ctx, *data)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := postgis.Open(ctx, *pg)
	if err != nil {
		return err
	}
	defer dst.Close()
	if err := dst.Migrate(ctx); err != nil {
		return err
	}
	if n, err := dst.CountParts(ctx); err != nil {
		return err
	} else if n > 0 {
		return fmt.Errorf("copy: the database already holds %d components; copy into an empty one", n)
	}
	var ds []grid.Division
	var gs []grid.Grid
	var ps []parts.Part
	prog := newProgress(stderr)
	err = errors.Join(
		src.LoadDivisions(ctx, func(d grid.Division) error { ds = append(ds, d); return nil }),
		src.LoadGrids(ctx, func(g grid.Grid) error { gs = append(gs, g); return nil }),
		src.LoadParts(ctx, func(p parts.Part) error {
			ps = append(ps, p)
			if len(ps)%100000 == 0 {
				prog.Update("read", len(ps), 0)
			}
			return nil
		}),
	)
	prog.Done()
	if err != nil {
		return fmt.Errorf("copy: nothing written: %w", err)
	}
	_, err = dst.CopyDivisions(ctx, slices.Values(ds))
	if err == nil {
		_, err = dst.CopyGrids(ctx, slices.Values(gs))
	}
	if err == nil {
		_, err = dst.CopyParts(ctx, slices.Values(ps))
	}
	if err != nil {
		// Each table is copied in a transaction of its own: empty them all
		// again so that no half-copied city stays behind.
		if terr := dst.Truncate(context.WithoutCancel(ctx)); terr != nil {
			return fmt.Errorf("copy: %w (and emptying the tables again failed: %v)", err, terr)
		}
		return fmt.Errorf("copy: nothing kept: %w", err)
	}
	fmt.Fprintf(stdout, "copied %d components, %d grids and %d divisions from %s into PostGIS\n", len(ps), len(gs), len(ds), *data)
	return nil
}
