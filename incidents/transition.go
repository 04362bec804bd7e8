package incidents

import (
	"fmt"
	"slices"
	"time"
)

// rule is one action of the state machine: the states it leaves, the
// roles that may take it (admin always may), and whether only the case's
// own department may take it.
type rule struct {
	from    []State
	roles   []Role
	ownDept bool
}

var openStates = []State{StateReported, StateRegistered, StateDispatched, StateInProgress, StateHandled,
	StateVerified, StateReturned, StateSentBack, StateSuspended}

// machine is the state machine; to() gives the target state.
var machine = map[Action]rule{
	ActionRegister:  {from: []State{StateReported}, roles: []Role{RoleOperator}},
	ActionReject:    {from: []State{StateReported}, roles: []Role{RoleOperator}},
	ActionDispatch:  {from: []State{StateRegistered, StateReturned}, roles: []Role{RoleOperator}},
	ActionAccept:    {from: []State{StateDispatched, StateSentBack}, roles: []Role{RoleDepartment}, ownDept: true},
	ActionReturn:    {from: []State{StateDispatched, StateInProgress}, roles: []Role{RoleDepartment}, ownDept: true},
	ActionReport:    {from: []State{StateInProgress}, roles: []Role{RoleDepartment}, ownDept: true},
	ActionVerify:    {from: []State{StateHandled}, roles: []Role{RoleInspector, RoleOperator}},
	ActionSendBack:  {from: []State{StateHandled}, roles: []Role{RoleInspector, RoleOperator}},
	ActionClose:     {from: []State{StateVerified}, roles: []Role{RoleOperator}},
	ActionSuspend:   {from: []State{StateRegistered, StateDispatched, StateInProgress, StateSentBack}, roles: []Role{RoleOperator}},
	ActionResume:    {from: []State{StateSuspended}, roles: []Role{RoleOperator}},
	ActionSupervise: {from: openStates, roles: []Role{RoleOperator}},
}

// target returns the state an action leads to from s.
func target(a Action, c *Case) State {
	switch a {
	case ActionRegister:
		return StateRegistered
	case ActionReject:
		return StateRejected
	case ActionDispatch:
		return StateDispatched
	case ActionAccept:
		return StateInProgress
	case ActionReturn:
		return StateReturned
	case ActionReport:
		return StateHandled
	case ActionVerify:
		return StateVerified
	case ActionSendBack:
		return StateSentBack
	case ActionClose:
		return StateClosed
	case ActionSuspend:
		return StateSuspended
	case ActionResume:
		return c.Prior
	}
	return c.State // supervise
}

// Allowed reports whether the role may take action a at all (in some
// state); admin may take every action, public none.
func Allowed(a Action, r Role) bool {
	ru, ok := machine[a]
	return ok && (r == RoleAdmin || slices.Contains(ru.roles, r))
}

// Transition applies action a by actor to c and returns the new case; c
// itself is not modified (slices are copied on append). Every transition
// bumps Version and appends a history Entry.
//
// The loop: reported -register-> registered, reported -reject-> rejected,
// registered|returned -dispatch-> dispatched, dispatched|sent_back -accept->
// in_progress, dispatched|in_progress -return-> returned, in_progress
// -report-> handled, handled -verify-> verified, handled -send_back->
// sent_back, verified -close-> closed, registered|dispatched|in_progress|
// sent_back -suspend-> suspended, suspended -resume-> the state before,
// any open state -supervise-> the same state, supervised (督办).
//
// Roles: register, reject, dispatch, close, suspend, resume and supervise
// belong to operators; accept, return and report to the department of the
// case (actor.Dept == c.Dept); verify and send_back to inspectors and
// operators; an admin may take every action; the public none.
//
// dept is used by dispatch only: "" keeps the routed department; another
// department re-routes the case (rule "manual", the note or the return
// note as the reason, both in the history). return and send_back need a
// note; report needs a note or media as evidence.
//
// Checks in order: unknown action, role or state (*FieldError, ErrInvalid);
// the role (*TransitionError, ErrNotAllowed); the state (*TransitionError,
// ErrBadTransition); the department of a department actor (ErrNotAllowed);
// the inputs (*FieldError; ErrNoDepartment for a dispatch with none).
func Transition(c Case, a Action, actor Actor, note string, dept string, now time.Time) (Case, error) {
	return TransitionMedia(c, a, actor, note, dept, nil, now)
}

// TransitionMedia is Transition with media links attached to the step
// (evidence of a report back, photos of a verification); they are added
// to the case's Media and to the history entry.
func TransitionMedia(c Case, a Action, actor Actor, note, dept string, media []string, now time.Time) (Case, error) {
	ru, ok := machine[a]
	if !ok {
		_, err := ParseAction(string(a))
		return c, err
	}
	if _, err := ParseRole(string(actor.Role)); err != nil {
		return c, err
	}
	if _, err := ParseState(string(c.State)); err != nil {
		return c, err
	}
	refuse := func(err error, reason string) (Case, error) {
		return c, &TransitionError{Action: a, State: c.State, Role: actor.Role, Reason: reason, Err: err}
	}
	admin := actor.Role == RoleAdmin
	if !admin && !slices.Contains(ru.roles, actor.Role) {
		return refuse(ErrNotAllowed, fmt.Sprintf("%s is for %v", a, ru.roles))
	}
	if !slices.Contains(ru.from, c.State) {
		return refuse(ErrBadTransition, "")
	}
	if ru.ownDept && !admin && (actor.Dept == "" || actor.Dept != c.Dept) {
		return refuse(ErrNotAllowed, fmt.Sprintf("the case belongs to department %q, not %q", c.Dept, actor.Dept))
	}
	if err := validateText("note", note, MaxNote); err != nil {
		return c, err
	}
	if err := validateMedia("media", media); err != nil {
		return c, err
	}
	if len(c.Media)+len(media) > MaxMedia {
		return c, &FieldError{Field: "media", Reason: fmt.Sprintf("a case holds at most %d links", MaxMedia)}
	}
	if dept != "" && a != ActionDispatch {
		return c, &FieldError{Field: "dept", Reason: fmt.Sprintf("only dispatch names a department, not %s", a)}
	}
	switch a {
	case ActionReturn, ActionSendBack:
		if note == "" {
			return c, &FieldError{Field: "note", Reason: fmt.Sprintf("%s needs a note saying why", a)}
		}
	case ActionReport:
		if note == "" && len(media) == 0 {
			return c, &FieldError{Field: "note", Reason: "a report back needs a note or media as evidence"}
		}
	case ActionResume:
		if c.Prior == "" || !c.Prior.Open() || c.Prior == StateSuspended {
			return c, &FieldError{Field: "prior", Reason: fmt.Sprintf("the case has no state to resume (%q)", c.Prior)}
		}
	case ActionDispatch:
		if dept != "" {
			if err := validateDeptCode("dept", dept); err != nil {
				return c, err
			}
		}
		if dept == "" && c.Dept == "" {
			return c, fmt.Errorf("%w: dispatch of %s needs a department", ErrNoDepartment, c.ID)
		}
	}

	from := c.State
	to := target(a, &c)
	switch a {
	case ActionDispatch:
		if dept != "" && dept != c.Dept {
			why := note
			if why == "" {
				why = lastReturnNote(c.History)
			}
			if why == "" {
				why = "dispatched by hand"
			}
			if note == "" {
				note = fmt.Sprintf("re-routed from %q to %q: %s", c.Dept, dept, why)
			}
			c.Route = Route{Rule: RuleManual, Evidence: Evidence{Code: c.Code, Grid: c.Grid, Reason: fmt.Sprintf("from %q: %s", c.Dept, why)}}
			c.Dept = dept
		}
	case ActionSuspend:
		c.Prior = from
	case ActionResume:
		c.Prior = ""
	case ActionSupervise:
		c.Supervised = true
	case ActionClose:
		c.Closed = now
	}
	c.State = to
	c.Version++
	if len(media) > 0 {
		c.Media = append(slices.Clip(c.Media), media...)
	}
	c.History = append(slices.Clip(c.History), Entry{
		Time: now, Actor: actor, Action: a, From: from, To: to, Note: note, Dept: c.Dept, Media: slices.Clone(media),
	})
	return c, nil
}

// lastReturnNote returns the note of the latest return, if the case was
// returned and not dispatched since.
func lastReturnNote(h []Entry) string {
	for i := len(h) - 1; i >= 0; i-- {
		switch h[i].Action {
		case ActionReturn:
			return h[i].Note
		case ActionDispatch:
			return ""
		}
	}
	return ""
}
