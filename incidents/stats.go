package incidents

import (
	"fmt"
	"iter"
	"math"
	"sort"
	"time"
)

// Groupings of Evaluate.
const (
	ByDept   = "dept"
	ByStreet = "street" // the 9-digit street prefix of the grid code
	ByGrid   = "grid"
	ByClass  = "class" // the class key, "event:0505"
	ByNone   = ""      // the total only
)

// Row is one line of an evaluation (综合评价). Rates are percentages
// rounded to 2 decimals: 结案率 ClosureRate = Closed / Due, 按期结案率
// OnTimeRate = OnTime / Due; 0 when nothing is due.
type Row struct {
	Key         string  `json:"key"`
	Due         int     `json:"due"`
	Closed      int     `json:"closed"`
	OnTime      int     `json:"onTime"`
	ClosureRate float64 `json:"closureRate"`
	OnTimeRate  float64 `json:"onTimeRate"`
}

func (r *Row) add(due, closed, onTime bool) {
	if !due {
		return
	}
	r.Due++
	if closed {
		r.Closed++
		if onTime {
			r.OnTime++
		}
	}
}

func (r *Row) rates() {
	r.ClosureRate, r.OnTimeRate = percent(r.Closed, r.Due), percent(r.OnTime, r.Due)
}

func percent(n, d int) float64 {
	if d == 0 {
		return 0
	}
	return math.Round(float64(n)*10000/float64(d)) / 100
}

// Evaluate computes the evaluation rates of the cases due in [from, to),
// grouped by "dept", "street", "grid", "class" or "" (the total only),
// as seen at now. A case is due when its Due lies in [from, to) and it was
// registered (a case still reported, or rejected, is not due); it is
// closed when its state is closed and Closed is set and not after now; on
// time when closed and Closed is not after Due. Rows come sorted by key;
// the total is returned apart (Key "total"). cases may be slices.Values(s)
// or Book.All.
func Evaluate(cases iter.Seq[Case], from, to time.Time, by string, now time.Time) ([]Row, Row, error) {
	key := func(c *Case) string { return "" }
	switch by {
	case ByDept:
		key = func(c *Case) string { return c.Dept }
	case ByStreet:
		key = func(c *Case) string {
			if len(c.Grid) < 9 {
				return c.Grid
			}
			return c.Grid[:9]
		}
	case ByGrid:
		key = func(c *Case) string { return c.Grid }
	case ByClass:
		key = func(c *Case) string { return c.Key() }
	case ByNone:
	default:
		return nil, Row{}, &FieldError{Field: "by", Reason: fmt.Sprintf("%q is not dept, street, grid or class", by)}
	}
	if from.IsZero() || to.IsZero() || !to.After(from) {
		return nil, Row{}, &FieldError{Field: "to", Reason: "the period [from, to) needs from before to"}
	}
	total := Row{Key: "total"}
	rows := make(map[string]*Row)
	for c := range cases {
		due := !c.Due.IsZero() && !c.Due.Before(from) && c.Due.Before(to) &&
			c.State != StateReported && c.State != StateRejected && c.State != ""
		if !due {
			continue
		}
		closed := c.State == StateClosed && !c.Closed.IsZero() && !c.Closed.After(now)
		onTime := closed && !c.Closed.After(c.Due)
		total.add(due, closed, onTime)
		if by == ByNone {
			continue
		}
		k := key(&c)
		r := rows[k]
		if r == nil {
			r = &Row{Key: k}
			rows[k] = r
		}
		r.add(due, closed, onTime)
	}
	total.rates()
	out := make([]Row, 0, len(rows))
	for _, r := range rows {
		r.rates()
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, total, nil
}
