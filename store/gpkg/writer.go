package gpkg

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"citytwin/grid"
	"citytwin/parts"

	"github.com/paulmach/orb"
)

// batchRows is the number of rows per multi-row INSERT statement.
const batchRows = 50

// Writer builds a new GeoPackage file. Rows go into a temporary file next to
// the target, in one transaction; Commit renames it over the target. A
// Writer is not safe for concurrent use. After a failed call the Writer
// only accepts Abort.
type Writer struct {
	ctx  context.Context
	path string // the target
	tmp  string // the temporary file
	conn *rawConn

	enc       *encoder
	partStmt  *rawStmt // batchRows rows
	vals      values
	partBound orb.Bound
	hasParts  bool
	gridBound orb.Bound
	hasGrids  bool
	rtrees    []rtreeIndex // the spatial indexes filled by finish

	err  error // the first failure
	done bool  // committed or aborted
}

// Create starts a new GeoPackage that Commit will write to path. Nothing
// appears at path until Commit; the rows go to path+".tmp-XXXX" in the same
// directory, which Abort removes.
func Create(ctx context.Context, path string) (*Writer, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("gpkg: create %s: %w", path, err)
	}
	f, err := os.CreateTemp(filepath.Dir(abs), filepath.Base(abs)+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("gpkg: create %s: %w", path, err)
	}
	tmp := f.Name()
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return nil, fmt.Errorf("gpkg: create %s: %w", path, err)
	}
	w := &Writer{ctx: ctx, path: abs, tmp: tmp, enc: newEncoder()}
	if err := w.start(); err != nil {
		w.Abort()
		return nil, fmt.Errorf("gpkg: create %s: %w", path, err)
	}
	return w, nil
}

// fileURI returns the SQLite URI of an absolute path with query q.
func fileURI(abs, q string) string {
	u := url.URL{Scheme: "file", OmitHost: true, Path: filepath.ToSlash(abs), RawQuery: q}
	return u.String()
}

func (w *Writer) start() error {
	conn, err := openRaw(w.tmp, openReadWrite)
	if err != nil {
		return err
	}
	w.conn = conn
	// The temporary file is private until Commit, so it needs no journal,
	// no syncs and no locks on every write; Commit syncs it once.
	if err := conn.exec(fmt.Sprintf(`PRAGMA page_size = 32768; PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;
PRAGMA locking_mode = EXCLUSIVE; PRAGMA cache_size = -131072; PRAGMA temp_store = MEMORY;
PRAGMA application_id = %d; PRAGMA user_version = %d; BEGIN`, ApplicationID, UserVersion)); err != nil {
		return err
	}
	schema, err := newFileSQL()
	if err != nil {
		return err
	}
	if err := conn.exec(strings.Join(slices.Concat([]string{schema}, tokensSQL), ";\n")); err != nil {
		return fmt.Errorf("gpkg: create schema: %w", err)
	}
	if w.rtrees, err = w.suspendRtrees(); err != nil {
		return fmt.Errorf("gpkg: create schema: %w", err)
	}
	if w.partStmt, err = conn.prepare(insertSQL("parts", partColumns, batchRows, "")); err != nil {
		return err
	}
	return nil
}

// insertSQL returns a multi-row INSERT of rows rows into table, followed by
// suffix (an upsert clause).
func insertSQL(table string, columns []string, rows int, suffix string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "INSERT INTO %s (%s) VALUES ", table, strings.Join(columns, ", "))
	row := "(" + strings.Repeat("?, ", len(columns)-1) + "?)"
	for i := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(row)
	}
	b.WriteString(suffix)
	return b.String()
}

// usable reports why the Writer cannot take another call, or nil.
func (w *Writer) usable() error {
	switch {
	case w.done:
		return fmt.Errorf("gpkg: writer for %s: %w", w.path, ErrClosed)
	case w.err != nil:
		return fmt.Errorf("%w: %w", ErrFailed, w.err)
	}
	return nil
}

// fail records err as the Writer's failure and returns it.
func (w *Writer) fail(err error) error {
	w.err = err
	return err
}

// AddParts adds parts to the new file, batchRows rows per statement. An
// invalid code, state or geometry gives a *RowError naming the part and
// the field. Codes are checked for uniqueness by Commit, which builds the
// index on code: a code added twice makes Commit fail with a *RowError
// wrapping parts.ErrExists.
func (w *Writer) AddParts(ps []parts.Part) error {
	if err := w.usable(); err != nil {
		return err
	}
	for len(ps) > 0 {
		if err := w.ctx.Err(); err != nil {
			return w.fail(fmt.Errorf("gpkg: add parts: %w", err))
		}
		n := min(len(ps), batchRows)
		batch := ps[:n]
		ps = ps[n:]
		w.vals.reset()
		for i := range batch {
			b, err := w.enc.appendPart(&w.vals, &batch[i])
			if err != nil {
				return w.fail(err)
			}
			w.partBound = extend(w.partBound, b, w.hasParts)
			w.hasParts = true
		}
		stmt := w.partStmt
		if n < batchRows {
			var err error
			if stmt, err = w.conn.prepare(insertSQL("parts", partColumns, n, "")); err != nil {
				return w.fail(fmt.Errorf("gpkg: add parts: %w", err))
			}
			defer stmt.close()
		}
		if err := stmt.run(&w.vals); err != nil {
			return w.fail(w.explainPartsError(batch, err))
		}
	}
	return nil
}

// explainPartsError names the batch behind a failed insert.
func (w *Writer) explainPartsError(batch []parts.Part, err error) error {
	return fmt.Errorf("gpkg: add parts %s..%s: %w", batch[0].Code, batch[len(batch)-1].Code, err)
}

// duplicateCode finds a code that is in parts twice, after building the
// unique index failed with err.
func (w *Writer) duplicateCode(err error) error {
	q, qerr := w.conn.prepare(`SELECT code FROM parts GROUP BY code HAVING count(*) > 1 LIMIT 1`)
	if qerr != nil {
		return err
	}
	defer q.close()
	if row, _ := q.step(); row {
		return &RowError{Table: "parts", Key: string(q.text(0)), Field: "code", Err: parts.ErrExists}
	}
	return err
}

// isUnique reports whether err is an SQLite UNIQUE constraint failure.
func isUnique(err error) bool {
	var c interface{ Code() int }
	return errors.As(err, &c) && (c.Code() == 2067 || c.Code() == 1555) // SQLITE_CONSTRAINT_UNIQUE, _PRIMARYKEY
}

// extend returns a extended by b; a is ignored while has is false.
func extend(a, b orb.Bound, has bool) orb.Bound {
	if !has {
		return b
	}
	return a.Union(b)
}

// AddGrids adds unit grids to the new file. A code that is already in
// the file gives a *RowError wrapping grid.ErrExists.
func (w *Writer) AddGrids(gs []grid.Grid) error {
	if err := w.usable(); err != nil {
		return err
	}
	stmt, err := w.conn.prepare(insertSQL("grids", gridColumns, 1, ""))
	if err != nil {
		return w.fail(fmt.Errorf("gpkg: add grids: %w", err))
	}
	defer stmt.close()
	for i := range gs {
		w.vals.reset()
		b, err := appendGrid(&w.vals, &gs[i])
		if err != nil {
			return w.fail(err)
		}
		if err := stmt.run(&w.vals); err != nil {
			if isUnique(err) {
				err = grid.ErrExists
			}
			return w.fail(&RowError{Table: "grids", Key: string(gs[i].Code), Field: "code", Err: err})
		}
		w.gridBound = extend(w.gridBound, b, w.hasGrids)
		w.hasGrids = true
	}
	return nil
}

// AddDivisions adds named districts, streets and communities. A code that
// is already in the file gives a *RowError wrapping grid.ErrExists.
func (w *Writer) AddDivisions(ds []grid.Division) error {
	if err := w.usable(); err != nil {
		return err
	}
	stmt, err := w.conn.prepare(`INSERT INTO divisions (code, name, level) VALUES (?, ?, ?)`)
	if err != nil {
		return w.fail(fmt.Errorf("gpkg: add divisions: %w", err))
	}
	defer stmt.close()
	for _, d := range ds {
		if err := checkDivision(d); err != nil {
			return w.fail(err)
		}
		w.vals.reset()
		w.vals.text(d.Code)
		w.vals.text(d.Name)
		w.vals.text(d.Level.String())
		if err := stmt.run(&w.vals); err != nil {
			if isUnique(err) {
				err = grid.ErrExists
			}
			return w.fail(&RowError{Table: "divisions", Key: d.Code, Field: "code", Err: err})
		}
	}
	return nil
}

// checkDivision checks that a division's code is all digits and as long as
// its level says.
func checkDivision(d grid.Division) error {
	bad := func(reason string) error {
		return &RowError{Table: "divisions", Key: d.Code, Field: "code", Err: fmt.Errorf("%w: %s", grid.ErrInvalidCode, reason)}
	}
	if d.Level < grid.District || d.Level > grid.Community {
		return &RowError{Table: "divisions", Key: d.Code, Field: "level", Err: fmt.Errorf("%w: level %v is not district, street or community", ErrRow, d.Level)}
	}
	if grid.LevelOf(d.Code) != d.Level {
		return bad(fmt.Sprintf("%d digits do not name a %s", len(d.Code), d.Level))
	}
	for i := 0; i < len(d.Code); i++ {
		if d.Code[i] < '0' || d.Code[i] > '9' {
			return bad(fmt.Sprintf("character %d is %q, not a digit", i+1, d.Code[i]))
		}
	}
	return nil
}

// Commit finishes the file (the layer extents in gpkg_contents), syncs it
// to disk and renames it over the target path atomically. On error the
// temporary file is removed.
func (w *Writer) Commit() error {
	if err := w.usable(); err != nil {
		return err
	}
	err := w.finish()
	if err != nil {
		w.Abort()
		return fmt.Errorf("gpkg: commit %s: %w", w.path, err)
	}
	w.done = true
	return nil
}

func (w *Writer) finish() error {
	ext, err := w.conn.prepare(`UPDATE gpkg_contents SET min_x = ?, min_y = ?, max_x = ?, max_y = ? WHERE table_name = ?`)
	if err != nil {
		return err
	}
	defer ext.close()
	for _, e := range []struct {
		table string
		b     orb.Bound
		has   bool
	}{{"parts", w.partBound, w.hasParts}, {"grids", w.gridBound, w.hasGrids}} {
		if !e.has {
			continue
		}
		w.vals.reset()
		w.vals.float(e.b.Min[0])
		w.vals.float(e.b.Min[1])
		w.vals.float(e.b.Max[0])
		w.vals.float(e.b.Max[1])
		w.vals.text(e.table)
		if err := ext.run(&w.vals); err != nil {
			return err
		}
	}
	ext.close()
	w.partStmt.close()
	if err := w.fillRtrees(); err != nil {
		return err
	}
	// The unique index on code is built once, from sorted keys, rather
	// than kept up to date row by row: a fifth of the time of a bulk load.
	if err := w.conn.exec(createPartsCodeIndex); err != nil {
		if isUnique(err) {
			return w.duplicateCode(err)
		}
		return err
	}
	// The file is committed in WAL journal mode, the mode Store works in,
	// so that opening it never has to change it.
	if err := w.conn.exec(`UPDATE gpkg_contents SET last_change = strftime('%Y-%m-%dT%H:%M:%fZ','now'); COMMIT;
PRAGMA journal_mode = WAL`); err != nil {
		return err
	}
	err = w.conn.close()
	w.conn = nil
	if err != nil {
		return err
	}
	mode := os.FileMode(0o644)
	if st, err := os.Stat(w.path); err == nil {
		mode = st.Mode().Perm()
	}
	if err := os.Chmod(w.tmp, mode); err != nil {
		return err
	}
	if err := syncFile(w.tmp); err != nil {
		return err
	}
	if err := os.Rename(w.tmp, w.path); err != nil {
		return err
	}
	return syncDir(filepath.Dir(w.path))
}

// rtreeIndex is one gpkg_rtree_index spatial index of the new file: its
// virtual table, and the insert trigger that Writer drops while it loads
// and creates again once the rows are in.
type rtreeIndex struct {
	table, column string
	trigger       string // name
	triggerSQL    string // as sqlite_master held it
}

// suspendRtrees drops the insert triggers of the file's rtree spatial
// indexes (gpkg_extensions rows of gpkg_rtree_index) and returns them for
// fillRtrees. A trigger per row, calling five SQL functions on each blob,
// made a bulk load three times slower; GDAL also fills the rtree once,
// after the load.
func (w *Writer) suspendRtrees() ([]rtreeIndex, error) {
	q, err := w.conn.prepare(`SELECT e.table_name, e.column_name, t.name, t.sql
  FROM gpkg_extensions e JOIN sqlite_master t
    ON t.type = 'trigger' AND t.tbl_name = e.table_name
   AND t.name = 'rtree_' || e.table_name || '_' || e.column_name || '_insert'
  WHERE e.extension_name = 'gpkg_rtree_index' ORDER BY e.table_name`)
	if err != nil {
		return nil, err
	}
	defer q.close()
	var rs []rtreeIndex
	for {
		row, err := q.step()
		if err != nil {
			return nil, err
		}
		if !row {
			break
		}
		rs = append(rs, rtreeIndex{table: string(q.text(0)), column: string(q.text(1)),
			trigger: string(q.text(2)), triggerSQL: string(q.text(3))})
	}
	q.close()
	for _, r := range rs {
		if err := w.conn.exec(fmt.Sprintf(`DROP TRIGGER %q`, r.trigger)); err != nil {
			return nil, err
		}
	}
	return rs, nil
}

// fillRtrees fills each spatial index once, after the load: packed in
// memory and written to the module's tables (bulkLoadRtree, as GDAL does
// for a new layer), or else by one INSERT ... SELECT through the module.
// Either way it holds one entry per non-empty geometry with the box the
// insert trigger gives. Then it creates the trigger again, so that the
// committed file is the one the migrations make.
func (w *Writer) fillRtrees() error {
	for _, r := range w.rtrees {
		ok, err := w.bulkLoadRtree(r)
		if err == nil && !ok {
			c := fmt.Sprintf("%q", r.column)
			err = w.conn.exec(fmt.Sprintf(`INSERT OR REPLACE INTO %q SELECT fid, ST_MinX(%s), ST_MaxX(%s), ST_MinY(%s), ST_MaxY(%s) FROM %q
  WHERE %s NOT NULL AND NOT ST_IsEmpty(%s)`, "rtree_"+r.table+"_"+r.column, c, c, c, c, r.table, c, c))
		}
		if err != nil {
			return fmt.Errorf("fill the spatial index of %s: %w", r.table, err)
		}
		if err := w.conn.exec(r.triggerSQL); err != nil {
			return fmt.Errorf("spatial index trigger of %s: %w", r.table, err)
		}
	}
	w.rtrees = nil
	return nil
}

// Abort abandons the new file and removes the temporary file. It is safe
// to call after Commit (it does nothing then) and more than once.
func (w *Writer) Abort() error {
	if w.done && w.conn == nil {
		return nil
	}
	w.done = true
	if w.conn != nil {
		w.partStmt.close()
		w.conn.close()
		w.conn = nil
	}
	var errs []error
	for _, suffix := range []string{"", "-journal", "-wal", "-shm"} {
		if err := os.Remove(w.tmp + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("gpkg: abort %s: %w", w.path, err)
	}
	return nil
}

func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	d.Sync() // not every file system syncs directories; the rename is done
	return nil
}
