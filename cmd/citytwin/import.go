package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"citytwin/ingest"
	"citytwin/parts"
	"citytwin/store/gpkg"
	"citytwin/twin"
)

const importUsage = `Mapping (--map): comma-separated key=value pairs naming the source field of
each attribute: code, class, name, owner, supervisor, maintainer, state, grid,
label, material, note, lon, lat; class=NNNN sets a fixed class, county=NNNNNN
the county of generated codes, owner_map=SRC:DEPT|SRC2:DEPT2 translates owner
values, gcj02 converts GCJ-02 coordinates to WGS84. Example:
  citytwin import --data city.gpkg --map "class=0113,owner=ContractAuthority" hydrants.geojson
`

func runImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("import", stderr)
	data := fs.String("data", "", "GeoPackage store to import into (created when missing)")
	mapFlag := fs.String("map", "", "field mapping (see below)")
	format := fs.String("format", "auto", "input format: auto, geojson, geojsonseq, csv")
	strict := fs.Bool("strict", false, "fail on the first bad row instead of skipping it")
	update := fs.Bool("update", false, "modify components whose code already exists instead of skipping them")
	dry := fs.Bool("dry-run", false, "read and check everything, write nothing")
	pg := fs.String("pg", "", "import into this PostgreSQL + PostGIS database instead of a file")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: citytwin import (--data FILE | --pg URL) [flags] SOURCE...\n")
		fs.PrintDefaults()
		fmt.Fprint(stderr, importUsage)
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *data == "" && *pg == "" {
		return fmt.Errorf("%w: import: --data FILE (or --pg URL) is required", errUsage)
	}
	if fs.NArg() == 0 {
		return fmt.Errorf("%w: import: no SOURCE file given", errUsage)
	}
	m, err := ingest.ParseMapping(*mapFlag)
	if err != nil {
		return fmt.Errorf("%w: import: --map: %v", errUsage, err)
	}
	var fixed ingest.Format
	if *format != "auto" {
		if fixed, err = ingest.ParseFormat(*format); err != nil {
			return fmt.Errorf("%w: import: --format: %v", errUsage, err)
		}
	}
	// Check every source before touching the store.
	for _, name := range fs.Args() {
		if _, err := os.Stat(name); err != nil {
			return fmt.Errorf("import: %w", err)
		}
	}
	if _, err := os.Stat(*data); *data != "" && errors.Is(err, os.ErrNotExist) && !*dry {
		w, err := gpkg.Create(ctx, *data)
		if err != nil {
			return err
		}
		if err := w.Commit(); err != nil {
			_ = w.Abort()
			return err
		}
	}
	st, closeStore, err := openStore(ctx, *data, *pg)
	if err != nil {
		return err
	}
	defer closeStore()
	prog := newProgress(stderr)
	tw, err := twin.Open(ctx, st, twin.Options{Progress: prog.Update})
	prog.Done()
	if err != nil {
		return err
	}
	// Codes in use are never generated again, and a source row whose
	// source id (kept in the note) was imported before maps to its code, so
	// that importing the same file twice does not duplicate it.
	alloc := ingest.NewCodeAllocator(m.County)
	known := map[string]parts.Code{}
	tw.Parts().Each(func(p parts.Part) bool {
		alloc.Reserve(p.Code)
		if strings.HasPrefix(p.Note, ingest.SourceIDPrefix) {
			known[p.Note] = p.Code
		}
		return true
	})

	var changes []twin.PartChange
	skipped := 0
	for _, name := range fs.Args() {
		cs, sk, err := readSource(ctx, name, fixed, m, tw, alloc, known, *strict, *update, stderr, prog)
		if err != nil {
			return err
		}
		changes = append(changes, cs...)
		skipped += sk
	}
	if len(changes) == 0 {
		return fmt.Errorf("import: nothing to import (%d rows skipped)", skipped)
	}
	if *dry {
		fmt.Fprintf(stdout, "dry run: %d components would be imported, %d rows skipped\n", len(changes), skipped)
		return nil
	}
	if _, err := tw.ApplyParts(ctx, changes); err != nil {
		return fmt.Errorf("import: nothing written: %w", err)
	}
	where := *data
	if *pg != "" {
		where = "PostGIS"
	}
	fmt.Fprintf(stdout, "imported %d components into %s (%d rows skipped)\n", len(changes), where, skipped)
	return nil
}

// readSource reads one source file into change records.
func readSource(ctx context.Context, name string, f ingest.Format, m ingest.Mapping, tw *twin.Twin,
	alloc *ingest.CodeAllocator, known map[string]parts.Code, strict, update bool, stderr io.Writer, prog *progress) ([]twin.PartChange, int, error) {
	file, err := os.Open(name)
	if err != nil {
		return nil, 0, fmt.Errorf("import: %w", err)
	}
	defer file.Close()
	br := bufio.NewReaderSize(file, 1<<20)
	if f == "" {
		head, _ := br.Peek(512)
		if f, err = ingest.DetectFormat(name, head); err != nil {
			return nil, 0, fmt.Errorf("import: %s: %w (use --format)", name, err)
		}
	}
	rd, err := ingest.NewReader(br, f, m, tw.Catalogue())
	if err != nil {
		return nil, 0, fmt.Errorf("import: %s: %w", name, err)
	}
	rd.SetAllocator(alloc)
	var out []twin.PartChange
	shown, skipped := 0, 0
	for {
		p, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		var re *ingest.RowError
		switch {
		case errors.As(err, &re):
			if strict {
				return nil, 0, fmt.Errorf("import: %s: %w", name, err)
			}
			skipped++
			if shown < 20 {
				fmt.Fprintf(stderr, "%s: skipped: %v\n", name, err)
				shown++
			}
			continue
		case err != nil:
			return nil, 0, fmt.Errorf("import: %s: nothing written: %w", name, err)
		}
		if c, ok := known[p.Note]; ok && p.Note != "" {
			p.Code = c
		} else if rd.Generated() {
			if c, ok := samePlace(ctx, tw, p); ok {
				p.Code = c
			}
		}
		op := twin.OpAdd
		if _, gerr := tw.Parts().Get(p.Code); gerr == nil || errors.Is(gerr, parts.ErrRetired) {
			if !update {
				skipped++
				if shown < 20 {
					fmt.Fprintf(stderr, "%s: skipped: code %s exists (use --update to modify it)\n", name, p.Code)
					shown++
				}
				continue
			}
			op = twin.OpModify
		}
		out = append(out, twin.PartChange{Op: op, Part: p})
		if len(out)%10000 == 0 {
			prog.Update("read "+name, len(out), 0)
			if err := ctx.Err(); err != nil {
				return nil, 0, err
			}
		}
	}
	prog.Done()
	if shown < skipped {
		fmt.Fprintf(stderr, "%s: %d more rows skipped\n", name, skipped-shown)
	}
	return out, skipped, nil
}

// samePlace finds a component of p's class within half a metre of p that did
// not come with a code of its own: a row imported before without any id.
func samePlace(ctx context.Context, tw *twin.Twin, p parts.Part) (parts.Code, bool) {
	if strings.HasPrefix(p.Note, ingest.SourceIDPrefix) {
		return 0, false
	}
	ns, err := tw.Parts().Nearest(ctx, twin.RepresentativePoint(p.Geometry), 1, parts.Filter{Classes: []parts.Class{p.Class}}, 0.5)
	if err != nil || len(ns) == 0 || strings.HasPrefix(ns[0].Part.Note, ingest.SourceIDPrefix) {
		return 0, false
	}
	return ns[0].Part.Code, true
}
