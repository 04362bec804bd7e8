package api

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"citytwin/incidents"
)

// actionBody is the body of POST /incidents/{id}/actions.
type actionBody struct {
	Action string   `json:"action"`
	Note   string   `json:"note"`
	Dept   string   `json:"dept"`
	Media  []string `json:"media"`
}

// actIncident: POST /incidents/{id}/actions with {"action":..,"note":..,
// "dept":..,"media":[..]} and If-Match: the case after the action (200).
// A stale If-Match is 412, a role that may not take the action 403, a
// state that does not allow it 409 (the problem names the state and the
// actions it allows).
func (a *caseAPI) actIncident(c echo.Context) error {
	if err := checkParams(c.QueryParams()); err != nil {
		return err
	}
	id, err := parseCaseID(c)
	if err != nil {
		return err
	}
	who := principalOf(c)
	if who.anonymous() {
		return &RightsError{Principal: who, Action: "act on case " + string(id), Reason: "actions need a token"}
	}
	ifv, _, err := ifMatch(c)
	if err != nil {
		return err
	}
	body, err := readBody(c)
	if err != nil {
		return err
	}
	var ab actionBody
	if err := decodeStrict(body, `want {"action": ..., "note": ..., "dept": ..., "media": [...]}`, &ab); err != nil {
		return err
	}
	act, err := incidents.ParseAction(ab.Action)
	if err != nil {
		return err
	}
	var out incidents.Case
	err = a.timeWrite("case_"+string(act), func() (err error) {
		out, err = a.act(c, id, act, ab, ifv, who)
		return err
	})
	a.m.acted(act, err)
	if err != nil {
		return err
	}
	return a.writeCase(c, http.StatusOK, &out, false)
}

// act hands the action, with its media links checked, to the twin.
func (a *caseAPI) act(c echo.Context, id incidents.ID, act incidents.Action, ab actionBody, ifv uint64, who Principal) (incidents.Case, error) {
	note := ab.Note
	if len(ab.Media) > 0 {
		if len(ab.Media) > incidents.MaxMedia {
			return incidents.Case{}, badInput("media", "%d links, at most %d", len(ab.Media), incidents.MaxMedia)
		}
		for i, m := range ab.Media {
			if m == "" || len(m) > incidents.MaxLink {
				return incidents.Case{}, badInput(fmt.Sprintf("media[%d]", i), "a link of 1..%d bytes is required", incidents.MaxLink)
			}
		}
	}
	return a.twin.ActMedia(c.Request().Context(), id, act, note, ab.Dept, ab.Media, ifv, actorOf(who))
}

// actionsFrom lists the actions the state machine allows from state st,
// whatever the role: what a 409 tells the client it may do instead. It
// asks incidents.Transition as an admin on a probe case, so it follows
// the machine without a copy of its table.
func actionsFrom(st incidents.State) []incidents.Action {
	probe := incidents.Case{State: st, Prior: incidents.StateRegistered, Dept: "probe"}
	if st != incidents.StateSuspended {
		probe.Prior = ""
	}
	admin := incidents.Actor{Name: "probe", Role: incidents.RoleAdmin}
	var out []incidents.Action
	for _, act := range incidents.Actions() {
		_, err := incidents.Transition(probe, act, admin, "probe", "", time.Time{})
		if !errors.Is(err, incidents.ErrBadTransition) {
			out = append(out, act)
		}
	}
	return out
}
