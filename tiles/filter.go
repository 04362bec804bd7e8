package tiles

import (
	"slices"
	"strconv"
	"time"

	"citytwin/parts"
)

// filterKey returns a canonical text of a filter: equal filters (whatever
// the order or repetition of their list items) give equal keys.
func filterKey(f parts.Filter) string {
	if len(f.Classes) == 0 && len(f.Majors) == 0 && len(f.States) == 0 && f.Owner == "" &&
		f.Dept == "" && f.GridPrefix == "" && f.ChangedSince.IsZero() {
		return ""
	}
	b := make([]byte, 0, 64)
	b = appendSet(b, "c=", f.Classes)
	b = appendSet(b, "m=", f.Majors)
	b = appendSet(b, "s=", f.States)
	str := func(name, v string) {
		if v != "" {
			b = append(b, name...)
			b = append(b, '=')
			b = strconv.AppendQuote(b, v)
			b = append(b, ';')
		}
	}
	str("o", f.Owner)
	str("d", f.Dept)
	str("g", f.GridPrefix)
	if !f.ChangedSince.IsZero() {
		b = append(b, "t="...)
		b = f.ChangedSince.UTC().AppendFormat(b, time.RFC3339Nano)
		b = append(b, ';')
	}
	return string(b)
}

// unaggregated returns the first filter field that the count pyramid does
// not answer, or "".
func unaggregated(f parts.Filter) string {
	switch {
	case f.Owner != "":
		return "owner"
	case f.Dept != "":
		return "dept"
	case f.GridPrefix != "":
		return "grid_prefix"
	case !f.ChangedSince.IsZero():
		return "changed_since"
	}
	return ""
}

// appendSet appends "name=v1,v2,...;" with the values sorted and without
// repeats, or nothing for an empty list.
func appendSet[T ~int | ~uint8 | ~uint16](b []byte, name string, vs []T) []byte {
	if len(vs) == 0 {
		return b
	}
	vs = slices.Compact(slices.Sorted(slices.Values(vs)))
	b = append(b, name...)
	for i, v := range vs {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(v), 10)
	}
	return append(b, ';')
}
