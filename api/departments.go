package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"citytwin/incidents"
)

// registerDepartments registers the data that routes and times cases:
// departments, the class responsibility table and the work calendar.
// Everybody reads them; only an admin edits them.
func (a *caseAPI) registerDepartments(e *echo.Echo, mw ...echo.MiddlewareFunc) {
	e.GET("/departments", a.listDepartments, mw...)
	e.GET("/departments/:code", a.getDepartment, mw...)
	e.PUT("/departments/:code", a.putDepartment, mw...)
	e.DELETE("/departments/:code", a.deleteDepartment, mw...)
	e.GET("/responsibilities", a.listResponsibilities, mw...)
	e.GET("/responsibilities/:district/:class", a.getResponsibility, mw...)
	e.PUT("/responsibilities/:district/:class", a.putResponsibility, mw...)
	e.DELETE("/responsibilities/:district/:class", a.deleteResponsibility, mw...)
	e.GET("/calendar", a.getCalendar, mw...)
	e.PUT("/calendar", a.putCalendar, mw...)
}

// adminOf returns the request's principal if it is an admin: 401 for
// the anonymous, 403 for other roles.
func adminOf(c echo.Context, action string) (Principal, error) {
	who := principalOf(c)
	if who.Role == RoleAdmin {
		return who, nil
	}
	reason := "only an admin may do this"
	if who.anonymous() {
		reason = "writes need a token"
	}
	return who, &RightsError{Principal: who, Action: action, Reason: reason}
}

// decodeStrict reads a JSON object into v, refusing unknown members.
func decodeStrict(body []byte, what string, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return badInput("body", "%s: %s", what, jsonErrText(err))
	}
	if dec.More() {
		return badInput("body", "%s: more than one JSON value", what)
	}
	return nil
}

// departmentList is the answer of GET /departments.
type departmentList struct {
	Departments []incidents.Department `json:"departments"`
}

// listDepartments: GET /departments, by code.
func (a *caseAPI) listDepartments(c echo.Context) error {
	if err := checkParams(c.QueryParams()); err != nil {
		return err
	}
	ds := a.twin.Departments().All()
	if ds == nil {
		ds = []incidents.Department{}
	}
	return writeJSON(c, http.StatusOK, mediaJSON, departmentList{Departments: ds})
}

func writeVersioned(c echo.Context, status int, version uint64, v any) error {
	tag := etag(version)
	c.Response().Header().Set(headerETag, tag)
	if status == http.StatusOK && c.Request().Method == http.MethodGet && notModified(c, tag) {
		return c.NoContent(http.StatusNotModified)
	}
	return writeJSON(c, status, mediaJSON, v)
}

// getDepartment: GET /departments/{code}; ETag is its version.
func (a *caseAPI) getDepartment(c echo.Context) error {
	if err := checkParams(c.QueryParams()); err != nil {
		return err
	}
	d, err := a.twin.Departments().Get(c.Param("code"))
	if err != nil {
		return err
	}
	return writeVersioned(c, http.StatusOK, d.Version, d)
}

// putDepartment: PUT /departments/{code} with {name, contact, topic,
// webhook} (code, when in the body, must be the path's). 201 when new,
// 200 when changed; If-Match applies.
func (a *caseAPI) putDepartment(c echo.Context) error {
	if err := checkParams(c.QueryParams()); err != nil {
		return err
	}
	code := c.Param("code")
	who, err := adminOf(c, "edit department "+code)
	if err != nil {
		return err
	}
	ifv, _, err := ifMatch(c)
	if err != nil {
		return err
	}
	body, err := readBody(c)
	if err != nil {
		return err
	}
	var d incidents.Department
	if err := decodeStrict(body, "a department {code, name, contact, topic, webhook}", &d); err != nil {
		return err
	}
	if d.Code != "" && d.Code != code {
		return badInput("code", "%q differs from the path's %q", clipString(d.Code), clipString(code))
	}
	d.Code = code
	var out incidents.Department
	err = a.timeWrite("put_department", func() (err error) {
		out, err = a.twin.PutDepartment(c.Request().Context(), d, ifv, actorOf(who))
		return err
	})
	if err != nil {
		return err
	}
	status := http.StatusOK
	if out.Version == 1 { // decided by the write itself, not a read before it
		status = http.StatusCreated
		c.Response().Header().Set(echo.HeaderLocation, "/departments/"+code)
	}
	return writeVersioned(c, status, out.Version, out)
}

// deleteDepartment: DELETE /departments/{code}: 204. Cases keep the code.
func (a *caseAPI) deleteDepartment(c echo.Context) error {
	if err := checkParams(c.QueryParams()); err != nil {
		return err
	}
	code := c.Param("code")
	who, err := adminOf(c, "delete department "+code)
	if err != nil {
		return err
	}
	ifv, _, err := ifMatch(c)
	if err != nil {
		return err
	}
	err = a.timeWrite("delete_department", func() error {
		return a.twin.DeleteDepartment(c.Request().Context(), code, ifv, actorOf(who))
	})
	if err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// responsibilityList is the answer of GET /responsibilities.
type responsibilityList struct {
	Responsibilities []incidents.Responsibility `json:"responsibilities"`
}

// listResponsibilities: GET /responsibilities?district=&type=&class=,
// the class responsibility table by row key.
func (a *caseAPI) listResponsibilities(c echo.Context) error {
	q := c.QueryParams()
	if err := checkParams(q, []string{"district", "type", "class"}); err != nil {
		return err
	}
	district, derr := oneParam(q, "district")
	typ, terr := oneParam(q, "type")
	class, cerr := oneParam(q, "class")
	if err := joinInput(derr, terr, cerr); err != nil {
		return err
	}
	rows := []incidents.Responsibility{}
	for _, r := range a.twin.Responsibilities().All() {
		if (district == "" || r.District == district) && (typ == "" || string(r.Type) == typ) && (class == "" || r.Class == class) {
			rows = append(rows, r)
		}
	}
	return writeJSON(c, http.StatusOK, mediaJSON, responsibilityList{Responsibilities: rows})
}

// rowKeyOf reads the {district}/{class} of the path. class is a class key
// ("event:0505", "component:0111") or a bare class whose type is typ, or
// else the default (component for a class of the component catalogue).
func (a *caseAPI) rowKeyOf(c echo.Context, typ string) (incidents.Responsibility, error) {
	r := incidents.Responsibility{District: c.Param("district"), Class: c.Param("class")}
	if t, cl, ok := strings.Cut(r.Class, ":"); ok {
		if typ != "" && typ != t {
			return r, badInput("type", "%q differs from the path's %q", clipString(typ), clipString(t))
		}
		typ, r.Class = t, cl
	}
	if typ == "" {
		typ = string(a.defaultType(r.Class))
	}
	t, err := incidents.ParseType(typ)
	if err != nil {
		return r, err
	}
	r.Type = t
	return r, nil
}

// getResponsibility: GET /responsibilities/{district}/{class}.
func (a *caseAPI) getResponsibility(c echo.Context) error {
	q := c.QueryParams()
	if err := checkParams(q, []string{"type"}); err != nil {
		return err
	}
	typ, err := oneParam(q, "type")
	if err != nil {
		return err
	}
	key, err := a.rowKeyOf(c, typ)
	if err != nil {
		return err
	}
	for _, r := range a.twin.Responsibilities().All() {
		if r.Key() == key.Key() {
			return writeVersioned(c, http.StatusOK, r.Version, r)
		}
	}
	return badRow(key)
}

func badRow(key incidents.Responsibility) error {
	return fmt.Errorf("%w: responsibility %s", incidents.ErrNotFound, key.Key())
}

// putResponsibility: PUT /responsibilities/{district}/{class} with
// {"dept": ..} (district, type and class, when in the body, must be the
// path's): in district (6 digits, or * for all) the class is dept's.
func (a *caseAPI) putResponsibility(c echo.Context) error {
	if err := checkParams(c.QueryParams()); err != nil {
		return err
	}
	who, err := adminOf(c, "edit the responsibility table")
	if err != nil {
		return err
	}
	body, err := readBody(c)
	if err != nil {
		return err
	}
	var in incidents.Responsibility
	if err := decodeStrict(body, "a responsibility row {dept}", &in); err != nil {
		return err
	}
	r, err := a.rowKeyOf(c, string(in.Type))
	if err != nil {
		return err
	}
	if in.District != "" && in.District != r.District {
		return badInput("district", "%q differs from the path's %q", clipString(in.District), clipString(r.District))
	}
	if in.Class != "" && in.Class != r.Class {
		return badInput("class", "%q differs from the path's %q", clipString(in.Class), clipString(r.Class))
	}
	r.Dept = in.Dept
	var out incidents.Responsibility
	err = a.timeWrite("put_responsibility", func() (err error) {
		out, err = a.twin.PutResponsibility(c.Request().Context(), r, actorOf(who))
		return err
	})
	if err != nil {
		return err
	}
	status := http.StatusOK
	if out.Version == 1 {
		status = http.StatusCreated
	}
	return writeVersioned(c, status, out.Version, out)
}

// deleteResponsibility: DELETE /responsibilities/{district}/{class}: 204.
func (a *caseAPI) deleteResponsibility(c echo.Context) error {
	q := c.QueryParams()
	if err := checkParams(q, []string{"type"}); err != nil {
		return err
	}
	who, err := adminOf(c, "edit the responsibility table")
	if err != nil {
		return err
	}
	typ, err := oneParam(q, "type")
	if err != nil {
		return err
	}
	r, err := a.rowKeyOf(c, typ)
	if err != nil {
		return err
	}
	err = a.timeWrite("delete_responsibility", func() error {
		return a.twin.DeleteResponsibility(c.Request().Context(), r.District, r.Type, r.Class, actorOf(who))
	})
	if err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// getCalendar: GET /calendar, the work calendar that sets deadlines.
func (a *caseAPI) getCalendar(c echo.Context) error {
	if err := checkParams(c.QueryParams()); err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, mediaJSON, a.twin.Calendar())
}

// putCalendar: PUT /calendar with the whole calendar (location, dayStart,
// dayEnd, weekend as weekday numbers 0 Sunday .. 6 Saturday, holidays,
// workdays (swapped working days), limits per class, default). Deadlines
// already set stay.
func (a *caseAPI) putCalendar(c echo.Context) error {
	if err := checkParams(c.QueryParams()); err != nil {
		return err
	}
	who, err := adminOf(c, "change the work calendar")
	if err != nil {
		return err
	}
	body, err := readBody(c)
	if err != nil {
		return err
	}
	var cal incidents.Calendar
	if err := decodeStrict(body, "a calendar {location, dayStart, dayEnd, weekend, holidays, workdays, limits, default}", &cal); err != nil {
		return err
	}
	var out incidents.Calendar
	err = a.timeWrite("set_calendar", func() (err error) {
		out, err = a.twin.SetCalendar(c.Request().Context(), cal, actorOf(who))
		return err
	})
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, mediaJSON, out)
}
