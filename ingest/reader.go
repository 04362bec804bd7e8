package ingest

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"citytwin/grid"
	"citytwin/parts"
)

// SourceIDPrefix starts the Note of a part whose source identifier is not a
// component code: "source id: PH6000".
const SourceIDPrefix = "source id: "

// Reader reads parts from one input. Not safe for concurrent use.
type Reader struct {
	format     Format
	m          Mapping
	cat        *parts.Catalogue
	src        source
	alloc      *CodeAllocator
	classNames map[string]parts.Class // catalogue names, lower-cased
	ownerFold  map[string]string      // OwnerMap with lower-cased keys
	seen       map[string]bool        // mapped field -> seen in some record
	stats      Stats
	fatal      error
}

// NewReader returns a Reader of r in format f. cat is the class catalogue
// (parts.DefaultCatalogue() if nil). For CSV it reads the header row and
// fails with a *MappingError when a mapped column or a coordinate column is
// missing. The Reader generates codes with its own CodeAllocator in the
// mapping's county; see Allocator and SetAllocator.
func NewReader(r io.Reader, f Format, m Mapping, cat *parts.Catalogue) (*Reader, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	if cat == nil {
		cat = parts.DefaultCatalogue()
	}
	if m.DefaultClass != 0 {
		if err := cat.Validate(m.DefaultClass); err != nil {
			return nil, &MappingError{Key: "default_class", Value: m.DefaultClass.String(), Reason: "not in the class catalogue"}
		}
	}
	if m.Class == "" && m.Code == "" && m.DefaultClass == 0 {
		return nil, &MappingError{Key: "class", Reason: "no class: give class=NNNN, class=@field or a code field"}
	}
	rd := &Reader{
		format:     f,
		m:          m,
		cat:        cat,
		alloc:      NewCodeAllocator(m.County),
		classNames: map[string]parts.Class{},
		ownerFold:  map[string]string{},
		seen:       map[string]bool{},
	}
	for _, ci := range cat.All() {
		rd.classNames[strings.ToLower(ci.Name)] = ci.Class
		rd.classNames[strings.ToLower(ci.NameEN)] = ci.Class
	}
	for k, v := range m.OwnerMap {
		rd.ownerFold[strings.ToLower(k)] = v
	}
	switch f {
	case GeoJSON:
		rd.src = newCollectionSource(r)
	case GeoJSONSeq:
		rd.src = newSequenceSource(r)
	case CSV:
		s, err := newCSVSource(r, m)
		if err != nil {
			return nil, err
		}
		rd.src = s
	default:
		return nil, &FormatError{Name: string(f), Reason: "not one of geojson, geojsonseq, csv"}
	}
	return rd, nil
}

// Allocator returns the allocator of generated codes. Take the codes that
// already exist (for example every code in the store) before the first
// Next, so that generated codes never collide with them and source codes
// that repeat them are reported as duplicates.
func (rd *Reader) Allocator() *CodeAllocator { return rd.alloc }

// SetAllocator makes the Reader use a, for example one allocator shared by
// several imports. a's county, not the mapping's, decides generated codes.
func (rd *Reader) SetAllocator(a *CodeAllocator) {
	if a != nil {
		rd.alloc = a
	}
}

// Stats returns the counts so far.
func (rd *Reader) Stats() Stats {
	s := rd.stats
	s.Errors = append([]RowError(nil), s.Errors...)
	s.MissingFields = nil
	if s.Read > 0 {
		for _, k := range fieldKeys {
			name := *rd.m.fieldPtr(k)
			if name != "" && !rd.seen[name] && !(rd.format == CSV && (k == "lon" || k == "lat")) {
				s.MissingFields = append(s.MissingFields, name)
			}
		}
	}
	return s
}

// Next returns the next part, io.EOF at the end, a *RowError for a bad
// record (call Next again to go on), or a *SyntaxError when the input is
// broken (every later call returns it again).
func (rd *Reader) Next() (parts.Part, error) {
	if rd.fatal != nil {
		return parts.Part{}, rd.fatal
	}
	rec, err := rd.src.next()
	if err != nil {
		var re *RowError
		switch {
		case errors.Is(err, io.EOF):
			return parts.Part{}, io.EOF
		case errors.As(err, &re):
			rd.stats.Read++
			rd.skip(re)
			return parts.Part{}, re
		}
		var se *SyntaxError
		if !errors.As(err, &se) {
			se = &SyntaxError{Format: rd.format, Err: err}
		}
		rd.fatal = se
		rd.stats.addError(RowError{Row: se.Row, Field: "input", Reason: se.Err.Error()})
		return parts.Part{}, se
	}
	rd.stats.Read++
	p, re := rd.convert(&rec)
	if re != nil {
		rd.skip(re)
		return parts.Part{}, re
	}
	rd.stats.Imported++
	return p, nil
}

func (rd *Reader) skip(re *RowError) {
	rd.stats.Skipped++
	rd.stats.addError(*re)
}

// get reads the mapped field name of rec, trimmed; "" when absent.
func (rd *Reader) get(rec *record, name string) string {
	if name == "" {
		return ""
	}
	v, ok := rec.fields.lookup(name)
	if !ok {
		return ""
	}
	rd.seen[name] = true
	return strings.TrimSpace(v)
}

// convert maps one record to a part. Nothing is allocated or taken unless
// the part is valid.
func (rd *Reader) convert(rec *record) (parts.Part, *RowError) {
	bad := func(field, format string, args ...any) *RowError {
		return &RowError{Row: rec.row, Field: field, Reason: fmt.Sprintf(format, args...)}
	}
	m := &rd.m
	// Read every mapped field first, so Stats.MissingFields is right even
	// for rows that fail.
	var (
		codeV  = rd.get(rec, m.Code)
		classV = rd.get(rec, m.Class)
		p      = parts.Part{
			Name:       rd.get(rec, m.Name),
			Owner:      rd.get(rec, m.Owner),
			Supervisor: rd.get(rec, m.Supervisor),
			Maintainer: rd.get(rec, m.Maintainer),
			Grid:       rd.get(rec, m.Grid),
			Label:      rd.get(rec, m.Label),
			Material:   rd.get(rec, m.Material),
			Note:       rd.get(rec, m.Note),
			Source:     parts.OtherSource,
		}
		stateV = rd.get(rec, m.State)
	)
	if rec.geomErr != nil {
		var re *RowError
		if errors.As(rec.geomErr, &re) {
			return parts.Part{}, re
		}
		return parts.Part{}, bad("geometry", "%s", rec.geomErr.Error())
	}
	// code: 16 digits is a code, anything else a source identifier
	var code parts.Code
	srcID := ""
	if codeV != "" {
		if isDigits(codeV) && len(codeV) == 16 {
			c, err := parts.ParseCode(codeV)
			if err != nil {
				return parts.Part{}, bad("code", "field %q: %v", m.Code, err)
			}
			code = c
		} else {
			srcID = codeV
		}
	}
	// class: field, else the code's, else the default
	if classV != "" {
		c, err := rd.parseClass(classV)
		if err != nil {
			return parts.Part{}, bad("class", "field %q value %q: %v", m.Class, classV, err)
		}
		p.Class = c
	}
	switch {
	case p.Class != 0:
	case code != 0:
		p.Class = code.Class()
	case m.DefaultClass != 0:
		p.Class = m.DefaultClass
	default:
		return parts.Part{}, bad("class", "the row has no class and the mapping no default class")
	}
	ci, ok := rd.cat.Lookup(p.Class)
	if !ok {
		return parts.Part{}, bad("class", "%s is not in the class catalogue", p.Class)
	}
	if code != 0 && code.Class() != p.Class {
		return parts.Part{}, bad("code", "code %s is of class %s, the row is of class %s", code, code.Class(), p.Class)
	}
	if stateV != "" {
		st, retired, ok := ParseState(stateV)
		if !ok {
			return parts.Part{}, bad("state", "field %q value %q is not a known state (完好 破损 丢失 占用, intact damaged missing occupied, active, removed, ...)", m.State, stateV)
		}
		p.State, p.Retired = st, retired
	}
	if p.Grid != "" {
		if _, err := grid.ParseCode(p.Grid); err != nil {
			return parts.Part{}, bad("grid", "field %q: %v", m.Grid, err)
		}
	}
	p.Owner = rd.owner(p.Owner, ci)
	if p.Supervisor == "" {
		p.Supervisor = ci.Super
	}
	if srcID != "" {
		if p.Note != "" {
			p.Note = SourceIDPrefix + srcID + "; " + p.Note
		} else {
			p.Note = SourceIDPrefix + srcID
		}
	}
	p.Geometry = rec.geom
	if m.GCJ02 {
		p.Geometry = transform(p.Geometry, WGS84FromGCJ02)
	}
	// validate with a provisional code before taking or allocating one
	p.Code = code
	if code == 0 {
		// valid if the county and class are: Validate checks it
		p.Code = parts.Code(uint64(rd.alloc.County())*1e10 + uint64(p.Class)*1e6 + 1)
	}
	if err := p.Validate(rd.cat); err != nil {
		var fe *parts.FieldError
		if errors.As(err, &fe) {
			return parts.Part{}, bad(fe.Field, "%s", fe.Reason)
		}
		return parts.Part{}, bad("code", "%v", err)
	}
	if code != 0 {
		if !rd.alloc.Take(code) {
			return parts.Part{}, bad("code", "code %s is already taken (repeated in the input or already stored)", code)
		}
		return p, nil
	}
	c, err := rd.alloc.Next(p.Class)
	if err != nil {
		return parts.Part{}, bad("code", "%v", err)
	}
	p.Code = c
	return p, nil
}

// parseClass reads a class value: 1-4 digits ("113", "0113") or a
// catalogue name (Chinese or English, any case).
func (rd *Reader) parseClass(v string) (parts.Class, error) {
	if isDigits(v) && len(v) <= 4 {
		return parts.ParseClass(strings.Repeat("0", 4-len(v)) + v)
	}
	if c, ok := rd.classNames[strings.ToLower(v)]; ok {
		return c, nil
	}
	return 0, errors.New("not a class (want 4 digits like 0113 or a catalogue name)")
}

// owner maps a source owner value to a department code.
func (rd *Reader) owner(v string, ci parts.ClassInfo) string {
	if v == "" {
		if rd.m.DefaultOwner != "" {
			return rd.m.DefaultOwner
		}
		return ci.Owner
	}
	if d, ok := rd.m.OwnerMap[v]; ok {
		return d
	}
	if d, ok := rd.ownerFold[strings.ToLower(v)]; ok {
		return d
	}
	return v
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
