package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"citytwin/grid"
	"citytwin/incidents"
	"citytwin/parts"
	"citytwin/sensors"
	"citytwin/store/gpkg"
	"citytwin/store/postgis"
	"citytwin/twin"
)

// exportBatch is how many components go to the GeoPackage writer at once.
const exportBatch = 10000

// runExport writes the city in a PostGIS database back to one GeoPackage
// file: components, grids and divisions through the writer of gen, then
// sensors, their last status and alarms, cases, departments, the
// responsibility table, the calendar and the API tokens through the
// store's record writer, all into a temporary file renamed over --out at
// the end (nothing appears at --out on failure). The notification outbox
// is not exported: its deliveries belong to the database's replicas.
func runExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("export", stderr)
	pg := fs.String("pg", "", "PostGIS database URL to export (search_path= in the URL picks the schema)")
	out := fs.String("out", "", "GeoPackage file to write (replaced when it exists)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *pg == "" || *out == "" {
		return fmt.Errorf("%w: export: --pg URL and --out FILE are required", errUsage)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: export: unexpected argument %q", errUsage, fs.Arg(0))
	}
	start := time.Now()
	src, err := postgis.Open(ctx, *pg)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	defer src.Close()
	if err := src.Migrate(ctx); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	abs, err := filepath.Abs(*out)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	tmp := abs + ".export-tmp"
	_ = os.Remove(tmp)
	// After the rename only the store's lock file of the temporary name
	// is left (see gpkg.Open).
	defer os.Remove(tmp + ".lock")
	defer os.Remove(tmp)
	prog := newProgress(stderr)
	counts, err := exportCity(ctx, src, tmp, prog)
	prog.Done()
	if err != nil {
		return fmt.Errorf("export: nothing written to %s: %w", *out, err)
	}
	if err := os.Rename(tmp, abs); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	fmt.Fprintf(stdout, "exported %d components, %d grids, %d divisions, %d sensors, %d alarms, %d cases, %d departments, %d tokens to %s in %.1fs (the notification outbox is not exported)\n",
		counts.parts, counts.grids, counts.divisions, counts.sensors, counts.alarms, counts.cases, counts.departments, counts.tokens, *out, time.Since(start).Seconds())
	return nil
}

type exportCounts struct {
	parts, grids, divisions, sensors, alarms, cases, departments, tokens int
}

// exportCity writes everything of src into a new GeoPackage at path.
func exportCity(ctx context.Context, src *postgis.Store, path string, prog *progress) (exportCounts, error) {
	var n exportCounts
	total, err := src.CountParts(ctx)
	if err != nil {
		return n, err
	}
	w, err := gpkg.Create(ctx, path)
	if err != nil {
		return n, err
	}
	var ds []grid.Division
	var gs []grid.Grid
	batch := make([]parts.Part, 0, exportBatch)
	err = errors.Join(
		src.LoadDivisions(ctx, func(d grid.Division) error { ds = append(ds, d); return nil }),
		src.LoadGrids(ctx, func(g grid.Grid) error { gs = append(gs, g); return nil }),
	)
	if err == nil {
		err = w.AddDivisions(ds)
	}
	if err == nil {
		err = w.AddGrids(gs)
	}
	if err == nil {
		err = src.LoadParts(ctx, func(p parts.Part) error {
			batch = append(batch, p)
			if len(batch) < exportBatch {
				return nil
			}
			n.parts += len(batch)
			prog.Update("export", n.parts, total)
			err := w.AddParts(batch)
			batch = batch[:0]
			return err
		})
	}
	if err == nil && len(batch) > 0 {
		n.parts += len(batch)
		err = w.AddParts(batch)
	}
	if err != nil {
		_ = w.Abort()
		return n, err
	}
	if err := w.Commit(); err != nil {
		return n, err
	}
	n.grids, n.divisions = len(gs), len(ds)
	prog.Update("export", n.parts, total)

	// The records: through the store, into the file just written.
	dst, err := gpkg.Open(ctx, path)
	if err != nil {
		return n, err
	}
	defer dst.Close()
	var b twin.Batch
	err = errors.Join(
		src.LoadSensors(ctx, func(s sensors.Sensor, st sensors.Status) error {
			b.Sensors = append(b.Sensors, twin.Versioned[sensors.Sensor]{Value: s})
			if st.Sensor != "" {
				b.Statuses = append(b.Statuses, st)
			}
			return nil
		}),
		src.LoadAlarms(ctx, time.Time{}, func(a sensors.Alarm) error { b.Alarms = append(b.Alarms, a); return nil }),
		src.LoadCases(ctx, func(c incidents.Case) error {
			b.Cases = append(b.Cases, twin.Versioned[incidents.Case]{Value: c})
			return nil
		}),
		src.LoadDepartments(ctx, func(d incidents.Department) error {
			b.Departments = append(b.Departments, twin.Versioned[incidents.Department]{Value: d})
			return nil
		}),
		src.LoadResponsibilities(ctx, func(r incidents.Responsibility) error {
			b.Responsibilities = append(b.Responsibilities, twin.Versioned[incidents.Responsibility]{Value: r})
			return nil
		}),
	)
	if err != nil {
		return n, err
	}
	if cal, ok, err := src.LoadCalendar(ctx); err != nil {
		return n, err
	} else if ok {
		b.Calendar = &cal
	}
	if err := dst.Write(ctx, b); err != nil {
		return n, err
	}
	ts, err := src.ListTokens(ctx)
	if err != nil {
		return n, err
	}
	for _, t := range ts {
		if err := dst.PutToken(ctx, t); err != nil {
			return n, err
		}
	}
	n.sensors, n.alarms, n.cases, n.departments, n.tokens = len(b.Sensors), len(b.Alarms), len(b.Cases), len(b.Departments), len(ts)
	return n, dst.Close()
}
