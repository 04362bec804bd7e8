package gpkg

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"time"

	"citytwin/grid"
	"citytwin/parts"

	"github.com/paulmach/orb"
)

// encoder turns records into statement arguments. It caches the text of
// dates and classes, which repeat across millions of rows.
type encoder struct {
	dates   map[int64]string
	classes map[parts.Class]string
}

func newEncoder() *encoder {
	return &encoder{dates: make(map[int64]string), classes: make(map[parts.Class]string)}
}

// date adds t's UTC day as YYYY-MM-DD, or NULL for the zero time.
func (e *encoder) date(v *values, t time.Time) {
	if t.IsZero() {
		v.null()
		return
	}
	day := t.Unix()
	if day < 0 {
		day -= 86399
	}
	day /= 86400
	s, ok := e.dates[day]
	if !ok {
		s = t.UTC().Format(time.DateOnly)
		if len(e.dates) < 1<<16 {
			e.dates[day] = s
		}
	}
	v.text(s)
}

func (e *encoder) class(v *values, c parts.Class) {
	s, ok := e.classes[c]
	if !ok {
		s = c.String()
		e.classes[c] = s
	}
	v.text(s)
}

// checkCode returns the *parts.CodeError of an invalid code, or nil. The
// common case, a valid code, allocates nothing.
func checkCode(c parts.Code) error {
	if county := c.County(); county >= 110000 && county <= 829999 && c.Class().Major() >= 1 &&
		c.Class()%100 != 0 && c.Serial() != 0 && uint64(c) <= 9999999999999999 {
		return nil
	}
	_, err := parts.ParseCode(c.String())
	return err
}

// appendPart adds the 20 arguments of p (in partColumns order) to v and
// returns the geometry's bound. After an error v is as it was.
func (e *encoder) appendPart(v *values, p *parts.Part) (orb.Bound, error) {
	fail := func(field string, err error) (orb.Bound, error) {
		return orb.Bound{}, &RowError{Table: "parts", Key: p.Code.String(), Field: field, Err: err}
	}
	if err := checkCode(p.Code); err != nil {
		return fail("code", err)
	}
	if p.State > parts.Occupied {
		return fail("state", &parts.FieldError{Field: "state", Reason: fmt.Sprintf("state %d is not one of 0-3", p.State), Err: parts.ErrInvalid})
	}
	if p.Version > math.MaxInt64 {
		return fail("version", fmt.Errorf("%w: version %d does not fit in a signed 64-bit integer", ErrRow, p.Version))
	}
	np, nb := v.mark()
	start := len(v.buf)
	var b orb.Bound
	var err error
	if v.buf, b, err = appendGeometry(v.buf, p.Geometry); err != nil {
		v.truncate(np, nb)
		return fail("geometry", err)
	}
	v.blobFrom(start)
	start = len(v.buf)
	v.buf = p.Code.AppendDigits(v.buf)
	v.textFrom(start)
	class := p.Class
	if class == 0 {
		class = p.Code.Class()
	}
	e.class(v, class)
	v.text(p.Name)
	v.text(p.Supervisor)
	v.text(p.Owner)
	v.text(p.Maintainer)
	v.text(p.Grid)
	v.text(p.State.String())
	if p.Retired {
		v.int(1)
	} else {
		v.int(0)
	}
	e.date(v, p.Surveyed)
	e.date(v, p.Changed)
	v.text(p.Source.String())
	v.text(p.Photo)
	v.text(p.Note)
	v.text(p.Material)
	v.text(p.Label)
	v.int(int64(p.Version))
	v.text(p.SourceName)
	v.text(p.SourceID)
	return b, nil
}

// appendGrid adds the 8 arguments of g (in gridColumns order) to v and
// returns the geometry's bound. After an error v is as it was.
func appendGrid(v *values, g *grid.Grid) (orb.Bound, error) {
	key := string(g.Code)
	if _, err := grid.ParseCode(key); err != nil {
		return orb.Bound{}, &RowError{Table: "grids", Key: key, Field: "code", Err: err}
	}
	if g.Version > math.MaxInt64 {
		return orb.Bound{}, &RowError{Table: "grids", Key: key, Field: "version", Err: fmt.Errorf("%w: version %d does not fit in a signed 64-bit integer", ErrRow, g.Version)}
	}
	np, nb := v.mark()
	start := len(v.buf)
	var b orb.Bound
	var err error
	if v.buf, b, err = appendGeometry(v.buf, g.Geometry); err != nil {
		v.truncate(np, nb)
		return b, &RowError{Table: "grids", Key: key, Field: "geometry", Err: err}
	}
	v.blobFrom(start)
	v.text(key)
	v.text(g.Name)
	v.text(g.Dept)
	v.text(g.Code.District())
	v.text(g.Code.Street())
	v.text(g.Code.Community())
	v.int(int64(g.Version))
	return b, nil
}

// partSelect reads a part: the geometry blob, then the fields in the order
// of the f* constants.
const partSelect = `SELECT geom, fid, code, class, name, dept_supervisor, dept_owner, dept_maintainer,
 grid_code, state, retired, surveyed, changed, source, photo, note, material, label, version,
 source_name, source_id FROM parts`

// partFields is the number of columns of partSelect after geom.
const partFields = 20

// Field positions in partSelect, counted after geom.
const (
	fFID = iota
	fCode
	fClass
	fName
	fSupervisor
	fOwner
	fMaintainer
	fGrid
	fState
	fRetired
	fSurveyed
	fChanged
	fSource
	fPhoto
	fNote
	fMaterial
	fLabel
	fVersion
	fSourceName
	fSourceID
)

// decoder turns rows of partSelect back into parts. It interns repeated strings
// (departments, grid codes, names) and caches parsed classes, states,
// sources and dates, so a load of millions of rows allocates little more
// than the parts themselves.
type decoder struct {
	depts, grids, names, misc interner
	classes                   memo[parts.Class]
	states                    memo[parts.State]
	sources                   memo[parts.Source]
	dates                     memo[time.Time]
	// fields holds the text columns of the current row, by f* index;
	// retired and version hold its integer columns.
	fields           [partFields][]byte
	retired, version int64
	// last holds the string each text column gave the row before, by f*
	// index: grid codes and departments often repeat from row to row.
	last [partFields]string
	// pts holds the points of the parts decoded last, which their
	// geometries point to (see pointGeometry); it is never written again
	// once given out, only replaced when full.
	pts []orb.Point
}

// ptsBatch is the number of points of decoder.pts.
const ptsBatch = 1024

// point returns pt as an orb.Geometry that shares an array with the
// points of other parts instead of an allocation of its own: one
// allocation per 1024 points instead of one per point.
func (d *decoder) point(pt orb.Point) orb.Geometry {
	if len(d.pts) == cap(d.pts) {
		d.pts = make([]orb.Point, 0, ptsBatch)
	}
	d.pts = append(d.pts, pt)
	return pointGeometry(&d.pts[len(d.pts)-1])
}

// str returns the string of text column i of the current row, interned by
// in.
func (d *decoder) str(i int, in *interner) string {
	if string(d.fields[i]) == d.last[i] {
		return d.last[i]
	}
	s := in.get(d.fields[i])
	d.last[i] = s
	return s
}

func newDecoder() *decoder {
	return &decoder{
		depts:   interner{max: 1 << 12},
		grids:   interner{max: 1 << 16},
		names:   interner{max: 1 << 16},
		misc:    interner{max: 1 << 14},
		classes: memo[parts.Class]{parse: parts.ParseClass},
		states:  memo[parts.State]{parse: parts.ParseState},
		sources: memo[parts.Source]{parse: parts.ParseSource},
		dates:   memo[time.Time]{parse: parseDate},
	}
}

// parseCodeBytes parses a 16-digit component code without allocating in
// the common, valid case.
func parseCodeBytes(b []byte) (parts.Code, error) {
	if len(b) == 16 {
		var v uint64
		ok := true
		for _, c := range b {
			ok = ok && c >= '0' && c <= '9'
			v = v*10 + uint64(c-'0')
		}
		if ok && checkCode(parts.Code(v)) == nil {
			return parts.Code(v), nil
		}
	}
	return parts.ParseCode(string(b))
}

// part decodes the fields of d.fields and the geometry blob into p; fid
// names the row in errors when its code is unreadable.
func (d *decoder) part(p *parts.Part, geom []byte, fid int64) error {
	f := &d.fields
	bad := func(field string, err error) error {
		key := string(f[fCode])
		if field == "code" {
			key = fmt.Sprintf("fid %d", fid)
		}
		return &RowError{Table: "parts", Key: key, Field: field, Err: err}
	}
	code, err := parseCodeBytes(f[fCode])
	if err != nil {
		return bad("code", err)
	}
	*p = parts.Part{Code: code}
	if len(f[fClass]) == 0 {
		p.Class = code.Class()
	} else if c, ok := classDigits(f[fClass]); ok {
		p.Class = c
	} else if p.Class, err = d.classes.get(f[fClass]); err != nil {
		return bad("class", err)
	}
	p.Name = d.str(fName, &d.names)
	p.Supervisor = d.str(fSupervisor, &d.depts)
	p.Owner = d.str(fOwner, &d.depts)
	p.Maintainer = d.str(fMaintainer, &d.depts)
	p.Grid = d.str(fGrid, &d.grids)
	if len(f[fState]) > 0 {
		if p.State, err = d.states.get(f[fState]); err != nil {
			return bad("state", err)
		}
	}
	switch {
	case d.retired == 1:
		p.Retired = true
	case d.retired != 0:
		return bad("retired", fmt.Errorf("%w: %d is not 0 or 1", ErrRow, d.retired))
	}
	if len(f[fSurveyed]) > 0 {
		if t, ok := dateDigits(f[fSurveyed]); ok {
			p.Surveyed = t
		} else if p.Surveyed, err = d.dates.get(f[fSurveyed]); err != nil {
			return bad("surveyed", err)
		}
	}
	if len(f[fChanged]) > 0 {
		if t, ok := dateDigits(f[fChanged]); ok {
			p.Changed = t
		} else if p.Changed, err = d.dates.get(f[fChanged]); err != nil {
			return bad("changed", err)
		}
	}
	if len(f[fSource]) > 0 {
		if p.Source, err = d.sources.get(f[fSource]); err != nil {
			return bad("source", err)
		}
	}
	p.Photo = d.misc.get(f[fPhoto])
	p.Note = d.misc.get(f[fNote])
	p.Material = d.str(fMaterial, &d.misc)
	p.Label = d.str(fLabel, &d.names)
	p.SourceName = d.depts.get(f[fSourceName])
	p.SourceID = string(f[fSourceID])
	if d.version < 0 {
		return bad("version", fmt.Errorf("%w: version %d is negative", ErrRow, d.version))
	}
	p.Version = uint64(d.version)
	if geom != nil {
		if pt, ok := decodePoint(geom); ok {
			p.Geometry = d.point(pt)
		} else if p.Geometry, err = DecodeGeometry(geom); err != nil {
			return bad("geometry", err)
		}
	}
	return nil
}

// classDigits parses a class of 4 digits as parts.ParseClass does, without
// its string; ok is false for anything else (ParseClass then decides).
func classDigits(b []byte) (parts.Class, bool) {
	if len(b) != 4 {
		return 0, false
	}
	v := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	if v%100 == 0 || v < 100 {
		return 0, false
	}
	return parts.Class(v), true
}

// dateDigits parses a valid YYYY-MM-DD date as parseDate does, without a
// map or time.Parse; ok is false for anything else (parseDate then
// decides).
func dateDigits(b []byte) (time.Time, bool) {
	if len(b) != 10 || b[4] != '-' || b[7] != '-' {
		return time.Time{}, false
	}
	num := func(b []byte) (int, bool) {
		v := 0
		for _, c := range b {
			if c < '0' || c > '9' {
				return 0, false
			}
			v = v*10 + int(c-'0')
		}
		return v, true
	}
	y, ok1 := num(b[:4])
	m, ok2 := num(b[5:7])
	d, ok3 := num(b[8:])
	if !ok1 || !ok2 || !ok3 || m < 1 || m > 12 || d < 1 || d > 31 {
		return time.Time{}, false
	}
	if d > 28 {
		// Day 29 to 31: valid when time.Date does not roll it over.
		if t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC); t.Day() != d {
			return time.Time{}, false
		}
	}
	return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC), true
}

// parseDate parses a YYYY-MM-DD date (or an RFC 3339 time, as other tools
// may write into a DATE column) as a UTC day.
func parseDate(s string) (time.Time, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		t2, err2 := time.Parse(time.RFC3339, s)
		if err2 != nil {
			return time.Time{}, fmt.Errorf("%w: %q is not a YYYY-MM-DD date", ErrRow, s)
		}
		t = t2.UTC()
	}
	return t, nil
}

// interner returns one string per distinct value, up to max values.
type interner struct {
	m   map[string]string
	max int
	// recent holds strings returned before, by a quick hash of their
	// bytes: a hit costs a hash of two words and a comparison, less than
	// the map's lookup.
	recent [recentSize]string
}

// recentBits is log2 of the number of entries of interner.recent.
const (
	recentBits = 10
	recentSize = 1 << recentBits
)

// quickHash hashes b (not empty) from its length and its first and last
// eight bytes, for interner.recent.
func quickHash(b []byte) uint64 {
	var x, y uint64
	if n := len(b); n >= 8 {
		x = binary.LittleEndian.Uint64(b)
		y = binary.LittleEndian.Uint64(b[n-8:])
	} else {
		for _, c := range b {
			x = x<<8 | uint64(c)
		}
	}
	h := (x ^ bits.RotateLeft64(y, 31) ^ uint64(len(b))) * 0x9e3779b97f4a7c15
	return h >> (64 - recentBits)
}

func (in *interner) get(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	e := &in.recent[quickHash(b)]
	if *e == string(b) {
		return *e
	}
	if s, ok := in.m[string(b)]; ok {
		*e = s
		return s
	}
	s := string(b)
	if in.m == nil {
		in.m = make(map[string]string)
	}
	if len(in.m) < in.max {
		in.m[s] = s
	}
	*e = s
	return s
}

// memo caches the results of parse: the first eight distinct inputs apart
// (a column such as the state has a handful of values, found by a scan
// quicker than by a map), and up to 4096 more in a map.
type memo[T any] struct {
	m     map[string]memoEntry[T]
	parse func(string) (T, error)
	few   [memoFew]memoEntry[T]
	nFew  int // entries of few in use
}

// memoFew is the number of entries of memo.few.
const memoFew = 8

// memoEntry is a cached result with its input.
type memoEntry[T any] struct {
	key string
	v   T
}

func (m *memo[T]) get(b []byte) (T, error) {
	for i := range m.nFew {
		if e := &m.few[i]; e.key == string(b) {
			return e.v, nil
		}
	}
	if e, ok := m.m[string(b)]; ok {
		return e.v, nil
	}
	v, err := m.parse(string(b))
	if err != nil {
		return v, err
	}
	e := memoEntry[T]{key: string(b), v: v}
	switch {
	case m.nFew < memoFew:
		m.few[m.nFew] = e
		m.nFew++
	case len(m.m) < 4096:
		if m.m == nil {
			m.m = make(map[string]memoEntry[T])
		}
		m.m[e.key] = e
	}
	return v, nil
}

// parseLevel parses a division level as levelName writes it, or its digit.
func parseLevel(s string) (grid.Level, error) {
	for l := grid.District; l <= grid.Cell; l++ {
		if s == l.String() || s == strconv.Itoa(int(l)) {
			return l, nil
		}
	}
	return 0, fmt.Errorf("%w: level %q is not district, street, community or grid", ErrRow, s)
}
