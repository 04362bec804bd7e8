package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/paulmach/orb"

	"citytwin/grid"
	"citytwin/ingest"
	"citytwin/parts"
	"citytwin/store/gpkg"
	"citytwin/twin"
)

const importUsage = `Mapping (--map): comma-separated key=value pairs naming the source field of
each attribute: code, class, name, owner, supervisor, maintainer, state, grid,
label, material, note, lon, lat, geometry (a CSV column of WKT or GeoJSON
text); class=NNNN sets a fixed class, county=NNNNNN the county of generated
codes, owner_map=SRC:DEPT|SRC2:DEPT2 translates owner values, gcj02 converts
GCJ-02 coordinates to WGS84. OpenStreetMap extracts (.osm.pbf) map tags to
classes with the shipped rules (highway=street_lamp -> 0118, ...); their
default mapping is code=osm_id,class=@osm_class,name=name.
With --grids the mapping names the fields of unit grids: code, name, dept,
level, parent.

Provenance: every component keeps its source (--source, default the file's
base name) and its source id (the code field); a re-import matches rows to
components of the same source and class only. Exit status 0 when the import
succeeded, changed or not.

Examples:
  citytwin import --data city.gpkg --map "code=HYDRANT_ID,class=0113,owner=ContractAuthority" hydrants.geojson
  citytwin import --data city.gpkg --map "code=ID,class=0402,geometry=WKT" trees.csv
  citytwin import --data city.gpkg --layer shelters --map "code=fid,class=0203" city-export.gpkg
  citytwin import --data city.gpkg monaco-latest.osm.pbf
  citytwin import --data city.gpkg --grids --map "code=GRID_CODE,name=NAME,parent=COMMUNITY" grids.geojson
`

func runImport(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	fs := newFlags("import", stderr)
	data := fs.String("data", "", "GeoPackage store to import into (created when missing)")
	mapFlag := fs.String("map", "", "field mapping (see below)")
	format := fs.String("format", "auto", "input format: auto, geojson, geojsonseq, csv, osm, gpkg")
	strict := fs.Bool("strict", false, "fail on the first bad row instead of skipping it")
	update := fs.Bool("update", false, "modify components (and grids) that exist and differ instead of skipping them")
	dry := fs.Bool("dry-run", false, "read and check everything, write nothing")
	pg := fs.String("pg", "", "import into this PostgreSQL + PostGIS database instead of a file")
	source := fs.String("source", "", "name of the source (default: each file's base name); re-imports match within it")
	layer := fs.String("layer", "", "layer of a GeoPackage SOURCE to read")
	grids := fs.Bool("grids", false, "import unit grids (GeoJSON or a GeoPackage layer) instead of components")
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
	var (
		m     ingest.Mapping
		gm    ingest.GridMapping
		fixed ingest.Format
		isPkg = *format == "gpkg"
	)
	if *grids {
		if gm, err = ingest.ParseGridMapping(*mapFlag); err != nil {
			return fmt.Errorf("%w: import: --map: %v", errUsage, err)
		}
	} else if m, err = ingest.ParseMapping(*mapFlag); err != nil {
		return fmt.Errorf("%w: import: --map: %v", errUsage, err)
	}
	if *format != "auto" && !isPkg {
		if fixed, err = ingest.ParseFormat(*format); err != nil {
			return fmt.Errorf("%w: import: --format: %v", errUsage, err)
		}
	}
	// Check every source before touching the store.
	for _, name := range fs.Args() {
		if _, err := os.Stat(name); err != nil {
			return fmt.Errorf("import: %w", err)
		}
		if (isPkg || isGeoPackage(name)) && *layer == "" {
			layers, _ := gpkg.Layers(ctx, name)
			return fmt.Errorf("%w: import: %s is a GeoPackage: name the layer to read with --layer (layers: %s)", errUsage, name, strings.Join(layers, ", "))
		}
	}
	if *data != "" && !*dry {
		if _, serr := os.Stat(*data); errors.Is(serr, os.ErrNotExist) {
			w, cerr := gpkg.Create(ctx, *data)
			if cerr != nil {
				return cerr
			}
			if cerr := w.Commit(); cerr != nil {
				_ = w.Abort()
				return cerr
			}
			// A failed import into a new file leaves no file behind.
			defer func() {
				if err != nil {
					removeStoreFile(*data)
				}
			}()
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
	where := *data
	if *pg != "" {
		where = "PostGIS"
	}
	imp := &importer{ctx: ctx, tw: tw, strict: *strict, update: *update, stderr: stderr, prog: prog,
		format: fixed, gpkgSource: isPkg, layer: *layer}
	if *grids {
		return imp.grids(fs.Args(), gm, *dry, where, stdout)
	}
	return imp.parts(fs.Args(), m, *source, *dry, where, stdout)
}

func isGeoPackage(name string) bool { return strings.EqualFold(filepath.Ext(name), ".gpkg") }

// removeStoreFile removes a store file the import created, with the files
// SQLite and the store's lock leave beside it.
func removeStoreFile(path string) {
	for _, suffix := range []string{"", "-wal", "-shm", "-journal", ".lock"} {
		_ = os.Remove(path + suffix)
	}
}

// sourceName is the default source name of a file: its base name without
// extensions (hydrants.geojson -> hydrants, monaco-latest.osm.pbf ->
// monaco-latest).
func sourceName(path string) string {
	base := filepath.Base(path)
	for _, ext := range []string{".osm.pbf", ".pbf", ".geojson", ".geojsonl", ".geojsons", ".geojsonseq", ".ndjson", ".jsonl", ".json", ".csv", ".tsv", ".txt", ".gpkg"} {
		if len(base) > len(ext) && strings.EqualFold(base[len(base)-len(ext):], ext) {
			return base[:len(base)-len(ext)]
		}
	}
	return base
}

// importer holds what one import run shares across its sources.
type importer struct {
	ctx        context.Context
	tw         *twin.Twin
	strict     bool
	update     bool
	stderr     io.Writer
	prog       *progress
	format     ingest.Format
	gpkgSource bool
	layer      string
}

// provKey identifies an imported component: source, class, source id.
type provKey struct {
	source string
	class  parts.Class
	id     string
}

// summary counts what an import did.
type summary struct {
	rows, added, updated, unchanged, outside int
	repeated                                 int // rows whose source id repeats an earlier row's
	skipped                                  map[string]int
	shown                                    int
}

func (s *summary) skip(stderr io.Writer, name, reason string, detail error) {
	if s.skipped == nil {
		s.skipped = map[string]int{}
	}
	s.skipped[reason]++
	if s.shown < 20 {
		if detail != nil {
			fmt.Fprintf(stderr, "%s: skipped: %v\n", name, detail)
		} else {
			fmt.Fprintf(stderr, "%s: skipped: %s\n", name, reason)
		}
		s.shown++
	}
}

func (s *summary) nskipped() int {
	n := 0
	for _, v := range s.skipped {
		n += v
	}
	return n
}

// reasons lists the skip reasons with their counts, most frequent first.
func (s *summary) reasons() string {
	type rc struct {
		r string
		n int
	}
	var rs []rc
	for r, n := range s.skipped {
		rs = append(rs, rc{r, n})
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i].n > rs[j].n || rs[i].n == rs[j].n && rs[i].r < rs[j].r })
	var b []string
	for _, x := range rs {
		b = append(b, fmt.Sprintf("%d %s", x.n, x.r))
	}
	return strings.Join(b, ", ")
}

func (imp *importer) parts(names []string, m ingest.Mapping, source string, dry bool, where string, stdout io.Writer) error {
	tw := imp.tw
	// Codes in use are never generated again; rows map back to the
	// components of their own source and class by source id.
	alloc := ingest.NewCodeAllocator(m.County)
	known := map[provKey]parts.Code{}
	tw.Parts().Each(func(p parts.Part) bool {
		alloc.Reserve(p.Code)
		if p.SourceID != "" {
			known[provKey{p.SourceName, p.Class, p.SourceID}] = p.Code
		}
		return true
	})
	var (
		changes []twin.PartChange
		total   summary
		seen    = map[provKey]bool{}
		pending = map[parts.Code]bool{}
	)
	for _, name := range names {
		src := source
		if src == "" {
			src = sourceName(name)
		}
		s, cs, err := imp.readParts(name, src, m, alloc, known, seen, pending)
		if err != nil {
			return err
		}
		changes = append(changes, cs...)
		fmt.Fprintf(imp.stderr, "%s (source %q): %d rows: %d added, %d updated, %d unchanged, %d skipped\n",
			name, src, s.rows, s.added, s.updated, s.unchanged, s.nskipped())
		if s.repeated > 0 {
			fmt.Fprintf(imp.stderr, "%s: %d rows repeat the source id of an earlier row: kept as ID#2, ID#3, ...\n", name, s.repeated)
		}
		total.rows += s.rows
		total.added += s.added
		total.updated += s.updated
		total.unchanged += s.unchanged
		total.outside += s.outside
		for r, n := range s.skipped {
			if total.skipped == nil {
				total.skipped = map[string]int{}
			}
			total.skipped[r] += n
		}
	}
	verb := "imported"
	if dry {
		verb = "dry run: would import"
	} else if len(changes) > 0 {
		if _, err := tw.ApplyParts(imp.ctx, changes); err != nil {
			return fmt.Errorf("import: nothing written: %w", err)
		}
	}
	fmt.Fprintf(stdout, "%s %d components into %s: %d added, %d updated, %d unchanged, %d skipped",
		verb, total.added+total.updated, where, total.added, total.updated, total.unchanged, total.nskipped())
	if n := total.nskipped(); n > 0 {
		fmt.Fprintf(stdout, " (%s)", total.reasons())
	}
	fmt.Fprintf(stdout, "; %d outside every grid\n", total.outside)
	if len(changes) == 0 {
		fmt.Fprintln(stdout, "nothing changed")
	}
	return nil
}

// openPartReader opens the reader of one source file.
func (imp *importer) openPartReader(name string, m ingest.Mapping) (*ingest.Reader, func(), error) {
	if imp.gpkgSource || isGeoPackage(name) {
		lr, err := gpkg.OpenLayer(imp.ctx, name, imp.layer)
		if err != nil {
			return nil, nil, fmt.Errorf("import: %w", err)
		}
		rd, err := ingest.NewFeatureReader(lr.Next, m, imp.tw.Catalogue())
		if err != nil {
			lr.Close()
			return nil, nil, fmt.Errorf("import: %s: %w", name, err)
		}
		return rd, func() { lr.Close() }, nil
	}
	file, err := os.Open(name)
	if err != nil {
		return nil, nil, fmt.Errorf("import: %w", err)
	}
	br := bufio.NewReaderSize(file, 1<<20)
	f := imp.format
	if f == "" {
		head, _ := br.Peek(512)
		if f, err = ingest.DetectFormat(name, head); err != nil {
			file.Close()
			return nil, nil, fmt.Errorf("import: %s: %w (use --format)", name, err)
		}
	}
	rd, err := ingest.NewReader(br, f, m, imp.tw.Catalogue())
	if err != nil {
		file.Close()
		return nil, nil, fmt.Errorf("import: %s: %w", name, err)
	}
	return rd, func() { file.Close() }, nil
}

// readParts reads one source into change records.
func (imp *importer) readParts(name, src string, m ingest.Mapping, alloc *ingest.CodeAllocator,
	known map[provKey]parts.Code, seen map[provKey]bool, pending map[parts.Code]bool) (summary, []twin.PartChange, error) {
	var s summary
	rd, done, err := imp.openPartReader(name, m)
	if err != nil {
		return s, nil, err
	}
	defer done()
	rd.SetAllocator(alloc)
	rd.SetSourceName(src)
	tw := imp.tw
	var out []twin.PartChange
	for {
		p, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		var re *ingest.RowError
		switch {
		case errors.As(err, &re):
			s.rows++
			if imp.strict {
				return s, nil, fmt.Errorf("import: %s: %w", name, err)
			}
			s.skip(imp.stderr, name, "bad "+re.Field, err)
			continue
		case err != nil:
			return s, nil, fmt.Errorf("import: %s: nothing written: %w", name, err)
		}
		s.rows++
		key := provKey{src, p.Class, p.SourceID}
		if p.SourceID != "" {
			// Real data repeats ids (Cambridge's hydrants do): the n-th
			// row with an id is "ID#n", stable as long as the rows keep
			// their order.
			for n := 2; seen[key]; n++ {
				key.id = fmt.Sprintf("%s#%d", p.SourceID, n)
			}
			if key.id != p.SourceID {
				s.repeated++
				p.SourceID = key.id
			}
			seen[key] = true
		}
		if c, ok := known[key]; ok && p.SourceID != "" {
			p.Code = c
		} else if p.SourceID == "" {
			if c, ok := samePlace(imp.ctx, tw, p); ok {
				p.Code = c
			}
		}
		op := twin.OpAdd
		cur, gerr := tw.Parts().Get(p.Code)
		switch {
		case gerr == nil:
			if unchanged(cur, p) {
				s.unchanged++
				continue
			}
			if !imp.update {
				why := "changed since the last import (use --update)"
				if cur.SourceName != src || cur.SourceID != p.SourceID {
					why = "code exists in another source (use --update)"
				}
				s.skip(imp.stderr, name, why, fmt.Errorf("row %d: code %s: %s", s.rows, p.Code, why))
				continue
			}
			op = twin.OpModify
		case errors.Is(gerr, parts.ErrRetired):
			s.skip(imp.stderr, name, "retired component", fmt.Errorf("row %d: code %s is retired (作废)", s.rows, p.Code))
			continue
		}
		if pending[p.Code] {
			s.skip(imp.stderr, name, "repeated code", fmt.Errorf("row %d: code %s is given twice", s.rows, p.Code))
			continue
		}
		pending[p.Code] = true
		if op == twin.OpAdd {
			s.added++
		} else {
			s.updated++
		}
		if p.Grid == "" {
			if _, err := tw.Grids().Locate(twin.RepresentativePoint(p.Geometry)); err != nil {
				s.outside++
			}
		}
		out = append(out, twin.PartChange{Op: op, Part: p})
		if len(out)%10000 == 0 {
			imp.prog.Update("read "+name, len(out), 0)
			if err := imp.ctx.Err(); err != nil {
				return s, nil, err
			}
		}
	}
	imp.prog.Done()
	if s.shown < s.nskipped() {
		fmt.Fprintf(imp.stderr, "%s: %d more rows skipped\n", name, s.nskipped()-s.shown)
	}
	return s, out, nil
}

// unchanged reports whether the row p brings nothing new to the stored
// component cur: the same attributes and geometry (the grid only when the
// row gives one).
func unchanged(cur, p parts.Part) bool {
	return cur.Class == p.Class && cur.Name == p.Name && cur.Supervisor == p.Supervisor && cur.Owner == p.Owner &&
		cur.Maintainer == p.Maintainer && cur.State == p.State && cur.Retired == p.Retired &&
		cur.Label == p.Label && cur.Material == p.Material && cur.Note == p.Note &&
		cur.SourceName == p.SourceName && cur.SourceID == p.SourceID &&
		(p.Grid == "" || cur.Grid == p.Grid) && orb.Equal(cur.Geometry, p.Geometry)
}

// samePlace finds a component of p's class and source within half a metre
// of p that came without a source id: a row imported before without any id.
func samePlace(ctx context.Context, tw *twin.Twin, p parts.Part) (parts.Code, bool) {
	ns, err := tw.Parts().Nearest(ctx, twin.RepresentativePoint(p.Geometry), 4, parts.Filter{Classes: []parts.Class{p.Class}}, 0.5)
	if err != nil {
		return 0, false
	}
	for _, n := range ns {
		if n.Part.SourceName == p.SourceName && n.Part.SourceID == "" {
			return n.Part.Code, true
		}
	}
	return 0, false
}

// grids imports unit grids.
func (imp *importer) grids(names []string, gm ingest.GridMapping, dry bool, where string, stdout io.Writer) error {
	var (
		all     []grid.Grid
		s       summary
		repairs int
		codes   = map[grid.Code]bool{}
	)
	for _, name := range names {
		gr, done, err := imp.openGridReader(name, gm)
		if err != nil {
			return err
		}
		for {
			row, err := gr.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			var re *ingest.RowError
			switch {
			case errors.As(err, &re):
				s.rows++
				if imp.strict {
					done()
					return fmt.Errorf("import: %s: %w", name, err)
				}
				s.skip(imp.stderr, name, "bad "+re.Field, err)
				continue
			case err != nil:
				done()
				return fmt.Errorf("import: %s: nothing written: %w", name, err)
			}
			s.rows++
			if codes[row.Grid.Code] {
				s.skip(imp.stderr, name, "repeated code", fmt.Errorf("row %d: grid %s is given twice", row.Row, row.Grid.Code))
				continue
			}
			codes[row.Grid.Code] = true
			if len(row.Repairs) > 0 {
				repairs++
				fmt.Fprintf(imp.stderr, "%s: row %d: grid %s repaired: %s\n", name, row.Row, row.Grid.Code, strings.Join(row.Repairs, "; "))
			}
			if cur, err := imp.tw.Grids().Get(row.Grid.Code); err == nil && !imp.update &&
				!(cur.Name == row.Grid.Name && cur.Dept == row.Grid.Dept && orb.Equal(cur.Geometry, row.Grid.Geometry)) {
				s.skip(imp.stderr, name, "grid exists and differs (use --update)", fmt.Errorf("row %d: grid %s exists and differs (use --update)", row.Row, row.Grid.Code))
				continue
			}
			all = append(all, row.Grid)
		}
		done()
	}
	// Coverage of the grids as they will be: the imported ones over the
	// stored ones of the same communities.
	comms := map[string]bool{}
	for _, g := range all {
		comms[g.Code.Community()] = true
	}
	merged := append([]grid.Grid(nil), all...)
	imp.tw.Grids().Each(func(g grid.Grid) bool {
		if comms[g.Code.Community()] && !codes[g.Code] {
			merged = append(merged, g)
		}
		return true
	})
	overlaps, gaps := ingest.Coverage(merged)
	for i, o := range overlaps {
		if i == 20 {
			fmt.Fprintf(imp.stderr, "... %d more overlaps\n", len(overlaps)-20)
			break
		}
		fmt.Fprintf(imp.stderr, "overlap: grids %s and %s overlap near (%.6f, %.6f)\n", o.A, o.B, o.At[0], o.At[1])
	}
	for i, g := range gaps {
		if i == 20 {
			fmt.Fprintf(imp.stderr, "... %d more gaps\n", len(gaps)-20)
			break
		}
		fmt.Fprintf(imp.stderr, "gap: community %s is not covered near (%.6f, %.6f)\n", g.Community, g.At[0], g.At[1])
	}
	res := twin.GridImport{}
	if dry {
		fmt.Fprintf(stdout, "dry run: would import %d grids into %s", len(all), where)
	} else {
		var err error
		res, err = imp.tw.ImportGrids(imp.ctx, all, imp.update)
		if err != nil {
			return fmt.Errorf("import: grids: %w", err)
		}
		fmt.Fprintf(stdout, "imported %d grids into %s: %d added, %d updated, %d unchanged", res.Added+res.Updated, where, res.Added, res.Updated, res.Unchanged)
	}
	fmt.Fprintf(stdout, ", %d skipped", s.nskipped())
	if s.nskipped() > 0 {
		fmt.Fprintf(stdout, " (%s)", s.reasons())
	}
	fmt.Fprintf(stdout, "; %d repaired; coverage: %d overlaps, %d gaps; %d components re-located\n", repairs, len(overlaps), len(gaps), len(res.Relocated))
	return nil
}

func (imp *importer) openGridReader(name string, gm ingest.GridMapping) (*ingest.GridReader, func(), error) {
	if imp.gpkgSource || isGeoPackage(name) {
		lr, err := gpkg.OpenLayer(imp.ctx, name, imp.layer)
		if err != nil {
			return nil, nil, fmt.Errorf("import: %w", err)
		}
		return ingest.NewGridFeatureReader(lr.Next, gm), func() { lr.Close() }, nil
	}
	file, err := os.Open(name)
	if err != nil {
		return nil, nil, fmt.Errorf("import: %w", err)
	}
	br := bufio.NewReaderSize(file, 1<<20)
	f := imp.format
	if f == "" {
		head, _ := br.Peek(512)
		if f, err = ingest.DetectFormat(name, head); err != nil {
			file.Close()
			return nil, nil, fmt.Errorf("import: %s: %w (use --format)", name, err)
		}
	}
	gr, err := ingest.NewGridReader(br, f, gm)
	if err != nil {
		file.Close()
		return nil, nil, fmt.Errorf("import: %s: %w", name, err)
	}
	return gr, func() { file.Close() }, nil
}
