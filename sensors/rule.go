package sensors

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// RuleKind is how a rule turns readings into an alarm.
type RuleKind string

// The rule kinds.
const (
	// Threshold raises when the value is above Above (or below Below) and
	// clears when it falls back below ClearBelow (above ClearAbove): the gap
	// between the two is the hysteresis that stops a value hovering at the
	// limit from raising and clearing on every reading.
	Threshold RuleKind = "threshold"
	// Rate raises when the value changed by Delta or more within Window, and
	// clears when a later change within Window is smaller.
	Rate RuleKind = "rate"
	// Silence raises when no reading arrived for After (the device is
	// offline); a reading clears it.
	Silence RuleKind = "silence"
)

// MaxRules is the most rules a sensor may have.
const MaxRules = 8

// MaxWindow is the longest rate window and silence period.
const MaxWindow = 7 * 24 * time.Hour

// Duration is a time.Duration that reads and writes JSON as a Go duration
// string ("10m", "90s", "1h30m"); a JSON number is taken as seconds.
type Duration time.Duration

// String formats d without trailing zero units: "10m", "1h", "1m30s".
func (d Duration) String() string {
	s := time.Duration(d).String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler with time.ParseDuration.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("sensors: duration %q: want a duration such as \"10m\" or \"90s\"", b)
	}
	*d = Duration(v)
	return nil
}

// UnmarshalJSON accepts a duration string or a number of seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		return d.UnmarshalText([]byte(s))
	}
	if string(b) == "null" {
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsNaN(f) || math.Abs(f) > float64(math.MaxInt64/int64(time.Second)) {
		return fmt.Errorf("sensors: duration %s: want a duration such as \"10m\" or seconds", b)
	}
	*d = Duration(f * float64(time.Second))
	return nil
}

// Rule is one rule of a sensor. Which fields apply depends on Kind:
// threshold uses Above/ClearBelow and Below/ClearAbove (either pair or both,
// a band), rate uses Delta and Window, silence uses After.
type Rule struct {
	Kind       RuleKind `json:"kind"`
	Above      *float64 `json:"above,omitempty"`      // threshold: raise when value > Above ...
	ClearBelow *float64 `json:"clearBelow,omitempty"` // ... clear when value < ClearBelow (hysteresis; default Above)
	Below      *float64 `json:"below,omitempty"`      // threshold: raise when value < Below ...
	ClearAbove *float64 `json:"clearAbove,omitempty"` // ... clear when value > ClearAbove (default Below)
	Delta      float64  `json:"delta,omitempty"`      // rate: |value - value Window ago| >= Delta raises; below clears
	Window     Duration `json:"window,omitempty"`
	After      Duration `json:"after,omitempty"` // silence: no reading for After raises; a reading clears
}

// validate checks r; p is the field path prefix ("rules[1]").
func (r *Rule) validate(p string) error {
	bad := func(field, reason string, args ...any) error {
		return &FieldError{Field: p + "." + field, Reason: fmt.Sprintf(reason, args...)}
	}
	for _, f := range []struct {
		name string
		v    *float64
	}{{"above", r.Above}, {"clearBelow", r.ClearBelow}, {"below", r.Below}, {"clearAbove", r.ClearAbove}} {
		if f.v != nil && (math.IsNaN(*f.v) || math.IsInf(*f.v, 0)) {
			return bad(f.name, "not a finite number")
		}
	}
	if math.IsNaN(r.Delta) || math.IsInf(r.Delta, 0) {
		return bad("delta", "not a finite number")
	}
	if r.Window < 0 {
		return bad("window", "negative duration %v", time.Duration(r.Window))
	}
	if r.After < 0 {
		return bad("after", "negative duration %v", time.Duration(r.After))
	}
	thr := r.Above != nil || r.ClearBelow != nil || r.Below != nil || r.ClearAbove != nil
	switch r.Kind {
	case Threshold:
		switch {
		case r.Above == nil && r.Below == nil:
			return bad("above", "a threshold needs above or below")
		case r.ClearBelow != nil && r.Above == nil:
			return bad("clearBelow", "clearBelow without above")
		case r.ClearAbove != nil && r.Below == nil:
			return bad("clearAbove", "clearAbove without below")
		case r.Above != nil && r.ClearBelow != nil && *r.ClearBelow > *r.Above:
			return bad("clearBelow", "hysteresis the wrong way round: clearBelow %v is above above %v", *r.ClearBelow, *r.Above)
		case r.Below != nil && r.ClearAbove != nil && *r.ClearAbove < *r.Below:
			return bad("clearAbove", "hysteresis the wrong way round: clearAbove %v is below below %v", *r.ClearAbove, *r.Below)
		case r.Delta != 0:
			return bad("delta", "not used by a threshold rule")
		case r.Window != 0:
			return bad("window", "not used by a threshold rule")
		case r.After != 0:
			return bad("after", "not used by a threshold rule")
		}
		if r.Above != nil && r.Below != nil {
			c := r.compile()
			if *r.Below >= *r.Above {
				return bad("below", "band empty: below %v is not under above %v", *r.Below, *r.Above)
			}
			if c.clearAbove >= c.clearBelow {
				return bad("clearAbove", "band never clears: clearAbove %v is not under clearBelow %v", c.clearAbove, c.clearBelow)
			}
		}
	case Rate:
		switch {
		case thr:
			return bad("above", "thresholds are not used by a rate rule")
		case r.Delta <= 0:
			return bad("delta", "a rate rule needs a delta above 0")
		case r.Window == 0:
			return bad("window", "a rate rule needs a window")
		case time.Duration(r.Window) < time.Second:
			return bad("window", "%v is under the 1s resolution of the window", time.Duration(r.Window))
		case time.Duration(r.Window) > MaxWindow:
			return bad("window", "%v is longer than %v", time.Duration(r.Window), MaxWindow)
		case r.After != 0:
			return bad("after", "not used by a rate rule")
		}
	case Silence:
		switch {
		case thr:
			return bad("above", "thresholds are not used by a silence rule")
		case r.After == 0:
			return bad("after", "a silence rule needs after")
		case time.Duration(r.After) > MaxWindow:
			return bad("after", "%v is longer than %v", time.Duration(r.After), MaxWindow)
		case r.Delta != 0:
			return bad("delta", "not used by a silence rule")
		case r.Window != 0:
			return bad("window", "not used by a silence rule")
		}
	case "":
		return bad("kind", "missing: want threshold, rate or silence")
	default:
		return bad("kind", "unknown rule kind %q: want threshold, rate or silence", r.Kind)
	}
	return nil
}

// clone returns a deep copy of r.
func (r Rule) clone() Rule {
	cp := func(p *float64) *float64 {
		if p == nil {
			return nil
		}
		return ptr(*p)
	}
	r.Above, r.ClearBelow, r.Below, r.ClearAbove = cp(r.Above), cp(r.ClearBelow), cp(r.Below), cp(r.ClearAbove)
	return r
}

func cloneRules(rs []Rule) []Rule {
	if rs == nil {
		return nil
	}
	out := make([]Rule, len(rs))
	for i, r := range rs {
		out[i] = r.clone()
	}
	return out
}

// appendKey appends a canonical encoding of r, for interning rule sets.
func (r *Rule) appendKey(b []byte) []byte {
	f := func(b []byte, p *float64) []byte {
		if p == nil {
			return append(b, '-', ',')
		}
		return append(strconv.AppendFloat(b, *p, 'g', -1, 64), ',')
	}
	b = append(append(b, r.Kind...), ',')
	b = f(f(f(f(b, r.Above), r.ClearBelow), r.Below), r.ClearAbove)
	b = append(strconv.AppendFloat(b, r.Delta, 'g', -1, 64), ',')
	b = append(strconv.AppendInt(b, int64(r.Window), 10), ',')
	b = append(strconv.AppendInt(b, int64(r.After), 10), ';')
	return b
}

// rule kinds of a compiled rule.
const (
	kThreshold uint8 = iota
	kRate
	kSilence
	kNone // unknown kind: never fires
)

// crule is a rule compiled for evaluation.
type crule struct {
	kind              uint8
	up, down          bool
	above, clearBelow float64
	below, clearAbove float64
	delta             float64
	window            int32 // seconds
	after             int64 // nanoseconds
}

func (r *Rule) compile() crule {
	c := crule{kind: kNone, delta: r.Delta}
	switch r.Kind {
	case Threshold:
		c.kind = kThreshold
	case Rate:
		c.kind = kRate
	case Silence:
		c.kind = kSilence
	}
	if r.Above != nil {
		c.up, c.above, c.clearBelow = true, *r.Above, *r.Above
		if r.ClearBelow != nil {
			c.clearBelow = *r.ClearBelow
		}
	} else {
		c.clearBelow = math.Inf(1)
	}
	if r.Below != nil {
		c.down, c.below, c.clearAbove = true, *r.Below, *r.Below
		if r.ClearAbove != nil {
			c.clearAbove = *r.ClearAbove
		}
	} else {
		c.clearAbove = math.Inf(-1)
	}
	w := time.Duration(r.Window)
	if w > MaxWindow {
		w = MaxWindow
	}
	c.window = int32(w / time.Second)
	c.after = int64(r.After)
	if c.kind == kRate && (c.window <= 0 || !(c.delta > 0)) {
		c.kind = kNone
	}
	if c.kind == kSilence && c.after <= 0 {
		c.kind = kNone
	}
	return c
}
