package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"citytwin/parts"
	"citytwin/store/gpkg"
	"citytwin/synth"
)

func runGen(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o := synth.DefaultOptions()
	fs := newFlags("gen", stderr)
	fs.IntVar(&o.Components, "components", o.Components, "number of components (部件)")
	fs.IntVar(&o.Grids, "grids", o.Grids, "number of unit grids (单元网格)")
	fs.Int64Var(&o.Seed, "seed", o.Seed, "random seed: the same seed makes the same city")
	out := fs.String("out", "", "GeoPackage file to write (replaced atomically)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return fmt.Errorf("%w: gen: --out FILE is required", errUsage)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: gen: unexpected argument %q", errUsage, fs.Arg(0))
	}
	if err := o.Validate(); err != nil {
		return fmt.Errorf("%w: gen: %v", errUsage, err)
	}
	start := time.Now()
	if err := generate(ctx, o, *out, newProgress(stderr)); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: %d components, %d grids in %.1fs\n", *out, o.Components, o.Grids, time.Since(start).Seconds())
	return nil
}

// generate writes a synthetic city to path, atomically.
func generate(ctx context.Context, o synth.Options, path string, p *progress) error {
	w, err := gpkg.Create(ctx, path)
	if err != nil {
		return err
	}
	err = synth.Generate(ctx, o, parts.DefaultCatalogue(), w, func(done, total int) {
		p.Update("gen", done, total)
	})
	p.Done()
	if err != nil {
		_ = w.Abort()
		return fmt.Errorf("gen: %w", err)
	}
	if err := w.Commit(); err != nil {
		_ = w.Abort()
		return fmt.Errorf("gen: %w", err)
	}
	return nil
}
