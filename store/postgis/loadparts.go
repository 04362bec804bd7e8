package postgis

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"citytwin/parts"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/ewkb"
)

// The bulk read of parts (LoadParts) decodes the rows in goroutines of
// its own while the caller's goroutine runs fn, and reads straight from
// pgconn (no pgx.Rows scan plans, no string per value: the text of a
// column repeated from row to row is allocated once).
//
// With more than one connection it splits the table into ranges of heap
// blocks, TID range scans (PostgreSQL 14+, no index needed), that the
// connections take in turn; fn gets the ranges in block order. Every
// connection reads in a transaction on the same snapshot
// (pg_export_snapshot, as pg_dump --jobs does), so that together they see
// exactly what one query would: a row updated during the load is neither
// missed nor read twice.
//
// The query sends the text columns as text and the others in binary: the
// server's text output of a text column costs less than its binary send,
// and a bool, a date, a bigint and a geometry (EWKB, no ST_AsBinary call)
// cost less in binary. NULL text is "" in Go, not coalesce()d in SQL.

// loadColumns are the columns of a bulk part read, in the order of the
// lc* indexes.
const loadColumns = `code, class, name, dept_supervisor, dept_owner, dept_maintainer, grid_code,
  state, retired, surveyed, changed, source, photo, note, material, label, version, geom,
  source_name, source_id`

// Indexes of loadColumns.
const (
	lcCode = iota
	lcClass
	lcName
	lcSupervisor
	lcOwner
	lcMaintainer
	lcGrid
	lcState
	lcRetired
	lcSurveyed
	lcChanged
	lcSource
	lcPhoto
	lcNote
	lcMaterial
	lcLabel
	lcVersion
	lcGeom
	lcSourceName
	lcSourceID
	lcCount
)

// loadFormats are the result formats of loadColumns: 0 text, 1 binary.
var loadFormats = []int16{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 1, 1, 0, 0}

// Type OIDs of the binary columns and of the text types a text column may
// have.
const (
	oidBool    = 16
	oidInt8    = 20
	oidInt2    = 21
	oidInt4    = 23
	oidText    = 25
	oidBPChar  = 1042
	oidVarchar = 1043
	oidDate    = 1082
)

const (
	// loadRange reads the parts in blocks [$1, $2) of the table.
	loadRange = `SELECT ` + loadColumns + ` FROM parts WHERE ctid >= $1::tid AND ctid < $2::tid`
	// loadTail reads the parts in blocks $1 and after.
	loadTail = `SELECT ` + loadColumns + ` FROM parts WHERE ctid >= $1::tid`
	// loadAll reads every part.
	loadAll = `SELECT ` + loadColumns + ` FROM parts`
)

// loadOptions are the limits of a bulk read of parts.
type loadOptions struct {
	conns  int // the most connections to read over; the pool keeps one more for fn
	blocks int // heap blocks of a range
	chunk  int // parts a reader hands over at once
	ahead  int // chunks a reader decodes ahead of fn
	// exported, when set, is called when the snapshot is exported,
	// before the other connections take it (tests change the table).
	exported func() error
}

// defaultLoad returns the limits of LoadParts in a process of procs
// processors: ranges of about 20,000 parts of a city of points, and a
// connection for every two processors, up to three. A TID range scan costs
// the server more than the sequential scan of the whole table (it gets no
// ring buffer), and each range read needs about a processor here as well
// as one of the server's, so on two processors one connection, a plain
// scan decoded beside fn, is the fastest; with more, the server's sending
// of the rows, the longest step of a read over one connection, is shared.
func defaultLoad(procs int) loadOptions {
	return loadOptions{conns: min(max(procs/2, 1), 3), blocks: 512, chunk: 1024, ahead: 16}
}

// internMax bounds the strings a reader interns: text columns of few
// distinct values (departments, grids, names) are allocated once, the
// rest every time.
const internMax = 1 << 16

// loadParts is LoadParts within the limits of o.
func (s *Store) loadParts(ctx context.Context, fn func(p parts.Part) error, o loadOptions) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	conns, blocks, err := s.loadConns(ctx, o)
	defer func() {
		for _, c := range conns {
			c.Release()
		}
	}()
	if err != nil {
		return err
	}
	l := &loader{size: o.blocks, chunkParts: o.chunk, ranges: 1, whole: len(conns) == 1}
	if !l.whole {
		l.ranges = int((blocks + int64(o.blocks) - 1) / int64(o.blocks))
	}
	l.out = make([]chan *partChunk, l.ranges)
	for i := range l.out {
		l.out[i] = make(chan *partChunk, o.ahead)
	}
	l.free = make(chan *partChunk, len(conns)*(o.ahead+2))
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l.read(ctx, c.Conn().PgConn())
		}()
	}
	if err := l.deliver(ctx, fn); err != nil {
		cancel()
		wg.Wait()
		return err
	}
	// Every range is delivered: the readers find none left.
	wg.Wait()
	// End the read-only transactions so that the connections go back to
	// the pool.
	for _, c := range conns {
		if err := c.Conn().PgConn().Exec(ctx, `ROLLBACK`).Close(); err != nil {
			return wrap("load parts", err)
		}
	}
	return nil
}

// loadConns acquires the connections of a load, each in a read-only
// transaction on the same snapshot, and returns them with the number of
// heap blocks of parts. The first one exports the snapshot; a further one
// that cannot be had (a pool too small or busy, a server that will not
// share snapshots) is left out. A table of fewer than two ranges is read
// over one. The caller releases the connections, even on error.
func (s *Store) loadConns(ctx context.Context, o loadOptions) ([]*pgxpool.Conn, int64, error) {
	first, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, 0, wrap("load parts", err)
	}
	conns := []*pgxpool.Conn{first}
	pc := first.Conn().PgConn()
	if err := pc.Exec(ctx, `BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY`).Close(); err != nil {
		return conns, 0, wrap("load parts", err)
	}
	res := pc.ExecParams(ctx, `SELECT pg_relation_size('parts'::regclass) / current_setting('block_size')::bigint`, nil, nil, nil, nil).Read()
	if res.Err != nil {
		return conns, 0, wrap("load parts", res.Err)
	}
	blocks, err := strconv.ParseInt(string(res.Rows[0][0]), 10, 64)
	if err != nil {
		return conns, 0, wrap("load parts: blocks of parts", err)
	}
	want := min(o.conns, int(s.pool.Config().MaxConns)-1, int(blocks/int64(o.blocks)))
	if want < 2 {
		return conns, blocks, nil
	}
	// pg_export_snapshot fails through poolers that do not keep a
	// session: read over one connection.
	res = pc.ExecParams(ctx, `SELECT pg_export_snapshot()`, nil, nil, nil, nil).Read()
	if res.Err != nil {
		if ctx.Err() != nil || !pgError(res.Err) {
			return conns, 0, wrap("load parts", res.Err)
		}
		if err := pc.Exec(ctx, `ROLLBACK; BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY`).Close(); err != nil {
			return conns, 0, wrap("load parts", err)
		}
		return conns, blocks, nil
	}
	begin := `BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET TRANSACTION SNAPSHOT '` +
		strings.ReplaceAll(string(res.Rows[0][0]), `'`, `''`) + `'`
	if o.exported != nil {
		if err := o.exported(); err != nil {
			return conns, 0, err
		}
	}
	// Another user of the pool may hold its connections for a while: do
	// not wait for them, read over fewer.
	actx, acancel := context.WithTimeout(ctx, time.Second)
	defer acancel()
	for len(conns) < want {
		c, err := s.pool.Acquire(actx)
		if err != nil {
			break
		}
		if err := c.Conn().PgConn().Exec(ctx, begin).Close(); err != nil {
			c.Release() // in a failed transaction: the pool closes it
			if ctx.Err() != nil || !pgError(err) {
				return conns, 0, wrap("load parts", err)
			}
			break
		}
		conns = append(conns, c)
	}
	return conns, blocks, ctx.Err()
}

// pgError reports whether err is an error the server sent (the connection
// is still good).
func pgError(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe)
}

// loader hands out the ranges of a load to its readers and their parts to
// fn in order.
type loader struct {
	chunkParts int               // parts of a full chunk
	size       int               // blocks of a range
	ranges     int               // ranges of the table; the last has no end
	whole      bool              // one range read by a plain scan of the table
	next       atomic.Int64      // the next range to read
	out        []chan *partChunk // the parts of range i, closed when read
	free       chan *partChunk   // delivered chunks for reuse
}

// partChunk is parts of a range, in block order, and the error that ended
// the read of the range (after parts) if any.
type partChunk struct {
	parts []parts.Part
	err   error
}

// read reads ranges on conn until none are left, ctx is done or a read
// fails.
func (l *loader) read(ctx context.Context, conn *pgconn.PgConn) {
	d := newPartDecoder()
	for {
		i := int(l.next.Add(1) - 1)
		if i >= l.ranges || !l.readRange(ctx, conn, d, i) {
			return
		}
	}
}

// chunk returns an empty chunk.
func (l *loader) chunk() *partChunk {
	select {
	case c := <-l.free:
		return c
	default:
		return &partChunk{parts: make([]parts.Part, 0, l.chunkParts)}
	}
}

// readRange reads range i and sends its parts to out[i]; false when the
// read failed or ctx is done. It closes out[i] after the last chunk, which
// carries the error of a failed read: every range taken ends with its
// parts or an error, so the deliverer never waits for one nobody reads.
// When ctx is done first, out[i] stays open and the deliverer stops on ctx.
func (l *loader) readRange(ctx context.Context, conn *pgconn.PgConn, d *partDecoder, i int) bool {
	out := l.out[i]
	send := func(c *partChunk) bool {
		select {
		case out <- c:
			return true
		case <-ctx.Done():
			return false
		}
	}
	last := func(c *partChunk) bool {
		ok := c.err == nil // c is the deliverer's once sent
		if !send(c) {
			return false
		}
		close(out)
		return ok
	}
	var rr *pgconn.ResultReader
	switch {
	case l.whole:
		rr = conn.ExecParams(ctx, loadAll, nil, nil, nil, loadFormats)
	case i == l.ranges-1:
		rr = conn.ExecParams(ctx, loadTail, [][]byte{tid(i * l.size)}, nil, nil, loadFormats)
	default:
		rr = conn.ExecParams(ctx, loadRange, [][]byte{tid(i * l.size), tid((i + 1) * l.size)}, nil, nil, loadFormats)
	}
	c := l.chunk()
	if c.err = checkLoadFields(rr.FieldDescriptions()); c.err != nil {
		rr.Close()
		return last(c)
	}
	for rr.NextRow() {
		c.parts = append(c.parts, parts.Part{})
		if err := d.decode(&c.parts[len(c.parts)-1], rr.Values()); err != nil {
			c.parts, c.err = c.parts[:len(c.parts)-1], err
			rr.Close()
			return last(c)
		}
		if len(c.parts) == l.chunkParts {
			if !send(c) {
				rr.Close()
				return false
			}
			c = l.chunk()
		}
	}
	if _, err := rr.Close(); err != nil {
		c.err = wrap("load parts", err)
	}
	return last(c)
}

// tid is the text of the TID of the first tuple of block b.
func tid(b int) []byte {
	return fmt.Appendf(nil, "(%d,0)", b)
}

// checkLoadFields checks that the columns of a bulk read have the types
// its decoder reads. An empty description is a failed query: its error
// comes with the result.
func checkLoadFields(fds []pgconn.FieldDescription) error {
	if len(fds) == 0 {
		return nil
	}
	if len(fds) != lcCount {
		return fmt.Errorf("postgis: load parts: %d columns, want %d", len(fds), lcCount)
	}
	for i, fd := range fds {
		ok := true
		switch i {
		case lcRetired:
			ok = fd.DataTypeOID == oidBool
		case lcSurveyed, lcChanged:
			ok = fd.DataTypeOID == oidDate
		case lcVersion:
			ok = fd.DataTypeOID == oidInt8 || fd.DataTypeOID == oidInt4 || fd.DataTypeOID == oidInt2
		case lcGeom:
			// geometry: its OID is the extension's.
		default:
			ok = fd.DataTypeOID == oidText || fd.DataTypeOID == oidVarchar || fd.DataTypeOID == oidBPChar
		}
		if !ok {
			return fmt.Errorf("postgis: load parts: column %s has type OID %d", fd.Name, fd.DataTypeOID)
		}
	}
	return nil
}

// deliver calls fn with the parts of every range in order.
func (l *loader) deliver(ctx context.Context, fn func(p parts.Part) error) error {
	for i := range l.ranges {
		for {
			var c *partChunk
			var ok bool
			select {
			case c, ok = <-l.out[i]:
			case <-ctx.Done():
				return wrap("load parts", ctx.Err())
			}
			if !ok {
				break
			}
			for j := range c.parts {
				if err := fn(c.parts[j]); err != nil {
					return err
				}
			}
			if c.err != nil {
				return c.err
			}
			clear(c.parts)
			c.parts = c.parts[:0]
			select {
			case l.free <- c:
			default:
			}
		}
	}
	return nil
}

// partDecoder decodes rows of loadColumns. It keeps the strings and the
// parsed values of the text columns seen, so that a value repeated over
// many rows is allocated and parsed once.
type partDecoder struct {
	last    lastStrings                  // the last string of each column
	byClass map[parts.Class]*lastStrings // the same for each class
	strs    map[string]string
	classes map[string]parts.Class
	states  map[string]parts.State
	sources map[string]parts.Source
}

// lastStrings are the last strings of the text columns of a run of rows.
type lastStrings [lcCount]string

func newPartDecoder() *partDecoder {
	return &partDecoder{
		byClass: make(map[parts.Class]*lastStrings),
		strs:    make(map[string]string),
		classes: make(map[string]parts.Class),
		states:  make(map[string]parts.State),
		sources: make(map[string]parts.Source),
	}
}

// str returns b, column col of a row of class cl (the last strings of the
// class), as a string, interned. Rows come in storage order, where
// neighbours often share a grid, and parts of a class a name and
// departments: the last value of the column, then the last one of the
// class, are tried before the table.
func (d *partDecoder) str(cl *lastStrings, col int, b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if s := d.last[col]; s == string(b) {
		return s
	}
	s := cl[col]
	if s != string(b) {
		var ok bool
		if s, ok = d.strs[string(b)]; !ok {
			s = string(b)
			if len(d.strs) < internMax {
				d.strs[s] = s
			}
		}
		cl[col] = s
	}
	d.last[col] = s
	return s
}

// decode decodes row into p; a value that does not decode gives a
// *RowError.
func (d *partDecoder) decode(p *parts.Part, row [][]byte) error {
	code := row[lcCode]
	bad := func(field string, err error) error {
		return &RowError{Table: "parts", Key: string(code), Field: field, Err: err}
	}
	var err error
	if len(code) == 0 {
		// The empty string is no code: the parser says why.
		_, err = parts.ParseCode("")
		return bad("code", err)
	}
	// ParseCode keeps its input only in its error: parse the bytes in
	// place, and again from a copy for the error.
	if p.Code, err = parts.ParseCode(unsafe.String(&code[0], len(code))); err != nil {
		_, err = parts.ParseCode(string(code))
		return bad("code", err)
	}
	var ok bool
	if p.Class, ok = d.classes[string(row[lcClass])]; !ok {
		if p.Class, err = parts.ParseClass(string(row[lcClass])); err != nil {
			return bad("class", err)
		}
		d.classes[string(row[lcClass])] = p.Class
	}
	if p.State, ok = d.states[string(row[lcState])]; !ok {
		if p.State, err = parts.ParseState(string(row[lcState])); err != nil {
			return bad("state", err)
		}
		d.states[string(row[lcState])] = p.State
	}
	if src := row[lcSource]; len(src) > 0 {
		if p.Source, ok = d.sources[string(src)]; !ok {
			if p.Source, err = parts.ParseSource(string(src)); err != nil {
				return bad("source", err)
			}
			d.sources[string(src)] = p.Source
		}
	}
	cl := d.byClass[p.Class]
	if cl == nil {
		cl = new(lastStrings)
		d.byClass[p.Class] = cl
	}
	p.Name = d.str(cl, lcName, row[lcName])
	p.Supervisor = d.str(cl, lcSupervisor, row[lcSupervisor])
	p.Owner = d.str(cl, lcOwner, row[lcOwner])
	p.Maintainer = d.str(cl, lcMaintainer, row[lcMaintainer])
	p.Grid = d.str(cl, lcGrid, row[lcGrid])
	p.Photo = d.str(cl, lcPhoto, row[lcPhoto])
	p.Note = d.str(cl, lcNote, row[lcNote])
	p.Material = d.str(cl, lcMaterial, row[lcMaterial])
	p.Label = d.str(cl, lcLabel, row[lcLabel])
	p.SourceName = d.str(cl, lcSourceName, row[lcSourceName])
	p.SourceID = d.str(cl, lcSourceID, row[lcSourceID])
	if b := row[lcRetired]; len(b) != 1 {
		return bad("retired", fmt.Errorf("a bool of %d bytes", len(b)))
	} else {
		p.Retired = b[0] != 0
	}
	if p.Surveyed, err = binaryDate(row[lcSurveyed]); err != nil {
		return bad("surveyed", err)
	}
	if p.Changed, err = binaryDate(row[lcChanged]); err != nil {
		return bad("changed", err)
	}
	version, err := binaryInt(row[lcVersion])
	if err != nil {
		return bad("version", err)
	}
	if version < 0 {
		return bad("version", fmt.Errorf("negative version %d", version))
	}
	p.Version = uint64(version)
	if g := row[lcGeom]; g != nil {
		if p.Geometry, err = decodeEWKB(g); err != nil {
			return bad("geom", err)
		}
	}
	return nil
}

// pgEpochDays is the day of 2000-01-01, PostgreSQL's date zero, in days
// since 1970-01-01.
const pgEpochDays = 10957

// binaryDate decodes a date in binary format (days since 2000-01-01) into
// its UTC day; NULL (nil) is the zero time, like day.
func binaryDate(b []byte) (time.Time, error) {
	if b == nil {
		return time.Time{}, nil
	}
	if len(b) != 4 {
		return time.Time{}, fmt.Errorf("a date of %d bytes", len(b))
	}
	d := int32(binary.BigEndian.Uint32(b))
	switch d {
	case math.MaxInt32:
		return time.Time{}, errors.New("date infinity")
	case math.MinInt32:
		return time.Time{}, errors.New("date -infinity")
	}
	return time.Unix((int64(d)+pgEpochDays)*86400, 0).UTC(), nil
}

// binaryInt decodes a bigint, integer or smallint in binary format.
func binaryInt(b []byte) (int64, error) {
	switch len(b) {
	case 8:
		return int64(binary.BigEndian.Uint64(b)), nil
	case 4:
		return int64(int32(binary.BigEndian.Uint32(b))), nil
	case 2:
		return int64(int16(binary.BigEndian.Uint16(b))), nil
	}
	return 0, fmt.Errorf("an integer of %d bytes", len(b))
}

// EWKB type flags: the geometry has Z, M, an SRID.
const (
	ewkbZ    = 0x80000000
	ewkbM    = 0x40000000
	ewkbSRID = 0x20000000
)

// decodeEWKB decodes a geometry in PostGIS's binary format (EWKB, the SRID
// ignored). A little-endian point, the most common row, is read in place.
// Geometries with Z or M are refused.
func decodeEWKB(b []byte) (orb.Geometry, error) {
	if len(b) < 5 {
		return nil, fmt.Errorf("EWKB of %d bytes", len(b))
	}
	var typ uint32
	switch b[0] {
	case 0:
		typ = binary.BigEndian.Uint32(b[1:])
	case 1:
		typ = binary.LittleEndian.Uint32(b[1:])
	default:
		return nil, fmt.Errorf("EWKB byte order %d", b[0])
	}
	if typ&(ewkbZ|ewkbM) != 0 {
		return nil, errors.New("a geometry with Z or M coordinates")
	}
	if b[0] == 1 && typ&^ewkbSRID == 1 {
		at := 5
		if typ&ewkbSRID != 0 {
			at = 9
		}
		if len(b) == at+16 {
			return orb.Point{
				math.Float64frombits(binary.LittleEndian.Uint64(b[at:])),
				math.Float64frombits(binary.LittleEndian.Uint64(b[at+8:])),
			}, nil
		}
	}
	g, _, err := ewkb.Unmarshal(b)
	return g, err
}
