package gpkg

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"citytwin/grid"
	"citytwin/migrations"
	"citytwin/parts"

	"github.com/paulmach/orb"
	_ "modernc.org/sqlite" // the "sqlite" database/sql driver
	sqlite3 "modernc.org/sqlite/lib"
)

// busyTimeoutMS is how long a statement waits for a lock held by another
// process before it fails.
const busyTimeoutMS = 10000

// Store is an open GeoPackage file. Reads may run concurrently; writes are
// serialized, each in one transaction. Its methods are safe for concurrent
// use.
type Store struct {
	path string
	abs  string
	db   *sql.DB

	mu     sync.Mutex // serializes writes
	closed bool
	wal    bool      // the file is in WAL journal mode
	lock   *fileLock // held while the store is open: one writing process per file

	migrated []migrations.Migration // applied by Open
}

// Open opens an existing GeoPackage file written by Create. It first checks,
// without writing anything, that path is an SQLite database (intact as far
// as its header tells), a GeoPackage (application_id 'GPKG') and holds this
// package's tables; a file that fails gets an *OpenError wrapping
// ErrNotGeoPackage or ErrSchema that names the path and the reason, and
// the file is left as it was. Files that Create writes are in WAL journal
// mode already; any other file is switched to WAL by the first write, so
// that one found damaged only when it is loaded stays untouched. Writes
// wait up to 10 s for a lock held by another process.
//
// Open takes an exclusive lock on the file for as long as the Store is
// open (path+".lock"): a second citytwin process that opens it gets a
// *LockError wrapping ErrLocked naming the first one's pid, rather than
// writing behind it. Readers that do not use Open (ogrinfo, QGIS) are not
// kept out. Then Open applies the migrations the file lacks (Migrate). A write is on disk
// when it returns (synchronous=FULL: the WAL is synced at every commit).
func Open(ctx context.Context, path string) (*Store, error) {
	registerSQLFunctions()
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, &OpenError{Path: path, Reason: "bad path", Err: ErrNotGeoPackage, Cause: err}
	}
	wal, herr := checkHeader(abs)
	if herr != nil {
		herr.Path = path
		return nil, herr
	}
	if err := checkTables(ctx, abs, wal); err != nil {
		err.Path = path
		return nil, err
	}
	q := fmt.Sprintf("mode=rw&_pragma=busy_timeout(%d)&_pragma=synchronous(FULL)&_txlock=immediate", busyTimeoutMS)
	lock, err := lockFile(abs)
	if err != nil {
		var le *LockError
		if errors.As(err, &le) {
			le.Path = path
		}
		return nil, err
	}
	db, err := sql.Open("sqlite", fileURI(abs, q))
	if err != nil {
		lock.unlock()
		return nil, &OpenError{Path: path, Reason: "cannot open for writing", Err: ErrNotGeoPackage, Cause: err}
	}
	db.SetMaxOpenConns(4)
	db.SetMaxIdleConns(4)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		lock.unlock()
		return nil, &OpenError{Path: path, Reason: "cannot open for writing", Err: ErrNotGeoPackage, Cause: err}
	}
	s := &Store{path: path, abs: abs, db: db, wal: wal, lock: lock}
	if s.migrated, err = s.ApplyMigrations(ctx); err != nil {
		s.Close()
		var oe *OpenError
		if errors.As(err, &oe) || errors.Is(err, ErrSchema) {
			return nil, err
		}
		return nil, &OpenError{Path: path, Reason: "cannot apply the schema migrations", Err: ErrSchema, Cause: err}
	}
	return s, nil
}

// checkHeader reads the 100-byte SQLite header of path and checks the
// magic string, the GeoPackage application_id and user_version, and that
// the file is as long as the header says.
// It also reports whether the file is in WAL journal mode.
func checkHeader(abs string) (wal bool, _ *OpenError) {
	fail := func(reason string, cause error) *OpenError {
		return &OpenError{Reason: reason, Err: ErrNotGeoPackage, Cause: cause}
	}
	f, err := os.Open(abs)
	if errors.Is(err, fs.ErrNotExist) {
		return false, fail("no such file", err)
	}
	if err != nil {
		return false, fail("cannot open", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return false, fail("cannot stat", err)
	}
	if st.IsDir() {
		return false, fail("is a directory", nil)
	}
	var h [100]byte
	n, err := io.ReadFull(f, h[:])
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return false, fail("cannot read", err)
	}
	if n < len(h) || string(h[:16]) != "SQLite format 3\x00" {
		return false, fail(fmt.Sprintf("not an SQLite database (the file is %d bytes and does not start with the SQLite header)", st.Size()), nil)
	}
	if id := binary.BigEndian.Uint32(h[68:]); id != ApplicationID {
		return false, fail(fmt.Sprintf("an SQLite database but not a GeoPackage: application_id is 0x%08X, want 0x%08X ('GPKG')", id, ApplicationID), nil)
	}
	if v := binary.BigEndian.Uint32(h[60:]); v < 10200 || v >= 20000 {
		return false, fail(fmt.Sprintf("GeoPackage user_version %d is not a 1.x version from 1.2 (10200) on", v), nil)
	}
	pageSize := int64(binary.BigEndian.Uint16(h[16:]))
	if pageSize == 1 {
		pageSize = 65536
	}
	pages := int64(binary.BigEndian.Uint32(h[28:]))
	validFor, changes := binary.BigEndian.Uint32(h[92:]), binary.BigEndian.Uint32(h[24:])
	if validFor == changes && pages*pageSize > st.Size() {
		return false, fail(fmt.Sprintf("truncated: the header counts %d pages of %d bytes (%d bytes), the file has %d", pages, pageSize, pages*pageSize, st.Size()), nil)
	}
	return h[18] == 2 && h[19] == 2, nil
}

// checkTables checks the schema of abs through a connection of its own.
// A file in rollback-journal mode is opened read-only. A file in WAL mode
// is opened read-write, though only read: a read-only connection would
// leave -wal and -shm files behind, where the last read-write connection
// to close removes them.
func checkTables(ctx context.Context, abs string, wal bool) *OpenError {
	registerSQLFunctions()
	mode := "ro"
	if wal {
		mode = "rw"
	}
	db, err := sql.Open("sqlite", fileURI(abs, fmt.Sprintf("mode=%s&_pragma=busy_timeout(%d)", mode, busyTimeoutMS)))
	if err != nil {
		return &OpenError{Reason: "cannot open", Err: ErrNotGeoPackage, Cause: err}
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	reason, sentinel, cause := checkSchema(ctx, db)
	if sentinel != nil {
		return &OpenError{Reason: reason, Err: sentinel, Cause: cause}
	}
	return nil
}

// Path returns the path the store was opened with.
func (s *Store) Path() string { return s.path }

// Close closes the file; the WAL is checkpointed into it.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	err := s.db.Close()
	if lerr := s.lock.unlock(); err == nil && lerr != nil {
		err = lerr
	}
	if err != nil {
		return fmt.Errorf("gpkg: close %s: %w", s.path, err)
	}
	return nil
}

func (s *Store) errClosed() error { return fmt.Errorf("gpkg: %s: %w", s.path, ErrClosed) }

// CountParts returns the number of parts in the file.
func (s *Store) CountParts(ctx context.Context) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM parts`).Scan(&n); err != nil {
		return 0, fmt.Errorf("gpkg: count parts in %s: %w", s.path, err)
	}
	return n, nil
}

// LoadParts calls fn with every part in the file, in storage order,
// streaming. It stops at fn's first error and returns it; a row that does
// not decode gives a *RowError. It reads through a connection of its own,
// so fn may write to the store. Reading, decoding and fn overlap: one
// goroutine steps through the rows, copying them out in chunks, others
// decode the chunks, and the caller's runs fn over them in order.
func (s *Store) LoadParts(ctx context.Context, fn func(p parts.Part) error) error {
	return s.loadChunks(ctx, false, func(ps []parts.Part) error {
		for i := range ps {
			if err := fn(ps[i]); err != nil {
				return err
			}
		}
		return nil
	})
}

// LoadPartBatches is LoadParts for a caller that copies what it keeps of
// the parts (parts.Builder.AddAll does): it calls fn with the parts in
// storage order, some hundreds at a time, and the slice and the points of
// the parts in it are valid only until fn returns. Their memory serves
// the next batches, instead of leaving garbage behind for every part.
func (s *Store) LoadPartBatches(ctx context.Context, fn func(ps []parts.Part) error) error {
	return s.loadChunks(ctx, true, fn)
}

// loadChunks runs the pipeline of LoadParts, calling fn with the parts of
// each chunk in order. When shared, the points of the parts are in memory
// of the chunk, reused once fn returns.
func (s *Store) loadChunks(ctx context.Context, shared bool, fn func(ps []parts.Part) error) error {
	fail := func(err error) error { return fmt.Errorf("gpkg: load parts from %s: %w", s.path, err) }
	conn, err := openRaw(s.abs, openReadWrite) // read-write to clean up -wal and -shm if last to close; it only reads
	if err != nil {
		return fail(err)
	}
	defer conn.close()
	sqlite3.Xsqlite3_busy_timeout(conn.tls, conn.db, busyTimeoutMS)
	stmt, err := conn.prepare(partSelect)
	if err != nil {
		return fail(err)
	}
	defer stmt.close()

	workers := max(1, min(runtime.GOMAXPROCS(0)-1, maxDecoders))
	order := make(chan *rowChunk, workers+2) // chunks in storage order
	work := make(chan *rowChunk, workers+2)  // chunks to decode
	// A fixed set of chunks goes round: reusing their memory spares the
	// page faults of fresh memory, which on a virtual machine cost more
	// than filling it.
	nChunks := 2*workers + 4
	free := make(chan *rowChunk, nChunks)
	for range nChunks {
		free <- &rowChunk{}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1 + workers)
	go func() {
		defer wg.Done()
		defer close(order)
		defer close(work)
		readChunks(ctx, stmt, order, work, free, done)
	}()
	for range workers {
		go func() {
			defer wg.Done()
			d := newDecoder()
			for c := range work {
				c.decode(d, shared)
				close(c.done)
			}
		}()
	}
	defer func() {
		close(done)
		wg.Wait()
	}()

	for c := range order {
		<-c.done
		if c.bad > 0 {
			if err := fn(c.parts[:c.bad]); err != nil {
				return err
			}
		}
		if c.badErr != nil {
			return c.badErr
		}
		if c.err != nil {
			return fail(c.err)
		}
		free <- c // never blocks: it has room for every chunk
	}
	return nil
}

// maxDecoders is the most goroutines LoadParts decodes rows with.
const maxDecoders = 3

// chunkRows is the number of rows LoadParts reads ahead in one chunk.
const chunkRows = 1024

// chunkCols is the number of byte columns of a row in a rowChunk: the
// geometry and the text fields.
const chunkCols = 1 + partFields - 3

// rowChunk holds rows of partSelect copied out of SQLite: byte column j of
// row r is buf[ends[r*chunkCols+j-1]:ends[r*chunkCols+j]]; ints holds fid,
// retired and version of each row. err is the error that ended the read.
// Once decoded (done closed), parts[:bad] hold the parts of the rows
// before the first row that did not decode, and badErr its error.
type rowChunk struct {
	buf  []byte
	ends []int
	ints []int64
	n    int
	err  error
	pts  []orb.Point // the points of parts, when the load shares them

	done   chan struct{}
	parts  []parts.Part
	bad    int
	badErr error
}

func (c *rowChunk) col(r, j int) []byte {
	i := r*chunkCols + j
	start := 0
	if i > 0 {
		start = c.ends[i-1]
	}
	if start == c.ends[i] {
		return nil
	}
	return c.buf[start:c.ends[i]]
}

// load puts row r into d's fields.
func (c *rowChunk) load(r int, d *decoder) {
	j := 1
	for i := range d.fields {
		switch i {
		case fFID, fRetired, fVersion:
		default:
			d.fields[i] = c.col(r, j)
			j++
		}
	}
	d.retired, d.version = c.ints[r*3+1], c.ints[r*3+2]
}

// decode decodes the rows of c into c.parts with d. When shared, the
// points of the parts are in c.pts, else in memory of their own.
func (c *rowChunk) decode(d *decoder, shared bool) {
	if shared {
		// A chunk has at most chunkRows rows: d.point never outgrows it.
		if cap(c.pts) < chunkRows {
			c.pts = make([]orb.Point, 0, chunkRows)
		}
		d.pts = c.pts[:0]
		defer func() { d.pts = nil }()
	}
	if cap(c.parts) < c.n {
		c.parts = make([]parts.Part, c.n, chunkRows)
	}
	c.parts = c.parts[:c.n]
	c.bad, c.badErr = c.n, nil
	for r := range c.n {
		c.load(r, d)
		if err := d.part(&c.parts[r], c.col(r, 0), c.ints[r*3]); err != nil {
			c.bad, c.badErr = r, err
			return
		}
	}
}

// copyRow appends the current row of stmt, a row of partSelect, to c. It
// reads the values from the row's Mems where it can (rawStmt.row), else
// through the API.
func (c *rowChunk) copyRow(stmt *rawStmt) {
	ms := stmt.row()
	if len(ms) != 1+partFields {
		ms = nil // not the expected row: the API decides
	}
	c.buf = append(c.buf, stmt.blobAt(ms, 0)...)
	c.ends = append(c.ends, len(c.buf))
	for i := range partFields {
		switch i {
		case fFID, fRetired, fVersion:
			c.ints = append(c.ints, stmt.int64At(ms, i+1))
		default:
			c.buf = append(c.buf, stmt.textAt(ms, i+1)...)
			c.ends = append(c.ends, len(c.buf))
		}
	}
	c.n++
}

// readChunks steps stmt to the end, filling the chunks it takes from free
// and sending them to order and to work, until done is closed. A chunk
// with err set is the last one.
func readChunks(ctx context.Context, stmt *rawStmt, order, work, free chan *rowChunk, done chan struct{}) {
	for {
		var c *rowChunk
		select {
		case c = <-free:
			if c.ends == nil {
				c.ends = make([]int, 0, chunkRows*chunkCols)
				c.ints = make([]int64, 0, chunkRows*3)
			}
			c.buf, c.ends, c.ints, c.n = c.buf[:0], c.ends[:0], c.ints[:0], 0
		case <-done:
			return
		}
		c.done = make(chan struct{})
		c.err = ctx.Err()
		for c.err == nil && c.n < chunkRows {
			row, err := stmt.step()
			if err != nil {
				c.err = err
				break
			}
			if !row {
				break
			}
			c.copyRow(stmt)
		}
		last := c.err != nil || c.n < chunkRows
		select {
		case work <- c:
		case <-done:
			return
		}
		select {
		case order <- c:
		case <-done:
			return
		}
		if last {
			return
		}
	}
}

// LoadGrids calls fn with every unit grid in the file.
func (s *Store) LoadGrids(ctx context.Context, fn func(g grid.Grid) error) error {
	rows, err := s.db.QueryContext(ctx, `SELECT geom, code, ifnull(name, ''), ifnull(dept, ''), ifnull(version, 0) FROM grids`)
	if err != nil {
		return fmt.Errorf("gpkg: load grids from %s: %w", s.path, err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			geom    sql.RawBytes
			code    string
			g       grid.Grid
			version int64
		)
		if err := rows.Scan(&geom, &code, &g.Name, &g.Dept, &version); err != nil {
			return fmt.Errorf("gpkg: load grids from %s: %w", s.path, err)
		}
		bad := func(field string, err error) error {
			return &RowError{Table: "grids", Key: code, Field: field, Err: err}
		}
		if g.Code, err = grid.ParseCode(code); err != nil {
			return bad("code", err)
		}
		if version < 0 {
			return bad("version", fmt.Errorf("%w: version %d is negative", ErrRow, version))
		}
		g.Version = uint64(version)
		if geom != nil {
			geo, err := DecodeGeometry(geom)
			if err != nil {
				return bad("geometry", err)
			}
			switch geo := geo.(type) {
			case orb.Polygon:
				g.Geometry = geo
			case orb.MultiPolygon:
				if len(geo) != 1 {
					return bad("geometry", &GeometryError{Offset: -1, Reason: fmt.Sprintf("a multipolygon of %d polygons, want one polygon", len(geo))})
				}
				g.Geometry = geo[0]
			default:
				return bad("geometry", &GeometryError{Offset: -1, Reason: fmt.Sprintf("a %s, want a Polygon", geo.GeoJSONType())})
			}
		}
		if err := fn(g); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("gpkg: load grids from %s: %w", s.path, err)
	}
	return nil
}

// LoadDivisions calls fn with every district, street and community.
func (s *Store) LoadDivisions(ctx context.Context, fn func(d grid.Division) error) error {
	rows, err := s.db.QueryContext(ctx, `SELECT code, ifnull(name, ''), ifnull(level, '') FROM divisions`)
	if err != nil {
		return fmt.Errorf("gpkg: load divisions from %s: %w", s.path, err)
	}
	defer rows.Close()
	for rows.Next() {
		var d grid.Division
		var level string
		if err := rows.Scan(&d.Code, &d.Name, &level); err != nil {
			return fmt.Errorf("gpkg: load divisions from %s: %w", s.path, err)
		}
		if d.Level, err = parseLevel(level); err != nil {
			return &RowError{Table: "divisions", Key: d.Code, Field: "level", Err: err}
		}
		if err := fn(d); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("gpkg: load divisions from %s: %w", s.path, err)
	}
	return nil
}

// write runs fn in one transaction, serialized with every other write:
// all of it is stored, or nothing.
func (s *Store) write(ctx context.Context, what string, fn func(tx *sql.Tx) error) error {
	return s.writeSync(ctx, what, true, fn)
}

// writeRelaxed is write for what may be lost on a power failure without
// breaking a promise (the outbox's claims and delivery marks: a lost one
// means one more delivery, which at-least-once allows; the last readings):
// its commit does not wait for the disk (synchronous=NORMAL in WAL mode;
// the next synchronous commit makes it durable too).
func (s *Store) writeRelaxed(ctx context.Context, what string, fn func(tx *sql.Tx) error) error {
	return s.writeSync(ctx, what, false, fn)
}

func (s *Store) writeSync(ctx context.Context, what string, full bool, fn func(tx *sql.Tx) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return s.errClosed()
	}
	if !s.wal {
		var mode string
		if err := s.db.QueryRowContext(ctx, `PRAGMA journal_mode = WAL`).Scan(&mode); err != nil {
			return fmt.Errorf("gpkg: %s in %s: switch to WAL: %w", what, s.path, err)
		}
		s.wal = mode == "wal"
	}
	var tx *sql.Tx
	var err error
	if full {
		tx, err = s.db.BeginTx(ctx, nil)
	} else {
		conn, cerr := s.db.Conn(ctx)
		if cerr != nil {
			return fmt.Errorf("gpkg: %s in %s: %w", what, s.path, cerr)
		}
		defer func() {
			// Back to FULL before the connection returns to the pool; should
			// that fail, the connection is dropped, never pooled relaxed.
			if _, err := conn.ExecContext(context.WithoutCancel(ctx), `PRAGMA synchronous = FULL`); err != nil {
				_ = conn.Raw(func(any) error { return driver.ErrBadConn })
			}
			conn.Close()
		}()
		if _, err := conn.ExecContext(ctx, `PRAGMA synchronous = NORMAL`); err != nil {
			return fmt.Errorf("gpkg: %s in %s: %w", what, s.path, err)
		}
		tx, err = conn.BeginTx(ctx, nil)
	}
	if err != nil {
		return fmt.Errorf("gpkg: %s in %s: %w", what, s.path, err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		var re *RowError
		var ce *ConflictError
		if errors.As(err, &re) || errors.As(err, &ce) {
			return err
		}
		return fmt.Errorf("gpkg: %s in %s: %w", what, s.path, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("gpkg: %s in %s: %w", what, s.path, err)
	}
	return nil
}

// The conditional writes of parts and grids: an insert that does nothing
// when the code exists, and an update that only happens when the stored
// version is the one before the new one. Both take the arguments of one
// row in column order (numbered parameters). A version stored as 0 or
// NULL counts as 1, the version the twin gives a part loaded without one.
var (
	insertParts = insertSQL("parts", partColumns, 1, " ON CONFLICT (code) DO NOTHING")
	updateParts = conditionalUpdateSQL("parts", partColumns)
	insertGrids = insertSQL("grids", gridColumns, 1, " ON CONFLICT (code) DO NOTHING")
	updateGrids = conditionalUpdateSQL("grids", gridColumns)
)

// conditionalUpdateSQL is the update of a row of table by code, on
// condition of its version.
func conditionalUpdateSQL(table string, cols []string) string {
	var sets []string
	var code, version int
	for i, c := range cols {
		switch c {
		case "code":
			code = i + 1
			continue
		case "version":
			version = i + 1
		}
		sets = append(sets, fmt.Sprintf("%s = ?%d", c, i+1))
	}
	return fmt.Sprintf("UPDATE %s SET %s WHERE code = ?%d AND coalesce(nullif(version, 0), 1) = ?%d - 1",
		table, strings.Join(sets, ", "), code, version)
}

// PutParts writes parts in one transaction: all of them are stored, or
// none. Each write is conditional on the version the writer read: a part
// at version 1 is inserted, and fails with a *ConflictError wrapping
// parts.ErrExists when its code is in the file; a part at version n > 1
// replaces the stored one only if that is at version n-1, and fails with
// a *ConflictError wrapping parts.ErrVersionMismatch otherwise (or when
// the part is gone). The parts layer's extent grows to cover them.
func (s *Store) PutParts(ctx context.Context, ps []parts.Part) error {
	if len(ps) == 0 {
		return nil
	}
	return s.write(ctx, "put parts", func(tx *sql.Tx) error {
		ins, err := tx.PrepareContext(ctx, insertParts)
		if err != nil {
			return err
		}
		defer ins.Close()
		upd, err := tx.PrepareContext(ctx, updateParts)
		if err != nil {
			return err
		}
		defer upd.Close()
		enc := newEncoder()
		var (
			vals  values
			bound orb.Bound
		)
		for i := range ps {
			vals.reset()
			b, err := enc.appendPart(&vals, &ps[i])
			if err != nil {
				return err
			}
			bound = extend(bound, b, i > 0)
			code := ps[i].Code.String()
			if err := execConditional(ctx, tx, ins, upd, "parts", code, ps[i].Version, vals.args(), parts.ErrExists, parts.ErrVersionMismatch); err != nil {
				return err
			}
		}
		return growExtent(ctx, tx, "parts", bound)
	})
}

// PutGrids writes unit grids in one transaction, each on condition of its
// version like PutParts: errors wrap grid.ErrExists and
// grid.ErrVersionMismatch.
func (s *Store) PutGrids(ctx context.Context, gs []grid.Grid) error {
	if len(gs) == 0 {
		return nil
	}
	return s.write(ctx, "put grids", func(tx *sql.Tx) error {
		ins, err := tx.PrepareContext(ctx, insertGrids)
		if err != nil {
			return err
		}
		defer ins.Close()
		upd, err := tx.PrepareContext(ctx, updateGrids)
		if err != nil {
			return err
		}
		defer upd.Close()
		var (
			vals  values
			bound orb.Bound
		)
		for i := range gs {
			vals.reset()
			b, err := appendGrid(&vals, &gs[i])
			if err != nil {
				return err
			}
			bound = extend(bound, b, i > 0)
			if err := execConditional(ctx, tx, ins, upd, "grids", string(gs[i].Code), gs[i].Version, vals.args(), grid.ErrExists, grid.ErrVersionMismatch); err != nil {
				return err
			}
		}
		return growExtent(ctx, tx, "grids", bound)
	})
}

// execConditional runs the insert (version 0 or 1) or the conditional
// update of one row and turns a write that found its condition false into
// a *ConflictError.
func execConditional(ctx context.Context, tx *sql.Tx, ins, upd *sql.Stmt, table, code string, version uint64, args []any, errExists, errMismatch error) error {
	stmt := upd
	if version <= 1 {
		stmt = ins
	}
	res, err := stmt.ExecContext(ctx, args...)
	if err != nil {
		return &RowError{Table: table, Key: code, Field: "row", Err: err}
	}
	n, err := res.RowsAffected()
	if err != nil {
		return &RowError{Table: table, Key: code, Field: "row", Err: err}
	}
	if n == 1 {
		return nil
	}
	ce := &ConflictError{Table: table, Key: code, Err: errExists}
	if version > 1 {
		ce.Err, ce.Expected = errMismatch, version-1
		if ce.Stored, err = storedVersion(ctx, tx, table, code); err != nil {
			return err
		}
	}
	return ce
}

// storedVersion returns the version of the row of table with code, 0 when
// there is none (a stored 0 or NULL reads as 1).
func storedVersion(ctx context.Context, tx *sql.Tx, table, code string) (uint64, error) {
	var v int64
	err := tx.QueryRowContext(ctx, `SELECT coalesce(nullif(version, 0), 1) FROM `+table+` WHERE code = ?`, code).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return uint64(max(v, 0)), nil
}

// DeleteGrid deletes the unit grid with code c. When version is not 0 it
// deletes it only at that version, and fails with a *ConflictError
// wrapping grid.ErrVersionMismatch when the stored grid is at another; an
// unknown code gives an error wrapping grid.ErrNotFound.
func (s *Store) DeleteGrid(ctx context.Context, c grid.Code, version uint64) error {
	return s.write(ctx, "delete grid", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM grids WHERE code = ?1 AND (?2 = 0 OR coalesce(nullif(version, 0), 1) = ?2)`,
			string(c), int64(min(version, math.MaxInt64)))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 0 {
			stored, err := storedVersion(ctx, tx, "grids", string(c))
			if err != nil {
				return err
			}
			if stored == 0 {
				return &RowError{Table: "grids", Key: string(c), Field: "code", Err: grid.ErrNotFound}
			}
			return &ConflictError{Table: "grids", Key: string(c), Expected: version, Stored: stored, Err: grid.ErrVersionMismatch}
		}
		return touch(ctx, tx, "grids")
	})
}

// growExtent grows the extent of table in gpkg_contents to cover b and
// sets its last_change.
func growExtent(ctx context.Context, tx *sql.Tx, table string, b orb.Bound) error {
	_, err := tx.ExecContext(ctx, `UPDATE gpkg_contents SET
  min_x = coalesce(min(min_x, ?1), ?1), min_y = coalesce(min(min_y, ?2), ?2),
  max_x = coalesce(max(max_x, ?3), ?3), max_y = coalesce(max(max_y, ?4), ?4),
  last_change = strftime('%Y-%m-%dT%H:%M:%fZ','now')
  WHERE table_name = ?5`, b.Min[0], b.Min[1], b.Max[0], b.Max[1], table)
	return err
}

// touch sets the last_change of table in gpkg_contents.
func touch(ctx context.Context, tx *sql.Tx, table string) error {
	_, err := tx.ExecContext(ctx, `UPDATE gpkg_contents SET last_change = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE table_name = ?`, table)
	return err
}
