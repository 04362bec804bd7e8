package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"citytwin/grid"
	"citytwin/parts"
)

// partPropertyNames are the properties a component Feature may carry.
var partPropertyNames = []string{"code", "class", "name", "dept_supervisor", "dept_owner", "dept_maintainer",
	"grid_code", "state", "retired", "surveyed", "changed", "source", "photo", "note", "source_name", "source_id", "material", "label", "version"}

// gridPropertyNames are the properties a grid Feature may carry.
var gridPropertyNames = []string{"code", "name", "dept", "district", "street", "community", "version"}

// applyPartProps sets the properties of a Feature on p, collecting every
// bad or unknown property into one *InputError. It returns the version the
// body claims (properties.version), 0 if none: a precondition like If-Match.
// changed is read-only and ignored (the server sets it); retired may only be
// false (retire with DELETE or an op "retire" record).
func applyPartProps(p *parts.Part, props map[string]json.RawMessage) (uint64, error) {
	var errs []FieldReason
	bad := func(field, format string, args ...any) {
		errs = append(errs, FieldReason{Field: "properties." + field, Reason: fmt.Sprintf(format, args...)})
	}
	var version uint64
	for _, k := range sortedKeys(props) {
		v := props[k]
		str := func(dst *string) {
			if isNull(v) {
				*dst = ""
				return
			}
			if err := json.Unmarshal(v, dst); err != nil {
				bad(k, "want a string, got %s", clip(v))
			}
		}
		switch k {
		case "code":
			s, err := stringOrNumber(v)
			if err != nil {
				bad(k, "%v", err)
				continue
			}
			c, err := parts.ParseCode(s)
			if err != nil {
				bad(k, "%v", err)
				continue
			}
			if p.Code != 0 && c != p.Code {
				bad(k, "%s differs from the code %s of the request; a code cannot change", c, p.Code)
				continue
			}
			p.Code = c
		case "class":
			s, err := stringOrNumber(v)
			if err == nil && len(s) < 4 {
				if n, e := strconv.Atoi(s); e == nil && n >= 0 {
					s = fmt.Sprintf("%04d", n) // 101 -> "0101"
				}
			}
			if err != nil {
				bad(k, "%v", err)
				continue
			}
			cl, err := parts.ParseClass(s)
			if err != nil {
				bad(k, "%q is not a 4-digit minor class such as 0101", s)
				continue
			}
			p.Class = cl
		case "name":
			str(&p.Name)
		case "dept_supervisor":
			str(&p.Supervisor)
		case "dept_owner":
			str(&p.Owner)
		case "dept_maintainer":
			str(&p.Maintainer)
		case "photo":
			str(&p.Photo)
		case "note":
			str(&p.Note)
		case "source_name":
			// provenance: the file or feed an import read the component
			// from; re-imports match within it (see ingest)
			str(&p.SourceName)
		case "source_id":
			str(&p.SourceID)
		case "material":
			str(&p.Material)
		case "label":
			str(&p.Label)
		case "grid_code":
			var s string
			str(&s)
			if s != "" {
				if _, err := grid.ParseCode(s); err != nil {
					bad(k, "%v", err)
					continue
				}
			}
			p.Grid = s
		case "state":
			s, err := stringOrNumber(v)
			if err != nil {
				bad(k, "%v", err)
				continue
			}
			st, err := parts.ParseState(s)
			if err != nil {
				bad(k, "%q is not one of 完好 破损 丢失 占用 (intact damaged missing occupied)", s)
				continue
			}
			p.State = st
		case "source":
			s, err := stringOrNumber(v)
			if err != nil {
				bad(k, "%v", err)
				continue
			}
			src, err := parts.ParseSource(s)
			if err != nil {
				bad(k, "%q is not one of 实测 地形图 调绘 其它", s)
				continue
			}
			p.Source = src
		case "retired":
			var b bool
			if err := json.Unmarshal(v, &b); err != nil && !isNull(v) {
				bad(k, "want true or false, got %s", clip(v))
				continue
			}
			if b {
				bad(k, "retire a component with DELETE /parts/{code} or an op \"retire\" record")
			}
		case "surveyed":
			var s string
			str(&s)
			if s == "" {
				p.Surveyed = time.Time{}
				continue
			}
			t, err := parseDate(s)
			if err != nil {
				bad(k, "%q is not a date (2006-01-02) or an RFC 3339 time", s)
				continue
			}
			p.Surveyed = t
		case "changed":
			// read-only: the server stamps the change date
		case "version":
			n, err := parseVersionJSON(v)
			if err != nil {
				bad(k, "%v", err)
				continue
			}
			version = n
		default:
			bad(k, "unknown property (known: %s)", strings.Join(partPropertyNames, ", "))
		}
	}
	if len(errs) > 0 {
		return 0, &InputError{Errors: errs}
	}
	return version, nil
}

// applyGridProps sets the properties of a grid Feature on g, like
// applyPartProps. district, street and community are derived from the code:
// they may be sent back but must agree with it.
func applyGridProps(g *grid.Grid, props map[string]json.RawMessage) (uint64, error) {
	var errs []FieldReason
	bad := func(field, format string, args ...any) {
		errs = append(errs, FieldReason{Field: "properties." + field, Reason: fmt.Sprintf(format, args...)})
	}
	var version uint64
	derived := map[string]string{}
	for _, k := range sortedKeys(props) {
		v := props[k]
		str := func(dst *string) {
			if isNull(v) {
				*dst = ""
				return
			}
			if err := json.Unmarshal(v, dst); err != nil {
				bad(k, "want a string, got %s", clip(v))
			}
		}
		switch k {
		case "code":
			s, err := stringOrNumber(v)
			if err != nil {
				bad(k, "%v", err)
				continue
			}
			c, err := grid.ParseCode(s)
			if err != nil {
				bad(k, "%v", err)
				continue
			}
			if g.Code != "" && c != g.Code {
				bad(k, "%s differs from the code %s of the request; a code cannot change", c, g.Code)
				continue
			}
			g.Code = c
		case "name":
			str(&g.Name)
		case "dept":
			str(&g.Dept)
		case "district", "street", "community":
			var s string
			str(&s)
			derived[k] = s
		case "version":
			n, err := parseVersionJSON(v)
			if err != nil {
				bad(k, "%v", err)
				continue
			}
			version = n
		default:
			bad(k, "unknown property (known: %s)", strings.Join(gridPropertyNames, ", "))
		}
	}
	for _, k := range sortedKeys(derived) {
		want := map[string]string{"district": g.Code.District(), "street": g.Code.Street(), "community": g.Code.Community()}[k]
		if s := derived[k]; s != "" && s != want {
			bad(k, "%q does not agree with the code %q (want %q); it is derived from the code", s, g.Code, want)
		}
	}
	if len(errs) > 0 {
		return 0, &InputError{Errors: errs}
	}
	return version, nil
}

func parseVersionJSON(v json.RawMessage) (uint64, error) {
	if isNull(v) {
		return 0, nil
	}
	n, err := strconv.ParseUint(string(bytes.TrimSpace(v)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("want a whole number, got %s", clip(v))
	}
	return n, nil
}

// parseDate reads a day (2006-01-02) or an RFC 3339 time, in UTC.
func parseDate(s string) (time.Time, error) {
	if t, err := time.Parse(dateLayout, s); err == nil {
		return t.UTC(), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, err
	}
	return t.UTC(), nil
}
