package gpkg

import (
	"fmt"
	"unsafe"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
)

// rawConn is an SQLite connection driven through the C API of
// modernc.org/sqlite/lib, without database/sql. The two hot paths use it:
// the bulk insert of Writer and the streaming read of LoadParts, where
// database/sql's per-value boxing, copying and C allocations would cost
// more than SQLite itself. It is not safe for concurrent use.
type rawConn struct {
	tls *libc.TLS
	db  uintptr
	// arena is C memory of size arenaCap that holds the text and blob
	// arguments of the statement being run: SQLite must not be handed
	// pointers into Go memory.
	arena    uintptr
	arenaCap int
}

// SQLite open flags and result codes used here.
const (
	openReadWrite = sqlite3.SQLITE_OPEN_READWRITE
	openNoMutex   = sqlite3.SQLITE_OPEN_NOMUTEX
)

// sqliteError is an error reported by SQLite; Code is the extended result
// code.
type sqliteError struct {
	code int
	msg  string
}

// Error gives SQLite's message and extended result code.
func (e *sqliteError) Error() string { return fmt.Sprintf("sqlite: %s (%d)", e.msg, e.code) }

// Code returns the extended result code.
func (e *sqliteError) Code() int { return e.code }

// openRaw opens the database file at path (an existing file: the flags
// never include SQLITE_OPEN_CREATE).
func openRaw(path string, flags int32) (*rawConn, error) {
	c := &rawConn{tls: libc.NewTLS()}
	name, err := libc.CString(path)
	if err != nil {
		c.tls.Close()
		return nil, err
	}
	pdb := c.tls.Alloc(8)
	rc := sqlite3.Xsqlite3_open_v2(c.tls, name, pdb, flags|openNoMutex, 0)
	c.db = *(*uintptr)(ptr(pdb))
	c.tls.Free(8)
	libc.Xfree(c.tls, name)
	if rc != sqlite3.SQLITE_OK {
		err := c.err(rc)
		c.close()
		return nil, err
	}
	sqlite3.Xsqlite3_extended_result_codes(c.tls, c.db, 1)
	if err := c.registerSpatial(); err != nil {
		c.close()
		return nil, err
	}
	return c, nil
}

// ptr converts a C address to a pointer without tripping vet's check for
// uintptr-to-pointer conversions: the memory belongs to the C heap (or is
// Go memory kept alive by the caller), never to a Go object that can move.
func ptr(p uintptr) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&p)) }

// cbytes returns the n bytes at C address p, without copying.
func cbytes(p uintptr, n int) []byte {
	if p == 0 || n <= 0 {
		return nil
	}
	return unsafe.Slice((*byte)(ptr(p)), n)
}

// err returns SQLite's error for result code rc.
func (c *rawConn) err(rc int32) error {
	if c.db == 0 {
		return &sqliteError{code: int(rc), msg: libc.GoString(sqlite3.Xsqlite3_errstr(c.tls, rc))}
	}
	return &sqliteError{code: int(sqlite3.Xsqlite3_extended_errcode(c.tls, c.db)), msg: libc.GoString(sqlite3.Xsqlite3_errmsg(c.tls, c.db))}
}

// exec runs one or more SQL statements without arguments.
func (c *rawConn) exec(sql string) error {
	s, err := libc.CString(sql)
	if err != nil {
		return err
	}
	defer libc.Xfree(c.tls, s)
	if rc := sqlite3.Xsqlite3_exec(c.tls, c.db, s, 0, 0, 0); rc != sqlite3.SQLITE_OK {
		return fmt.Errorf("%w in %.60q", c.err(rc), sql)
	}
	return nil
}

// toArena copies b to the arena, growing it as needed, and returns its C
// address.
func (c *rawConn) toArena(b []byte) (uintptr, error) {
	if len(b) > c.arenaCap || c.arena == 0 {
		n := max(len(b), 2*c.arenaCap, 4096)
		p := sqlite3.Xsqlite3_malloc64(c.tls, uint64(n))
		if p == 0 {
			return 0, &sqliteError{code: sqlite3.SQLITE_NOMEM, msg: fmt.Sprintf("cannot allocate %d bytes for arguments", n)}
		}
		if c.arena != 0 {
			sqlite3.Xsqlite3_free(c.tls, c.arena)
		}
		c.arena, c.arenaCap = p, n
	}
	copy(cbytes(c.arena, len(b)), b)
	return c.arena, nil
}

// close closes the connection, finalizing nothing: close every statement
// first.
func (c *rawConn) close() error {
	var err error
	if c.arena != 0 {
		sqlite3.Xsqlite3_free(c.tls, c.arena)
		c.arena, c.arenaCap = 0, 0
	}
	if c.db != 0 {
		if rc := sqlite3.Xsqlite3_close_v2(c.tls, c.db); rc != sqlite3.SQLITE_OK {
			err = c.err(rc)
		}
		c.db = 0
	}
	if c.tls != nil {
		c.tls.Close()
		c.tls = nil
	}
	return err
}

// rawStmt is a prepared statement of a rawConn.
type rawStmt struct {
	c *rawConn
	p uintptr
}

// prepare compiles one SQL statement.
func (c *rawConn) prepare(sql string) (*rawStmt, error) {
	s, err := libc.CString(sql)
	if err != nil {
		return nil, err
	}
	defer libc.Xfree(c.tls, s)
	pp := c.tls.Alloc(8)
	defer c.tls.Free(8)
	if rc := sqlite3.Xsqlite3_prepare_v2(c.tls, c.db, s, -1, pp, 0); rc != sqlite3.SQLITE_OK {
		return nil, fmt.Errorf("%w in %.60q", c.err(rc), sql)
	}
	return &rawStmt{c: c, p: *(*uintptr)(ptr(pp))}, nil
}

// close finalizes the statement.
func (s *rawStmt) close() {
	if s != nil && s.p != 0 {
		sqlite3.Xsqlite3_finalize(s.c.tls, s.p)
		s.p = 0
	}
}

// step advances the statement: row is true while it returns rows.
func (s *rawStmt) step() (row bool, err error) {
	switch rc := sqlite3.Xsqlite3_step(s.c.tls, s.p); rc {
	case sqlite3.SQLITE_ROW:
		return true, nil
	case sqlite3.SQLITE_DONE:
		return false, nil
	default:
		return false, s.c.err(rc)
	}
}

// reset makes the statement ready to run again; bindings stay.
func (s *rawStmt) reset() { sqlite3.Xsqlite3_reset(s.c.tls, s.p) }

// row returns the values of the columns of the current row as SQLite
// holds them (the Mems that sqlite3_column_* read), or nil when there is
// no current row. The loads read the common cases (text, blob, integer and
// NULL values) from them directly (memText, memBlob, memInt): the API's
// calls per value, each taking the connection's mutex and checking for a
// failed malloc, cost more than the read itself. The types are the
// library's own, so their layout is the one it uses.
func (s *rawStmt) row() []sqlite3.TMem {
	v := (*sqlite3.TVdbe)(ptr(s.p))
	if v.FpResultRow == 0 || v.FnResColumn == 0 {
		return nil
	}
	return unsafe.Slice((*sqlite3.TMem)(ptr(v.FpResultRow)), int(v.FnResColumn))
}

// Flags of a Mem (sqlite3.TMem.Fflags) that the direct reads test.
const (
	isNull  = sqlite3.MEM_Null
	isStr   = sqlite3.MEM_Str
	isInt   = sqlite3.MEM_Int | sqlite3.MEM_IntReal
	isBlob  = sqlite3.MEM_Blob
	isZero  = sqlite3.MEM_Zero
	isValue = sqlite3.MEM_Str | sqlite3.MEM_Int | sqlite3.MEM_Real | sqlite3.MEM_IntReal | sqlite3.MEM_Blob
)

// memText returns the value m as sqlite3_column_text would give it (see
// rawStmt.text), for a text or blob value (the database is UTF-8) or
// NULL; ok is false for anything else, to convert through the API.
func memText(m *sqlite3.TMem) (b []byte, ok bool) {
	f := m.Fflags
	switch {
	case f&(isStr|isBlob) != 0 && f&isZero == 0 && m.Fenc == sqlite3.SQLITE_UTF8:
		return cbytes(m.Fz, int(m.Fn)), true
	case f&isValue == 0 && f&isNull != 0:
		return nil, true
	}
	return nil, false
}

// memBlob returns the value m as sqlite3_column_blob would give it, for a
// blob or text value or NULL; ok is false for anything else.
func memBlob(m *sqlite3.TMem) (b []byte, ok bool) {
	f := m.Fflags
	switch {
	case f&(isStr|isBlob) != 0 && f&isZero == 0:
		return cbytes(m.Fz, int(m.Fn)), true
	case f&isValue == 0 && f&isNull != 0:
		return nil, true
	}
	return nil, false
}

// memInt returns the value m as sqlite3_column_int64 would give it, for
// an integer value or NULL; ok is false for anything else.
func memInt(m *sqlite3.TMem) (v int64, ok bool) {
	f := m.Fflags
	switch {
	case f&isInt != 0:
		return *(*int64)(unsafe.Pointer(&m.Fu)), true
	case f&isValue == 0 && f&isNull != 0:
		return 0, true
	}
	return 0, false
}

// text returns column i of the current row as text, without copying: the
// bytes stay valid until the next step or reset. NULL and "" are nil. A
// text or blob value is read from its Mem (memText); anything else (a
// number, to convert) goes through the API. There the length comes first
// (it converts a number to text as column_text would).
func (s *rawStmt) text(i int) []byte { return s.textAt(s.row(), i) }

// textAt is text with the row's Mems ms (s.row(), or nil: through the
// API) read once for the row.
func (s *rawStmt) textAt(ms []sqlite3.TMem, i int) []byte {
	if i >= 0 && i < len(ms) {
		if b, ok := memText(&ms[i]); ok {
			return b
		}
	}
	return s.textAPI(i)
}

// textAPI is column i as text through the API.
func (s *rawStmt) textAPI(i int) []byte {
	n := sqlite3.Xsqlite3_column_bytes(s.c.tls, s.p, int32(i))
	if n <= 0 {
		return nil
	}
	return cbytes(sqlite3.Xsqlite3_column_text(s.c.tls, s.p, int32(i)), int(n))
}

// blob returns column i of the current row as a blob, without copying.
// Blob and text values are read from their Mem (memBlob).
func (s *rawStmt) blob(i int) []byte { return s.blobAt(s.row(), i) }

// blobAt is blob with the row's Mems ms (as textAt).
func (s *rawStmt) blobAt(ms []sqlite3.TMem, i int) []byte {
	if i >= 0 && i < len(ms) {
		if b, ok := memBlob(&ms[i]); ok {
			return b
		}
	}
	return s.blobAPI(i)
}

// blobAPI is column i as a blob through the API.
func (s *rawStmt) blobAPI(i int) []byte {
	p := sqlite3.Xsqlite3_column_blob(s.c.tls, s.p, int32(i))
	return cbytes(p, int(sqlite3.Xsqlite3_column_bytes(s.c.tls, s.p, int32(i))))
}

// int64 returns column i of the current row as an integer. Integer and
// NULL values are read from their Mem (memInt).
func (s *rawStmt) int64(i int) int64 { return s.int64At(s.row(), i) }

// int64At is int64 with the row's Mems ms (as textAt).
func (s *rawStmt) int64At(ms []sqlite3.TMem, i int) int64 {
	if i >= 0 && i < len(ms) {
		if v, ok := memInt(&ms[i]); ok {
			return v
		}
	}
	return s.int64API(i)
}

// int64API is column i as an integer through the API.
func (s *rawStmt) int64API(i int) int64 {
	return sqlite3.Xsqlite3_column_int64(s.c.tls, s.p, int32(i))
}

// run binds vals to the statement's parameters, runs it to completion and
// resets it.
func (s *rawStmt) run(vals *values) error {
	if err := s.bind(vals); err != nil {
		s.reset()
		return err
	}
	_, err := s.step()
	s.reset()
	return err
}

// bind binds vals to the statement's parameters. Text and blobs are copied
// in one piece to the connection's arena and bound from there without
// another copy (SQLITE_STATIC): they stay valid until the next bind.
func (s *rawStmt) bind(vals *values) error {
	tls := s.c.tls
	base, err := s.c.toArena(vals.buf)
	if err != nil {
		return err
	}
	for i, v := range vals.ps {
		idx := int32(i + 1)
		var rc int32
		switch v.kind {
		case kindNull:
			rc = sqlite3.Xsqlite3_bind_null(tls, s.p, idx)
		case kindInt:
			rc = sqlite3.Xsqlite3_bind_int64(tls, s.p, idx, v.i)
		case kindFloat:
			rc = sqlite3.Xsqlite3_bind_double(tls, s.p, idx, v.f)
		case kindText:
			rc = sqlite3.Xsqlite3_bind_text(tls, s.p, idx, base+uintptr(v.off), int32(v.n), 0)
		case kindBlob:
			rc = sqlite3.Xsqlite3_bind_blob(tls, s.p, idx, base+uintptr(v.off), int32(v.n), 0)
		}
		if rc != sqlite3.SQLITE_OK {
			return s.c.err(rc)
		}
	}
	return nil
}
