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
	if len(f.Classes) > 0 {
		cs := slices.Clone(f.Classes)
		slices.Sort(cs)
		cs = slices.Compact(cs)
		b = append(b, "c="...)
		for i, c := range cs {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendUint(b, uint64(c), 10)
		}
		b = append(b, ';')
	}
	if len(f.Majors) > 0 {
		ms := slices.Clone(f.Majors)
		slices.Sort(ms)
		ms = slices.Compact(ms)
		b = append(b, "m="...)
		for i, m := range ms {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendInt(b, int64(m), 10)
		}
		b = append(b, ';')
	}
	if len(f.States) > 0 {
		ss := slices.Clone(f.States)
		slices.Sort(ss)
		ss = slices.Compact(ss)
		b = append(b, "s="...)
		for i, s := range ss {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendUint(b, uint64(s), 10)
		}
		b = append(b, ';')
	}
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
