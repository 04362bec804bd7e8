package ingest

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/paulmach/orb"
)

// lonNames and latNames are the coordinate columns looked for when the
// mapping names none, lower-cased, in order of preference.
var (
	lonNames = []string{"lon", "lng", "long", "longitude", "x", "经度"}
	latNames = []string{"lat", "latitude", "y", "纬度"}
)

// csvSource reads a CSV file with a header row. The delimiter (comma,
// semicolon or tab) is the most frequent of them in the header line.
type csvSource struct {
	r        *csv.Reader
	header   []string
	fields   csvFields
	lon, lat int
	geom     int // the geometry column, -1 for lon/lat columns
	row      int
}

func newCSVSource(r io.Reader, m Mapping) (*csvSource, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, _ := br.Peek(64 << 10)
	line, _, _ := bytes.Cut(head, []byte("\n"))
	delim := ','
	best := bytes.Count(line, []byte(","))
	for _, d := range []rune{';', '\t'} {
		if n := bytes.Count(line, []byte(string(d))); n > best {
			delim, best = d, n
		}
	}
	cr := csv.NewReader(br)
	cr.Comma = delim
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = errors.New("empty input: no header row")
		}
		return nil, &SyntaxError{Format: CSV, Row: 0, Err: fmt.Errorf("header: %w", err)}
	}
	header = append([]string(nil), header...)
	if len(header) > 0 {
		header[0] = strings.TrimPrefix(header[0], "\ufeff")
	}
	s := &csvSource{r: cr, header: header, fields: csvFields{index: map[string]int{}, fold: map[string]int{}}}
	for i, h := range header {
		h = strings.TrimSpace(h)
		header[i] = h
		if _, dup := s.fields.index[h]; !dup {
			s.fields.index[h] = i
		}
		if _, dup := s.fields.fold[strings.ToLower(h)]; !dup {
			s.fields.fold[strings.ToLower(h)] = i
		}
	}
	s.geom = -1
	if m.Geometry != "" {
		if s.geom, err = s.column("geometry", m.Geometry, nil); err != nil {
			return nil, err
		}
	} else {
		if s.lon, err = s.column("lon", m.Lon, lonNames); err != nil {
			return nil, err
		}
		if s.lat, err = s.column("lat", m.Lat, latNames); err != nil {
			return nil, err
		}
	}
	for _, k := range fieldKeys {
		name := *m.fieldPtr(k)
		if name == "" || k == "lon" || k == "lat" || k == "geometry" {
			continue
		}
		if !s.has(name) {
			return nil, &MappingError{Key: k, Value: name, Reason: fmt.Sprintf("no such column in the CSV header %q", header)}
		}
	}
	return s, nil
}

func (s *csvSource) has(name string) bool {
	_, ok := s.fields.index[name]
	if !ok {
		_, ok = s.fields.fold[strings.ToLower(name)]
	}
	return ok
}

// column finds the column of a coordinate: the mapped name, or the first
// of the usual names.
func (s *csvSource) column(key, mapped string, names []string) (int, error) {
	if mapped != "" {
		if i, ok := s.fields.index[mapped]; ok {
			return i, nil
		}
		if i, ok := s.fields.fold[strings.ToLower(mapped)]; ok {
			return i, nil
		}
		return 0, &MappingError{Key: key, Value: mapped, Reason: fmt.Sprintf("no such column in the CSV header %q", s.header)}
	}
	for _, n := range names {
		if i, ok := s.fields.fold[n]; ok {
			return i, nil
		}
	}
	return 0, &MappingError{Key: key, Reason: fmt.Sprintf("no %s column (%s) in the CSV header %q; name it with %s=COLUMN", key, strings.Join(names, "/"), s.header, key)}
}

func (s *csvSource) next() (record, error) {
	rec, err := s.r.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return record{}, io.EOF
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			s.row++
			return record{}, &RowError{Row: s.row, Field: "csv", Reason: fmt.Sprintf("line %d: %v", pe.Line, pe.Err)}
		}
		return record{}, &SyntaxError{Format: CSV, Row: s.row, Err: err}
	}
	s.row++
	f := s.fields
	f.rec = rec
	out := record{row: s.row, fields: f}
	if s.geom >= 0 {
		out.geom, out.geomErr = s.geometry(rec)
		return out, nil
	}
	lon, err := s.coord(rec, s.lon, "lon")
	if err != nil {
		out.geomErr = err
		return out, nil
	}
	lat, err := s.coord(rec, s.lat, "lat")
	if err != nil {
		out.geomErr = err
		return out, nil
	}
	p := orb.Point{lon, lat}
	if err := checkPoint(p); err != nil {
		out.geomErr = &RowError{Row: s.row, Field: "geometry", Reason: err.Error()}
		return out, nil
	}
	out.geom = p
	return out, nil
}

func (s *csvSource) coord(rec []string, col int, key string) (float64, error) {
	if col >= len(rec) || strings.TrimSpace(rec[col]) == "" {
		return 0, &RowError{Row: s.row, Field: key, Reason: fmt.Sprintf("column %q is empty", s.header[col])}
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(rec[col]), 64)
	if err != nil {
		return 0, &RowError{Row: s.row, Field: key, Reason: fmt.Sprintf("column %q value %q is not a number", s.header[col], rec[col])}
	}
	return v, nil
}

// geometry reads the geometry column of rec: GeoJSON text when it starts
// with "{", else WKT.
func (s *csvSource) geometry(rec []string) (orb.Geometry, error) {
	bad := func(reason string) error {
		return &RowError{Row: s.row, Field: "geometry", Reason: fmt.Sprintf("column %q: %s", s.header[s.geom], reason)}
	}
	if s.geom >= len(rec) || strings.TrimSpace(rec[s.geom]) == "" {
		return nil, bad("empty")
	}
	v := strings.TrimSpace(rec[s.geom])
	var (
		g   orb.Geometry
		err error
	)
	if v[0] == '{' {
		if !json.Valid([]byte(v)) {
			return nil, bad("not valid JSON (GeoJSON geometry text)")
		}
		g, err = decodeGeometry(json.RawMessage(v))
	} else {
		g, err = ParseWKT(v)
	}
	if err != nil {
		return nil, bad(err.Error())
	}
	return g, nil
}
