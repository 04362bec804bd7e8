package incidents

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"
)

// wantTo is the expected state machine, written out independently of the
// implementation's table: action -> from -> to. Resume goes to Prior,
// which the test sets to in_progress.
var wantTo = map[Action]map[State]State{
	ActionRegister: {StateReported: StateRegistered},
	ActionReject:   {StateReported: StateRejected},
	ActionDispatch: {StateRegistered: StateDispatched, StateReturned: StateDispatched},
	ActionAccept:   {StateDispatched: StateInProgress, StateSentBack: StateInProgress},
	ActionReturn:   {StateDispatched: StateReturned, StateInProgress: StateReturned},
	ActionReport:   {StateInProgress: StateHandled},
	ActionVerify:   {StateHandled: StateVerified},
	ActionSendBack: {StateHandled: StateSentBack},
	ActionClose:    {StateVerified: StateClosed},
	ActionSuspend: {StateRegistered: StateSuspended, StateDispatched: StateSuspended,
		StateInProgress: StateSuspended, StateSentBack: StateSuspended},
	ActionResume: {StateSuspended: StateInProgress},
	ActionSupervise: {StateReported: StateReported, StateRegistered: StateRegistered, StateDispatched: StateDispatched,
		StateInProgress: StateInProgress, StateHandled: StateHandled, StateVerified: StateVerified,
		StateReturned: StateReturned, StateSentBack: StateSentBack, StateSuspended: StateSuspended},
}

// wantRoles are the roles (besides admin) that may take each action, and
// whether only the case's own department may.
var wantRoles = map[Action][]Role{
	ActionRegister:  {RoleOperator},
	ActionReject:    {RoleOperator},
	ActionDispatch:  {RoleOperator},
	ActionClose:     {RoleOperator},
	ActionSuspend:   {RoleOperator},
	ActionResume:    {RoleOperator},
	ActionSupervise: {RoleOperator},
	ActionAccept:    {RoleDepartment},
	ActionReturn:    {RoleDepartment},
	ActionReport:    {RoleDepartment},
	ActionVerify:    {RoleInspector, RoleOperator},
	ActionSendBack:  {RoleInspector, RoleOperator},
}

var t0 = time.Date(2026, 10, 12, 10, 0, 0, 0, chinaTime)

func testCase(s State) Case {
	c := Case{
		ID: "C20261012-ABCDEFGHJK", Version: 3, Source: SourceInspector, Type: TypeEvent, Class: "0505",
		Location: [2]float64{120.605, 31.305}, Dept: "chengguan", State: s, Reported: t0,
		History: make([]Entry, 2, 8), // spare capacity: a transition must not write into it
	}
	if s == StateSuspended {
		c.Prior = StateInProgress
	}
	if s == StateClosed {
		c.Closed = t0
	}
	return c
}

// TestTransitionEveryCombination checks every (state, action, role)
// combination, for a department actor of the case's department and of
// another one, against wantTo and wantRoles.
func TestTransitionEveryCombination(t *testing.T) {
	type actorCase struct {
		name  string
		actor Actor
	}
	var actors []actorCase
	for _, r := range Roles() {
		actors = append(actors, actorCase{string(r), Actor{Name: "someone", Role: r}})
	}
	actors = append(actors,
		actorCase{"department-own", Actor{Name: "clerk", Role: RoleDepartment, Dept: "chengguan"}},
		actorCase{"department-other", Actor{Name: "clerk", Role: RoleDepartment, Dept: "water"}},
		actorCase{"admin-with-dept", Actor{Name: "root", Role: RoleAdmin, Dept: "water"}})
	now := t0.Add(time.Hour)
	ok, refusedRole, refusedState := 0, 0, 0
	for _, s := range States() {
		for _, a := range Actions() {
			for _, ac := range actors {
				t.Run(fmt.Sprintf("%s/%s/%s", s, a, ac.name), func(t *testing.T) {
					c := testCase(s)
					before := c
					got, err := TransitionMedia(c, a, ac.actor, "a note", "", []string{"https://img.example/1.jpg"}, now)
					role := ac.actor.Role
					ownDept := ac.actor.Role == RoleDepartment && ac.actor.Dept == c.Dept
					roleOK := role == RoleAdmin || slices.Contains(wantRoles[a], role)
					to, stateOK := wantTo[a][s]
					var te *TransitionError
					switch {
					case !roleOK:
						refusedRole++
						if !errors.Is(err, ErrNotAllowed) || !errors.As(err, &te) || te.Action != a || te.State != s || te.Role != role {
							t.Fatalf("got %v, want ErrNotAllowed naming %s %s %s", err, a, s, role)
						}
					case !stateOK:
						refusedState++
						if !errors.Is(err, ErrBadTransition) || !errors.As(err, &te) || te.State != s {
							t.Fatalf("got %v, want ErrBadTransition", err)
						}
					case role == RoleDepartment && !ownDept:
						if !errors.Is(err, ErrNotAllowed) {
							t.Fatalf("department %q acting on a case of %q: got %v, want ErrNotAllowed", ac.actor.Dept, c.Dept, err)
						}
					default:
						ok++
						if err != nil {
							t.Fatalf("got %v, want %s -> %s", err, s, to)
						}
						if got.State != to || got.Version != c.Version+1 || len(got.History) != len(c.History)+1 {
							t.Fatalf("got state %s version %d history %d, want %s %d %d", got.State, got.Version, len(got.History), to, c.Version+1, len(c.History)+1)
						}
						e := got.History[len(got.History)-1]
						if e.Action != a || e.From != s || e.To != to || e.Actor != ac.actor || !e.Time.Equal(now) || e.Note != "a note" || e.Dept != got.Dept || len(e.Media) != 1 {
							t.Fatalf("history entry %+v", e)
						}
						if e2 := c.History[:3][2]; len(c.History) != 2 || e2.Action != "" || e2.Note != "" {
							t.Fatal("the transition wrote into the input's history")
						}
					}
					if err != nil && (got.Version != before.Version || got.State != before.State) {
						t.Fatal("a refused transition changed the case")
					}
				})
			}
		}
	}
	if ok == 0 || refusedRole == 0 || refusedState == 0 {
		t.Fatalf("degenerate table: %d ok, %d refused by role, %d by state", ok, refusedRole, refusedState)
	}
}

func TestTransitionRules(t *testing.T) {
	op := Actor{Name: "op", Role: RoleOperator}
	dept := Actor{Name: "d", Role: RoleDepartment, Dept: "chengguan"}
	insp := Actor{Name: "i", Role: RoleInspector}
	now := t0.Add(time.Hour)
	step := func(t *testing.T, c Case, a Action, who Actor, note, d string) Case {
		t.Helper()
		got, err := Transition(c, a, who, note, d, now)
		if err != nil {
			t.Fatalf("%s: %v", a, err)
		}
		return got
	}
	t.Run("whole loop", func(t *testing.T) {
		c := testCase(StateReported)
		c = step(t, c, ActionRegister, op, "", "")
		c = step(t, c, ActionDispatch, op, "", "")
		c = step(t, c, ActionAccept, dept, "", "")
		c = step(t, c, ActionReport, dept, "cleared", "")
		c = step(t, c, ActionVerify, insp, "", "")
		c = step(t, c, ActionClose, op, "", "")
		if c.State != StateClosed || !c.Closed.Equal(now) || c.Version != 9 || len(c.History) != 8 {
			t.Fatalf("got %+v", c)
		}
		if err := c.Validate(); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("return needs a note and re-routing records why", func(t *testing.T) {
		c := testCase(StateDispatched)
		if _, err := Transition(c, ActionReturn, dept, "", "", now); !errors.Is(err, ErrInvalid) {
			t.Fatalf("return without a note: %v", err)
		}
		c = step(t, c, ActionReturn, dept, "not ours: the road belongs to the highway bureau", "")
		c = step(t, c, ActionDispatch, op, "", "highway")
		if c.Dept != "highway" || c.Route.Rule != RuleManual {
			t.Fatalf("dept %q route %+v", c.Dept, c.Route)
		}
		e := c.History[len(c.History)-1]
		if e.Dept != "highway" || e.Note == "" || c.Route.Evidence.Reason == "" {
			t.Fatalf("re-routing not recorded: entry %+v route %+v", e, c.Route)
		}
		if _, err := Transition(c, ActionAccept, dept, "", "", now); !errors.Is(err, ErrNotAllowed) {
			t.Fatalf("the old department accepted: %v", err)
		}
	})
	t.Run("report needs note or media", func(t *testing.T) {
		c := testCase(StateInProgress)
		if _, err := Transition(c, ActionReport, dept, "", "", now); !errors.Is(err, ErrInvalid) {
			t.Fatalf("report without evidence: %v", err)
		}
		got, err := TransitionMedia(c, ActionReport, dept, "", "", []string{"https://img/1.jpg"}, now)
		if err != nil || len(got.Media) != 1 {
			t.Fatalf("report with media: %v %v", got.Media, err)
		}
	})
	t.Run("send back needs a note", func(t *testing.T) {
		if _, err := Transition(testCase(StateHandled), ActionSendBack, insp, "", "", now); !errors.Is(err, ErrInvalid) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("suspend keeps the prior state", func(t *testing.T) {
		c := step(t, testCase(StateSentBack), ActionSuspend, op, "waiting for the season", "")
		if c.State != StateSuspended || c.Prior != StateSentBack {
			t.Fatalf("got %s prior %s", c.State, c.Prior)
		}
		if err := c.Validate(); err != nil {
			t.Fatal(err)
		}
		c = step(t, c, ActionResume, op, "", "")
		if c.State != StateSentBack || c.Prior != "" {
			t.Fatalf("got %s prior %s", c.State, c.Prior)
		}
	})
	t.Run("supervise keeps the state", func(t *testing.T) {
		c := step(t, testCase(StateInProgress), ActionSupervise, op, "督办", "")
		if c.State != StateInProgress || !c.Supervised {
			t.Fatalf("got %s %v", c.State, c.Supervised)
		}
	})
	t.Run("dispatch without a department", func(t *testing.T) {
		c := testCase(StateRegistered)
		c.Dept = ""
		if _, err := Transition(c, ActionDispatch, op, "", "", now); !errors.Is(err, ErrNoDepartment) {
			t.Fatalf("got %v", err)
		}
		if _, err := Transition(c, ActionDispatch, op, "", "bad dept!", now); !errors.Is(err, ErrInvalid) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("dept on another action", func(t *testing.T) {
		if _, err := Transition(testCase(StateReported), ActionRegister, op, "", "water", now); !errors.Is(err, ErrInvalid) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("unknown action and role", func(t *testing.T) {
		if _, err := Transition(testCase(StateReported), "explode", op, "", "", now); !errors.Is(err, ErrInvalid) {
			t.Fatalf("got %v", err)
		}
		if _, err := Transition(testCase(StateReported), ActionRegister, Actor{Role: "mayor"}, "", "", now); !errors.Is(err, ErrInvalid) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("Allowed", func(t *testing.T) {
		if !Allowed(ActionClose, RoleAdmin) || Allowed(ActionClose, RolePublic) || Allowed(ActionClose, RoleDepartment) || !Allowed(ActionVerify, RoleInspector) {
			t.Fatal("Allowed disagrees with the role table")
		}
	})
}
