package sensors

import (
	"encoding/json"
	"math"
	"strconv"
	"time"
)

// Bounds of the payload parsers.
const (
	MaxPayload = 1 << 20 // bytes of one payload
	MaxBatch   = 10_000  // readings of one array
	maxDepth   = 32      // nesting of ignored fields
)

// ParseValue decodes the payload a device publishes on its own topic:
// {"value":12.5,"time":"2026-12-01T08:00:00Z"} or a bare number 12.5. The
// time is optional (now when missing or null) and is RFC 3339 or a number of
// Unix seconds (milliseconds when over 1e11); other fields are ignored, a
// "sensor" field too (the topic names the sensor). The value must be a JSON
// number: null or a string is ErrBadValue. Errors are *PayloadError.
func ParseValue(id ID, payload []byte, now time.Time) (Reading, error) {
	if len(payload) > MaxPayload {
		return Reading{}, &PayloadError{Index: -1, Reason: "payload of " + strconv.Itoa(len(payload)) + " bytes, at most 1 MiB", Err: ErrTooLarge}
	}
	if why := checkID(string(id)); why != "" {
		return Reading{}, &PayloadError{Index: -1, Field: "sensor", Reason: why, Err: ErrInvalid}
	}
	s := scan{b: payload}
	s.ws()
	if s.i == len(s.b) {
		return Reading{}, s.fail("empty payload")
	}
	var o object
	if s.b[s.i] == '{' {
		if err := s.object(&o); err != nil {
			return Reading{}, err
		}
	} else {
		o.valueOff = s.i
		if err := s.value(&o); err != nil {
			return Reading{}, err
		}
	}
	s.ws()
	if s.i != len(s.b) {
		return Reading{}, s.fail("data after the reading")
	}
	r, perr := o.reading(id, now)
	if perr != nil {
		perr.Index = -1
		return Reading{}, perr
	}
	return r, nil
}

// AppendReadings decodes a JSON array of {"sensor":id,"value":..,"time":..}
// (or one such object) and appends the readings to dst. Time and value are
// as for ParseValue; other fields are ignored. A payload over MaxPayload or
// an array over MaxBatch is ErrTooLarge and malformed JSON is ErrMalformed:
// nothing is appended. An element with a bad sensor, value or time is
// skipped and the others are appended: the error is then a *PayloadError
// describing the first bad element, with the number skipped.
func AppendReadings(dst []Reading, payload []byte, now time.Time) ([]Reading, error) {
	n0 := len(dst)
	if len(payload) > MaxPayload {
		return dst, &PayloadError{Index: -1, Reason: "payload of " + strconv.Itoa(len(payload)) + " bytes, at most 1 MiB", Err: ErrTooLarge}
	}
	s := scan{b: payload}
	s.ws()
	if s.i == len(s.b) {
		return dst, s.fail("empty payload")
	}
	var first *PayloadError
	skipped := 0
	add := func(o *object, index int) {
		r, perr := o.reading("", now)
		if perr == nil {
			dst = append(dst, r)
			return
		}
		if skipped++; first == nil {
			perr.Index = index
			first = perr
		}
	}
	switch s.b[s.i] {
	case '{':
		var o object
		if err := s.object(&o); err != nil {
			return dst, err
		}
		add(&o, 0)
	case '[':
		s.i++
		s.ws()
		if s.i < len(s.b) && s.b[s.i] == ']' {
			s.i++
			break
		}
		for k := 0; ; k++ {
			if k == MaxBatch {
				return dst[:n0], &PayloadError{Index: -1, Offset: s.i, Reason: "more than 10000 readings in one array", Err: ErrTooLarge}
			}
			if s.i >= len(s.b) || s.b[s.i] != '{' {
				return dst[:n0], s.fail("want an object {\"sensor\":..,\"value\":..}")
			}
			var o object
			if err := s.object(&o); err != nil {
				return dst[:n0], err
			}
			add(&o, k)
			s.ws()
			if s.i < len(s.b) && s.b[s.i] == ',' {
				s.i++
				s.ws()
				continue
			}
			if s.i < len(s.b) && s.b[s.i] == ']' {
				s.i++
				break
			}
			return dst[:n0], s.fail("want , or ] after a reading")
		}
	default:
		return dst, s.fail("want an array of readings or one reading object")
	}
	s.ws()
	if s.i != len(s.b) {
		return dst[:n0], s.fail("data after the readings")
	}
	if first != nil {
		first.Skipped = skipped
		return dst, first
	}
	return dst, nil
}

// value states of an object.
const (
	vMissing uint8 = iota
	vNumber
	vNull
	vString
	vOther
	vRange
)

// object is one decoded reading object; semantic problems are kept for
// reading, syntax errors stop the scan.
type object struct {
	sensor                       []byte
	sensorState                  uint8 // vMissing, vString (raw in sensor), vNull, vOther
	sensorEsc                    bool
	value                        float64
	valueState                   uint8
	timeRaw                      []byte
	timeState                    uint8 // vMissing, vNull, vString, vNumber, vOther
	timeNum                      float64
	sensorOff, valueOff, timeOff int
}

func (o *object) reading(id ID, now time.Time) (Reading, *PayloadError) {
	r := Reading{Sensor: id, Time: now}
	if id == "" {
		switch o.sensorState {
		case vString:
			raw := o.sensor
			if o.sensorEsc {
				var s string
				if json.Unmarshal(append(append([]byte{'"'}, raw...), '"'), &s) != nil {
					return r, &PayloadError{Field: "sensor", Offset: o.sensorOff, Reason: "bad escape", Err: ErrMalformed}
				}
				raw = []byte(s)
			}
			if why := checkID(string(raw)); why != "" {
				return r, &PayloadError{Field: "sensor", Offset: o.sensorOff, Reason: why, Err: ErrInvalid}
			}
			r.Sensor = ID(raw)
		case vMissing:
			return r, &PayloadError{Field: "sensor", Offset: o.sensorOff, Reason: "missing", Err: ErrInvalid}
		default:
			return r, &PayloadError{Field: "sensor", Offset: o.sensorOff, Reason: "not a string", Err: ErrInvalid}
		}
	}
	switch o.valueState {
	case vNumber:
		r.Value = o.value
	case vMissing:
		return r, &PayloadError{Field: "value", Offset: o.valueOff, Reason: "missing", Err: ErrBadValue}
	case vNull:
		return r, &PayloadError{Field: "value", Offset: o.valueOff, Reason: "null, want a number", Err: ErrBadValue}
	case vString:
		return r, &PayloadError{Field: "value", Offset: o.valueOff, Reason: "a string, want a number", Err: ErrBadValue}
	case vRange:
		return r, &PayloadError{Field: "value", Offset: o.valueOff, Reason: "number out of range", Err: ErrBadValue}
	default:
		return r, &PayloadError{Field: "value", Offset: o.valueOff, Reason: "not a number", Err: ErrBadValue}
	}
	switch o.timeState {
	case vString:
		t, ok := parseTime(o.timeRaw)
		if !ok {
			return r, &PayloadError{Field: "time", Offset: o.timeOff, Reason: "not an RFC 3339 time such as 2026-12-01T08:00:00Z", Err: ErrMalformed}
		}
		r.Time = t
	case vNumber:
		f := o.timeNum
		if f >= 1e11 {
			f /= 1000 // milliseconds
		}
		if !(f >= 0 && f < 1e11) {
			return r, &PayloadError{Field: "time", Offset: o.timeOff, Reason: "Unix time out of range", Err: ErrMalformed}
		}
		sec := math.Floor(f)
		r.Time = time.Unix(int64(sec), int64((f-sec)*1e9)).UTC()
	case vOther:
		return r, &PayloadError{Field: "time", Offset: o.timeOff, Reason: "not a time", Err: ErrMalformed}
	}
	return r, nil
}

// scan is a small JSON scanner over a payload.
type scan struct {
	b []byte
	i int
}

func (s *scan) fail(reason string) *PayloadError {
	return &PayloadError{Index: -1, Offset: s.i, Reason: reason, Err: ErrMalformed}
}

func (s *scan) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// object scans a reading object at s.i ('{').
func (s *scan) object(o *object) error {
	s.i++
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == '}' {
		s.i++
		return nil
	}
	for {
		if s.i >= len(s.b) || s.b[s.i] != '"' {
			return s.fail("want a field name")
		}
		key, _, err := s.str()
		if err != nil {
			return err
		}
		s.ws()
		if s.i >= len(s.b) || s.b[s.i] != ':' {
			return s.fail("want : after a field name")
		}
		s.i++
		s.ws()
		if s.i >= len(s.b) {
			return s.fail("unexpected end")
		}
		switch string(key) {
		case "sensor":
			o.sensorOff = s.i
			if s.b[s.i] == '"' {
				o.sensor, o.sensorEsc, err = s.str()
				o.sensorState = vString
			} else {
				o.sensorState = vOther
				err = s.skip(1)
			}
		case "value":
			o.valueOff = s.i
			err = s.value(o)
		case "time":
			o.timeOff = s.i
			err = s.time(o)
		default:
			err = s.skip(1)
		}
		if err != nil {
			return err
		}
		s.ws()
		if s.i < len(s.b) && s.b[s.i] == ',' {
			s.i++
			s.ws()
			continue
		}
		if s.i < len(s.b) && s.b[s.i] == '}' {
			s.i++
			return nil
		}
		return s.fail("want , or } in an object")
	}
}

// value scans the value of a reading (any JSON value: only a number is good).
func (s *scan) value(o *object) error {
	c := s.b[s.i]
	switch {
	case c == '-' || c >= '0' && c <= '9':
		tok, err := s.num()
		if err != nil {
			return err
		}
		v, perr := strconv.ParseFloat(string(tok), 64)
		o.value, o.valueState = v, vNumber
		if perr != nil || math.IsInf(v, 0) {
			o.valueState = vRange
		}
		return nil
	case c == 'n':
		o.valueState = vNull
	case c == '"':
		o.valueState = vString
	default:
		o.valueState = vOther
	}
	return s.skip(1)
}

// time scans the time of a reading.
func (s *scan) time(o *object) error {
	switch c := s.b[s.i]; {
	case c == '"':
		raw, esc, err := s.str()
		o.timeRaw, o.timeState = raw, vString
		if esc {
			o.timeState = vOther
		}
		return err
	case c == '-' || c >= '0' && c <= '9':
		tok, err := s.num()
		if err != nil {
			return err
		}
		v, perr := strconv.ParseFloat(string(tok), 64)
		o.timeNum, o.timeState = v, vNumber
		if perr != nil {
			o.timeState = vOther
		}
		return nil
	case c == 'n':
		o.timeState = vNull
	default:
		o.timeState = vOther
	}
	return s.skip(1)
}

// str scans a string at s.i ('"') and returns its raw content.
func (s *scan) str() (raw []byte, esc bool, err error) {
	i := s.i + 1
	for i < len(s.b) {
		switch c := s.b[i]; {
		case c == '"':
			raw, s.i = s.b[s.i+1:i], i+1
			return raw, esc, nil
		case c == '\\':
			esc = true
			if i+1 >= len(s.b) {
				s.i = i
				return nil, false, s.fail("unterminated string")
			}
			switch s.b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(s.b) || !hex4(s.b[i+2:i+6]) {
					s.i = i
					return nil, false, s.fail("bad \\u escape")
				}
				i += 6
			default:
				s.i = i
				return nil, false, s.fail("bad escape")
			}
		case c < 0x20:
			s.i = i
			return nil, false, s.fail("control character in a string")
		default:
			i++
		}
	}
	s.i = i
	return nil, false, s.fail("unterminated string")
}

func hex4(b []byte) bool {
	for _, c := range b {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// num scans a JSON number.
func (s *scan) num() ([]byte, error) {
	b, i := s.b, s.i
	digits := func() int {
		st := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		return i - st
	}
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case digits() == 0:
		s.i = i
		return nil, s.fail("bad number")
	}
	if i < len(b) && b[i] == '.' {
		i++
		if digits() == 0 {
			s.i = i
			return nil, s.fail("bad number")
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if digits() == 0 {
			s.i = i
			return nil, s.fail("bad number")
		}
	}
	tok := b[s.i:i]
	s.i = i
	return tok, nil
}

// skip scans any JSON value, nested at most maxDepth deep.
func (s *scan) skip(depth int) error {
	if depth > maxDepth {
		return s.fail("nested too deep")
	}
	if s.i >= len(s.b) {
		return s.fail("unexpected end")
	}
	switch c := s.b[s.i]; {
	case c == '"':
		_, _, err := s.str()
		return err
	case c == '-' || c >= '0' && c <= '9':
		_, err := s.num()
		return err
	case c == 't':
		return s.lit("true")
	case c == 'f':
		return s.lit("false")
	case c == 'n':
		return s.lit("null")
	case c == '{' || c == '[':
		end := byte('}')
		if c == '[' {
			end = ']'
		}
		s.i++
		s.ws()
		if s.i < len(s.b) && s.b[s.i] == end {
			s.i++
			return nil
		}
		for {
			if c == '{' {
				if s.i >= len(s.b) || s.b[s.i] != '"' {
					return s.fail("want a field name")
				}
				if _, _, err := s.str(); err != nil {
					return err
				}
				s.ws()
				if s.i >= len(s.b) || s.b[s.i] != ':' {
					return s.fail("want : after a field name")
				}
				s.i++
				s.ws()
			}
			if err := s.skip(depth + 1); err != nil {
				return err
			}
			s.ws()
			if s.i < len(s.b) && s.b[s.i] == ',' {
				s.i++
				s.ws()
				continue
			}
			if s.i < len(s.b) && s.b[s.i] == end {
				s.i++
				return nil
			}
			return s.fail("want , or " + string(end))
		}
	}
	return s.fail("unexpected character")
}

func (s *scan) lit(w string) error {
	if len(s.b)-s.i < len(w) || string(s.b[s.i:s.i+len(w)]) != w {
		return s.fail("bad literal")
	}
	s.i += len(w)
	return nil
}

// parseTime parses an RFC 3339 time (2026-12-01T08:00:00Z,
// 2026-12-01T16:00:00.5+08:00) without allocating; the result is UTC.
func parseTime(b []byte) (time.Time, bool) {
	if len(b) < 20 {
		return time.Time{}, false
	}
	num := func(p []byte) int {
		v := 0
		for _, c := range p {
			if c < '0' || c > '9' {
				return -1
			}
			v = v*10 + int(c-'0')
		}
		return v
	}
	year, month, day := num(b[0:4]), num(b[5:7]), num(b[8:10])
	hour, minute, sec := num(b[11:13]), num(b[14:16]), num(b[17:19])
	if b[4] != '-' || b[7] != '-' || b[13] != ':' || b[16] != ':' ||
		b[10] != 'T' && b[10] != 't' && b[10] != ' ' ||
		year < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 ||
		minute < 0 || minute > 59 || sec < 0 || sec > 59 {
		return time.Time{}, false
	}
	if day > daysIn(time.Month(month), year) {
		return time.Time{}, false
	}
	i, ns := 19, 0
	if b[i] == '.' {
		i++
		st, scale := i, 100_000_000
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			ns += int(b[i]-'0') * scale
			scale /= 10
			i++
		}
		if i == st {
			return time.Time{}, false
		}
	}
	off := 0
	switch {
	case i < len(b) && (b[i] == 'Z' || b[i] == 'z'):
		i++
	case i+6 == len(b) && (b[i] == '+' || b[i] == '-') && b[i+3] == ':':
		h, m := num(b[i+1:i+3]), num(b[i+4:i+6])
		if h < 0 || h > 23 || m < 0 || m > 59 {
			return time.Time{}, false
		}
		off = h*3600 + m*60
		if b[i] == '-' {
			off = -off
		}
		i += 6
	default:
		return time.Time{}, false
	}
	if i != len(b) {
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, ns, time.UTC)
	return t.Add(-time.Duration(off) * time.Second), true
}

func daysIn(m time.Month, year int) int {
	switch m {
	case time.February:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case time.April, time.June, time.September, time.November:
		return 30
	}
	return 31
}
