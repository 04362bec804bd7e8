package sensors

import (
	"fmt"
	"time"

	"citytwin/parts"
)

// Sensor is a monitoring device bound to a component. Version counts its
// persisted changes (optimistic concurrency); Updated is when it last changed.
type Sensor struct {
	ID      ID         `json:"id"`
	Kind    Kind       `json:"kind"`
	Unit    string     `json:"unit,omitempty"`
	Code    parts.Code `json:"code"`
	Rules   []Rule     `json:"rules,omitempty"`
	Version uint64     `json:"version,omitempty"`
	Updated time.Time  `json:"updated,omitzero"`
}

// MaxUnitLen is the longest unit.
const MaxUnitLen = 16

// Validate checks the sensor and fills in its defaults: an empty Unit becomes
// the kind's unit and a sensor without rules gets the kind's default rules. A
// unit other than the kind's is allowed (the device's own, e.g. "kPa"); the
// thresholds are then in that unit. The error is a *FieldError naming the
// field ("id", "kind", "code", "rules[1].above", ...).
func (s *Sensor) Validate() error {
	if _, err := ParseID(string(s.ID)); err != nil {
		return err
	}
	d := lookupDef(s.Kind)
	switch {
	case s.Kind == "":
		return &FieldError{Field: "kind", Reason: "missing"}
	case d == nil:
		return &FieldError{Field: "kind", Reason: fmt.Sprintf("unknown kind %q", s.Kind)}
	case len(s.Unit) > MaxUnitLen:
		return &FieldError{Field: "unit", Reason: fmt.Sprintf("%d bytes, at most %d", len(s.Unit), MaxUnitLen)}
	case s.Code == 0:
		return &FieldError{Field: "code", Reason: "missing: the component the sensor is bound to"}
	}
	if _, err := parts.ParseCode(s.Code.String()); err != nil {
		return &FieldError{Field: "code", Reason: err.Error()}
	}
	if len(s.Rules) > MaxRules {
		return &FieldError{Field: "rules", Reason: fmt.Sprintf("%d rules, at most %d", len(s.Rules), MaxRules)}
	}
	for i := range s.Rules {
		if err := s.Rules[i].validate(fmt.Sprintf("rules[%d]", i)); err != nil {
			return err
		}
	}
	s.defaults(d)
	return nil
}

// defaults fills an empty unit and empty rules from the kind (d may be nil).
func (s *Sensor) defaults(d *kindDef) {
	if d == nil {
		return
	}
	if s.Unit == "" {
		s.Unit = d.unit
	}
	if len(s.Rules) == 0 {
		s.Rules = d.info().Rules
	}
}

// Reading is one value of a sensor at a time.
type Reading struct {
	Sensor ID        `json:"sensor"`
	Value  float64   `json:"value"`
	Time   time.Time `json:"time"`
}
