package incidents

import (
	"fmt"
	"math"
	"time"

	"citytwin/parts"

	"github.com/paulmach/orb"
)

// Source is where a case came from.
type Source string

// Sources of cases.
const (
	SourceInspector Source = "inspector" // an inspector's handheld app (城管通)
	SourceHotline   Source = "hotline"   // the 12345 / 12319 hotline
	SourceApp       Source = "app"       // a citizen's app
	SourceSensor    Source = "sensor"    // a sensor alarm
	SourceOpen311   Source = "open311"   // an Open311 GeoReport client
	SourceVideo     Source = "video"     // video analytics
)

// Sources returns every source in a fixed order.
func Sources() []Source {
	return []Source{SourceInspector, SourceHotline, SourceApp, SourceSensor, SourceOpen311, SourceVideo}
}

// ParseSource validates s as a Source.
func ParseSource(s string) (Source, error) {
	for _, v := range Sources() {
		if string(v) == s {
			return v, nil
		}
	}
	return "", &FieldError{Field: "source", Reason: fmt.Sprintf("%q is not one of inspector hotline app sensor open311 video", s)}
}

// Type tells whether a case is about a component or an event.
type Type string

// Case types.
const (
	TypeComponent Type = "component" // Class is a component class (部件)
	TypeEvent     Type = "event"     // Class is an event class (事件)
)

// ParseType validates s as a Type.
func ParseType(s string) (Type, error) {
	switch Type(s) {
	case TypeComponent, TypeEvent:
		return Type(s), nil
	}
	return "", &FieldError{Field: "type", Reason: fmt.Sprintf("%q is not component or event", s)}
}

// ClassKey is the key of a class in tables that hold both kinds of class
// (responsibility rows, deadline limits): "component:0118", "event:0505".
func ClassKey(t Type, class string) string { return string(t) + ":" + class }

// State is the state of a case in the seven-step loop.
type State string

// States of a case.
const (
	StateReported   State = "reported"    // 信息收集: collected, not yet a case
	StateRegistered State = "registered"  // 立案
	StateRejected   State = "rejected"    // 作废: invalid or duplicate (terminal)
	StateDispatched State = "dispatched"  // 派遣
	StateInProgress State = "in_progress" // 处理中
	StateHandled    State = "handled"     // 处理反馈: reported back with evidence
	StateVerified   State = "verified"    // 核查通过
	StateClosed     State = "closed"      // 结案 (terminal)
	StateReturned   State = "returned"    // 退回: back to the dispatcher (wrong department)
	StateSentBack   State = "sent_back"   // 核查不通过: back to the department
	StateSuspended  State = "suspended"   // 挂账
)

// States returns every state in the order of the loop.
func States() []State {
	return []State{StateReported, StateRegistered, StateRejected, StateDispatched, StateInProgress,
		StateHandled, StateVerified, StateClosed, StateReturned, StateSentBack, StateSuspended}
}

// ParseState validates s as a State.
func ParseState(s string) (State, error) {
	for _, v := range States() {
		if string(v) == s {
			return v, nil
		}
	}
	return "", &FieldError{Field: "state", Reason: fmt.Sprintf("%q is not a case state", s)}
}

// Open reports whether the state is not terminal (closed or rejected).
func (s State) Open() bool { return s != StateClosed && s != StateRejected && s != "" }

// Action is a step of the state machine (see Transition).
type Action string

// Actions on a case.
const (
	ActionRegister  Action = "register"  // reported -> registered (立案)
	ActionReject    Action = "reject"    // reported -> rejected
	ActionDispatch  Action = "dispatch"  // registered|returned -> dispatched
	ActionAccept    Action = "accept"    // dispatched|sent_back -> in_progress
	ActionReport    Action = "report"    // in_progress -> handled (report back)
	ActionVerify    Action = "verify"    // handled -> verified
	ActionClose     Action = "close"     // verified -> closed
	ActionReturn    Action = "return"    // dispatched|in_progress -> returned
	ActionSendBack  Action = "send_back" // handled -> sent_back
	ActionSuspend   Action = "suspend"   // registered|dispatched|in_progress|sent_back -> suspended
	ActionResume    Action = "resume"    // suspended -> the state before
	ActionSupervise Action = "supervise" // any open state -> same state, supervised (督办)
	ActionCreate    Action = "create"    // the first history entry (NewCase); not a transition
	ActionMerge     Action = "merge"     // a duplicate report merged in (reporter added); not a transition
	ActionReroute   Action = "reroute"   // the router's choice changed outside a dispatch; not a transition
)

// Actions returns every action that Transition takes.
func Actions() []Action {
	return []Action{ActionRegister, ActionReject, ActionDispatch, ActionAccept, ActionReport, ActionVerify,
		ActionClose, ActionReturn, ActionSendBack, ActionSuspend, ActionResume, ActionSupervise}
}

// ParseAction validates s as an action that Transition takes.
func ParseAction(s string) (Action, error) {
	for _, v := range Actions() {
		if string(v) == s {
			return v, nil
		}
	}
	return "", &FieldError{Field: "action", Reason: fmt.Sprintf("%q is not one of register reject dispatch accept report verify close return send_back suspend resume supervise", s)}
}

// Role is what an actor may do.
type Role string

// Roles.
const (
	RoleInspector  Role = "inspector"  // 监督员: collects and verifies on site
	RoleOperator   Role = "operator"   // 受理员 / 派遣员: registers, dispatches, closes
	RoleDepartment Role = "department" // a responsible department: accepts, handles, reports back
	RoleAdmin      Role = "admin"      // may do every transition
	RolePublic     Role = "public"     // citizens and hotline systems: may only report
)

// Roles returns every role.
func Roles() []Role {
	return []Role{RoleInspector, RoleOperator, RoleDepartment, RoleAdmin, RolePublic}
}

// ParseRole validates s as a Role.
func ParseRole(s string) (Role, error) {
	for _, v := range Roles() {
		if string(v) == s {
			return v, nil
		}
	}
	return "", &FieldError{Field: "role", Reason: fmt.Sprintf("%q is not one of inspector operator department admin public", s)}
}

// Actor is who acts: a name for the history, a role, and for the
// department role the department code it acts for.
type Actor struct {
	Name string `json:"name"`
	Role Role   `json:"role"`
	Dept string `json:"dept,omitempty"`
}

// Reporter is one person or system that reported a case; merged
// duplicates add reporters.
type Reporter struct {
	Name    string    `json:"name,omitempty"`
	Contact string    `json:"contact,omitempty"`
	Source  Source    `json:"source"`
	Time    time.Time `json:"time"`
}

// Routing rules, in the order the Router tries them.
const (
	RuleComponentOwner      = "component-owner"      // the code's component: its owner (DeptCode2)
	RuleComponentMaintainer = "component-maintainer" // the code's component: its maintainer, for MaintainerClasses
	RuleNearestComponent    = "nearest-component"    // the nearest live component of the class within MaxDistance
	RuleClassTable          = "class-table"          // the district's class responsibility table
	RuleStreetOffice        = "street-office"        // the street office of the grid (属地兜底)
	RuleManual              = "manual"               // an operator dispatched to another department
)

// Evidence is why a rule chose its department.
type Evidence struct {
	Code     parts.Code `json:"code,omitempty"`
	Distance *float64   `json:"distance,omitempty"` // metres to the component (nearest-component)
	Table    string     `json:"table,omitempty"`    // the table row "district/class key", e.g. "320508/event:0505"
	Grid     string     `json:"grid,omitempty"`
	Street   string     `json:"street,omitempty"`
	Reason   string     `json:"reason,omitempty"`
}

// Route is the rule that chose a case's department and its evidence.
type Route struct {
	Rule     string   `json:"rule"`
	Evidence Evidence `json:"evidence"`
}

// Entry is one step of a case's history: who did what, when and why.
type Entry struct {
	Time   time.Time `json:"time"`
	Actor  Actor     `json:"actor"`
	Action Action    `json:"action"`
	From   State     `json:"from,omitempty"`
	To     State     `json:"to"`
	Note   string    `json:"note,omitempty"`
	Dept   string    `json:"dept,omitempty"`  // the case's department after the step
	Media  []string  `json:"media,omitempty"` // evidence attached with the step
}

// Case is one case (案卷).
type Case struct {
	ID          ID         `json:"id"`
	Version     uint64     `json:"version"`
	Source      Source     `json:"source"`
	Type        Type       `json:"type"`
	Class       string     `json:"class"` // 4 digits: a component or an event minor class
	Location    orb.Point  `json:"location"`
	Code        parts.Code `json:"code,omitempty"` // the component, when known
	Grid        string     `json:"grid,omitempty"` // the unit grid holding Location
	Description string     `json:"description,omitempty"`
	Media       []string   `json:"media,omitempty"`
	Reporters   []Reporter `json:"reporters,omitempty"`
	Dept        string     `json:"dept"`
	Route       Route      `json:"route"`
	State       State      `json:"state"`
	Prior       State      `json:"prior,omitempty"` // the state before suspend
	Supervised  bool       `json:"supervised,omitempty"`
	Problem     string     `json:"problem,omitempty"` // sensor alarm key "<code>/<sensor kind>"
	Alarms      []string   `json:"alarms,omitempty"`
	Reported    time.Time  `json:"reported"`
	Due         time.Time  `json:"due,omitzero"`
	Closed      time.Time  `json:"closed,omitzero"`
	History     []Entry    `json:"history,omitempty"`
}

// Limits of a case's text fields.
const (
	MaxDescription = 4000 // characters (runes)
	MaxMedia       = 50   // links per case
	MaxLink        = 2048 // bytes per media link
	MaxNote        = 2000 // characters (runes) per history note
)

// Overdue reports whether the case is open, not suspended, has a deadline
// and now is past it.
func (c *Case) Overdue(now time.Time) bool {
	return c.State.Open() && c.State != StateSuspended && !c.Due.IsZero() && now.After(c.Due)
}

// Key returns the case's class key (ClassKey of Type and Class).
func (c *Case) Key() string { return ClassKey(c.Type, c.Class) }

// Validate checks a case before it is persisted. It does not look the class
// up in a catalogue (the Router does): it checks forms and consistency.
// Errors are *FieldError.
func (c *Case) Validate() error {
	if _, err := ParseID(string(c.ID)); err != nil {
		return err
	}
	if _, err := ParseSource(string(c.Source)); err != nil {
		return err
	}
	if _, err := ParseType(string(c.Type)); err != nil {
		return err
	}
	if err := validateClass("class", c.Class); err != nil {
		return err
	}
	if err := validatePoint("location", c.Location); err != nil {
		return err
	}
	if c.Code != 0 {
		if _, err := parts.ParseCode(c.Code.String()); err != nil {
			return &FieldError{Field: "code", Reason: err.Error()}
		}
		if c.Type != TypeComponent {
			return &FieldError{Field: "code", Reason: "an event case carries no component code"}
		}
		if c.Code.Class().String() != c.Class {
			return &FieldError{Field: "class", Reason: fmt.Sprintf("class %s does not match the class %s of code %s", c.Class, c.Code.Class(), c.Code)}
		}
	}
	if c.Grid != "" && !allDigits(c.Grid, 14, 15) {
		return &FieldError{Field: "grid", Reason: fmt.Sprintf("%q is not a 14 or 15 digit grid code", c.Grid)}
	}
	if err := validateText("description", c.Description, MaxDescription); err != nil {
		return err
	}
	if err := validateMedia("media", c.Media); err != nil {
		return err
	}
	if _, err := ParseState(string(c.State)); err != nil {
		return err
	}
	if c.State == StateSuspended {
		if c.Prior == "" || c.Prior == StateSuspended || !c.Prior.Open() {
			return &FieldError{Field: "prior", Reason: fmt.Sprintf("a suspended case needs the open state it left, not %q", c.Prior)}
		}
	} else if c.Prior != "" {
		return &FieldError{Field: "prior", Reason: "only a suspended case has a prior state"}
	}
	if c.Dept != "" {
		if err := validateDeptCode("dept", c.Dept); err != nil {
			return err
		}
	} else if c.State != StateReported && c.State != StateRejected {
		return &FieldError{Field: "dept", Reason: "a registered case needs a responsible department"}
	}
	if c.Reported.IsZero() {
		return &FieldError{Field: "reported", Reason: "the reporting time is required"}
	}
	if c.State == StateClosed && c.Closed.IsZero() {
		return &FieldError{Field: "closed", Reason: "a closed case needs its closing time"}
	}
	if c.State != StateClosed && !c.Closed.IsZero() {
		return &FieldError{Field: "closed", Reason: fmt.Sprintf("a %s case has no closing time", c.State)}
	}
	return nil
}

func validateClass(field, class string) error {
	if !allDigits(class, 4, 4) || class[2:] == "00" || class[:2] == "00" {
		return &FieldError{Field: field, Reason: fmt.Sprintf("%q is not a 4-digit minor class", class)}
	}
	return nil
}

func validatePoint(field string, p orb.Point) error {
	lon, lat := p[0], p[1]
	if math.IsNaN(lon) || math.IsNaN(lat) || lon < -180 || lon > 180 || lat < -90 || lat > 90 {
		return &FieldError{Field: field, Reason: fmt.Sprintf("(%v, %v) is not a WGS84 lon/lat", lon, lat)}
	}
	return nil
}

func validateText(field, s string, max int) error {
	n := 0
	for range s {
		if n++; n > max {
			return &FieldError{Field: field, Reason: fmt.Sprintf("longer than %d characters", max)}
		}
	}
	return nil
}

func validateMedia(field string, media []string) error {
	if len(media) > MaxMedia {
		return &FieldError{Field: field, Reason: fmt.Sprintf("%d links, at most %d", len(media), MaxMedia)}
	}
	for i, m := range media {
		if m == "" || len(m) > MaxLink {
			return &FieldError{Field: fmt.Sprintf("%s[%d]", field, i), Reason: fmt.Sprintf("a link of 1..%d bytes is required", MaxLink)}
		}
	}
	return nil
}

func allDigits(s string, minLen, maxLen int) bool {
	if len(s) < minLen || len(s) > maxLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
