package incidents

import (
	"fmt"
	"slices"
	"time"

	"citytwin/parts"

	"github.com/paulmach/orb"
)

// Report is the intake input: a problem found on the street, by a sensor,
// a hotline call or a citizen. It names a component Code, or a Location,
// or both.
type Report struct {
	Type        Type       `json:"type,omitempty"`  // component or event; component when Code is set
	Class       string     `json:"class,omitempty"` // 4-digit class; the code's class when Code is set
	Code        parts.Code `json:"code,omitempty"`
	Location    *orb.Point `json:"location,omitempty"` // WGS84 lon/lat
	Description string     `json:"description,omitempty"`
	Media       []string   `json:"media,omitempty"`
	Source      Source     `json:"source"`
	Reporter    Reporter   `json:"reporter"`
	Problem     string     `json:"problem,omitempty"` // sensor alarm key "<code>/<kind>", for de-duplication
	Alarm       string     `json:"alarm,omitempty"`   // the alarm id of a sensor report
}

// Validate checks the report and completes it: a report with a Code and
// no Type is a component report, and its Class defaults to the code's
// class. Errors are *FieldError. Whether the class is in a catalogue, the
// code in the registry and the point in the city is the Router's to say.
func (r *Report) Validate() error {
	if _, err := ParseSource(string(r.Source)); err != nil {
		return err
	}
	if r.Code != 0 {
		if _, err := parts.ParseCode(r.Code.String()); err != nil {
			return &FieldError{Field: "code", Reason: err.Error()}
		}
		if r.Type == "" {
			r.Type = TypeComponent
		}
		if r.Type != TypeComponent {
			return &FieldError{Field: "code", Reason: "an event report carries no component code"}
		}
		cl := r.Code.Class().String()
		if r.Class == "" {
			r.Class = cl
		}
		if r.Class != cl {
			return &FieldError{Field: "class", Reason: fmt.Sprintf("class %s does not match the class %s of code %s", r.Class, cl, r.Code)}
		}
	} else if r.Location == nil {
		return &FieldError{Field: "location", Reason: "a component code or a location is required"}
	}
	if r.Type == "" {
		return &FieldError{Field: "type", Reason: "component or event is required for a report without a code"}
	}
	if _, err := ParseType(string(r.Type)); err != nil {
		return err
	}
	if r.Class == "" {
		return &FieldError{Field: "class", Reason: "a class is required"}
	}
	if err := validateClass("class", r.Class); err != nil {
		return err
	}
	if r.Location != nil {
		if err := validatePoint("location", *r.Location); err != nil {
			return err
		}
	}
	if err := validateText("description", r.Description, MaxDescription); err != nil {
		return err
	}
	if err := validateMedia("media", r.Media); err != nil {
		return err
	}
	if r.Reporter.Source != "" {
		if _, err := ParseSource(string(r.Reporter.Source)); err != nil {
			return &FieldError{Field: "reporter.source", Reason: err.(*FieldError).Reason}
		}
	}
	if err := validateText("reporter.name", r.Reporter.Name, 200); err != nil {
		return err
	}
	return validateText("reporter.contact", r.Reporter.Contact, 200)
}

// NewCase returns the case a validated report opens: state reported,
// version 0 (the store's first write makes it 1), one history entry by
// actor. The Router then fills Dept, Route, Grid (and Code and Location
// where it finds them); the caller sets Due from the calendar.
func NewCase(r Report, id ID, actor Actor, now time.Time) Case {
	rep := r.Reporter
	if rep.Source == "" {
		rep.Source = r.Source
	}
	if rep.Time.IsZero() {
		rep.Time = now
	}
	c := Case{
		ID:          id,
		Source:      r.Source,
		Type:        r.Type,
		Class:       r.Class,
		Code:        r.Code,
		Description: r.Description,
		Media:       slices.Clone(r.Media),
		Reporters:   []Reporter{rep},
		State:       StateReported,
		Problem:     r.Problem,
		Reported:    now,
	}
	if r.Location != nil {
		c.Location = *r.Location
	}
	if r.Alarm != "" {
		c.Alarms = []string{r.Alarm}
	}
	c.History = []Entry{{Time: now, Actor: actor, Action: ActionCreate, To: StateReported, Media: slices.Clone(r.Media)}}
	return c
}

// Merge adds a duplicate report to an open case: its reporter, media and
// alarm are kept and the history records it. It returns the new case with
// Version bumped.
func Merge(c Case, r Report, actor Actor, now time.Time) Case {
	rep := r.Reporter
	if rep.Source == "" {
		rep.Source = r.Source
	}
	if rep.Time.IsZero() {
		rep.Time = now
	}
	c.Reporters = append(slices.Clip(c.Reporters), rep)
	for _, m := range r.Media {
		if len(c.Media) < MaxMedia && !slices.Contains(c.Media, m) {
			c.Media = append(slices.Clip(c.Media), m)
		}
	}
	if r.Alarm != "" && !slices.Contains(c.Alarms, r.Alarm) {
		c.Alarms = append(slices.Clip(c.Alarms), r.Alarm)
	}
	c.Version++
	c.History = append(slices.Clip(c.History), Entry{Time: now, Actor: actor, Action: ActionMerge, From: c.State, To: c.State,
		Note: r.Description, Dept: c.Dept, Media: slices.Clone(r.Media)})
	return c
}
