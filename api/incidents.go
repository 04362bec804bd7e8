package api

import (
	"bytes"
	"encoding/json"
	"math"
	"net/http"
	"slices"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/paulmach/orb"

	"citytwin/incidents"
	"citytwin/parts"
)

// caseAPI serves cases (案卷), their departments, responsibility table
// and calendar, and Open311: the server with the case metrics and the
// twin's clock.
type caseAPI struct {
	*Server
	m   *caseMetrics
	now func() time.Time
}

// registerCases registers /incidents, /departments, /responsibilities,
// /calendar and /open311/v2, and the case metrics on the server registry.
func (s *Server) registerCases(e *echo.Echo, mw ...echo.MiddlewareFunc) error {
	m, err := newCaseMetrics(s.metrics)
	if err != nil {
		return err
	}
	a := &caseAPI{Server: s, m: m, now: time.Now}
	// The twin's clock when it tells it (twin.Options.Now), so that overdue
	// flags and the default stats period agree with the deadlines it sets.
	if tc, ok := any(s.twin).(interface{ Now() time.Time }); ok {
		a.now = tc.Now
	}
	a.registerIncidents(e.Group("/incidents"), mw...)
	a.registerDepartments(e, mw...)
	a.registerOpen311(e.Group("/open311/v2"), mw...)
	return nil
}

// registerIncidents registers the case routes under /incidents: intake,
// search, one case, its actions, and the evaluation rates.
func (a *caseAPI) registerIncidents(g *echo.Group, mw ...echo.MiddlewareFunc) {
	g.POST("", a.reportIncident, mw...)
	g.GET("", a.listIncidents, mw...)
	g.GET("/stats", a.incidentStats, mw...)
	g.GET("/:id", a.getIncident, mw...)
	g.POST("/:id/actions", a.actIncident, mw...)
}

// actorOf is the principal as the case workflow sees it: the token id
// names it in the history ("public" for the anonymous).
func actorOf(p Principal) incidents.Actor {
	name := p.TokenID
	if name == "" {
		name = string(RolePublic)
	}
	return incidents.Actor{Name: name, Role: incidents.Role(p.Role), Dept: p.Dept}
}

// caseProps are a case's GeoJSON properties. Reporters (names and
// contacts of citizens) are nil for the public.
type caseProps struct {
	ID          string               `json:"id"`
	Version     uint64               `json:"version"`
	Source      incidents.Source     `json:"source"`
	Type        incidents.Type       `json:"type"`
	Class       string               `json:"class"`
	ClassName   string               `json:"class_name,omitempty"`
	Code        string               `json:"code,omitempty"`
	Grid        string               `json:"grid,omitempty"`
	Description string               `json:"description,omitempty"`
	Media       []string             `json:"media"`
	Reporters   []incidents.Reporter `json:"reporters,omitempty"`
	Dept        string               `json:"dept"`
	Route       incidents.Route      `json:"route"`
	State       incidents.State      `json:"state"`
	Prior       incidents.State      `json:"prior,omitempty"`
	Supervised  bool                 `json:"supervised"`
	Overdue     bool                 `json:"overdue"`
	Problem     string               `json:"problem,omitempty"`
	Alarms      []string             `json:"alarms,omitempty"`
	Reported    time.Time            `json:"reported"`
	Due         *time.Time           `json:"due"`
	Closed      *time.Time           `json:"closed"`
	History     []incidents.Entry    `json:"history,omitempty"`
	Merged      bool                 `json:"merged,omitempty"` // intake only: the report joined this open case
}

// caseFeature is a case as a GeoJSON Feature; its id is the case id.
type caseFeature struct {
	Type       string        `json:"type"`
	ID         string        `json:"id"`
	Geometry   *geometryJSON `json:"geometry"`
	Properties caseProps     `json:"properties"`
}

// featureOfCase encodes c for who at now (which decides overdue); the
// history is left out of pages (withHistory false).
func (a *caseAPI) featureOfCase(c *incidents.Case, who Principal, now time.Time, withHistory bool) caseFeature {
	p := caseProps{
		ID: string(c.ID), Version: c.Version, Source: c.Source, Type: c.Type, Class: c.Class,
		ClassName: a.className(c.Type, c.Class), Grid: c.Grid, Description: c.Description,
		Media: slices.Clone(c.Media), Dept: c.Dept, Route: c.Route, State: c.State, Prior: c.Prior,
		Supervised: c.Supervised, Overdue: c.Overdue(now), Problem: c.Problem, Alarms: c.Alarms,
		Reported: c.Reported.UTC(),
	}
	if p.Media == nil {
		p.Media = []string{}
	}
	if c.Code != 0 {
		p.Code = c.Code.String()
	}
	if !c.Due.IsZero() {
		d := c.Due.UTC()
		p.Due = &d
	}
	if !c.Closed.IsZero() {
		d := c.Closed.UTC()
		p.Closed = &d
	}
	if who.seesPrivate() {
		p.Reporters = c.Reporters
	}
	if withHistory {
		p.History = c.History
	}
	var geom *geometryJSON
	if !math.IsNaN(c.Location[0]) && (c.Location != orb.Point{}) {
		geom = geometryOf(c.Location)
	}
	return caseFeature{Type: "Feature", ID: string(c.ID), Geometry: geom, Properties: p}
}

// className is the name of a component or event class ("" if unknown).
func (a *caseAPI) className(t incidents.Type, class string) string {
	switch t {
	case incidents.TypeEvent:
		if ec, ok := a.twin.Events().Lookup(class); ok {
			return ec.Name
		}
	case incidents.TypeComponent:
		if cl, err := parts.ParseClass(class); err == nil {
			if ci, ok := a.twin.Catalogue().Lookup(cl); ok {
				return ci.Name
			}
		}
	}
	return ""
}

// writeCase sends one case with its history; ETag is its version.
func (a *caseAPI) writeCase(c echo.Context, status int, k *incidents.Case, merged bool) error {
	tag := etag(k.Version)
	c.Response().Header().Set(headerETag, tag)
	if status == http.StatusOK && c.Request().Method == http.MethodGet && notModified(c, tag) {
		return c.NoContent(http.StatusNotModified)
	}
	f := a.featureOfCase(k, principalOf(c), a.now(), true)
	f.Properties.Merged = merged
	return writeJSON(c, status, mediaGeoJSON, f)
}

// parseCaseID reads the {id} of the path.
func parseCaseID(c echo.Context) (incidents.ID, error) {
	return incidents.ParseID(c.Param("id"))
}

// getIncident: GET /incidents/{id}, with its history.
func (a *caseAPI) getIncident(c echo.Context) error {
	if err := checkParams(c.QueryParams()); err != nil {
		return err
	}
	id, err := parseCaseID(c)
	if err != nil {
		return err
	}
	k, err := a.twin.Cases().Get(id)
	if err != nil {
		return err
	}
	return a.writeCase(c, http.StatusOK, &k, false)
}

// reportMembers are the members of an intake body.
var reportMembers = []string{"code", "lon", "lat", "type", "class", "description", "source", "media", "reporter"}

// reportIncident: POST /incidents. 201 with the new case, or 200 with
// the open case the report was merged into (properties.merged true).
func (a *caseAPI) reportIncident(c echo.Context) error {
	if err := checkParams(c.QueryParams()); err != nil {
		return err
	}
	who := principalOf(c)
	body, err := readBody(c)
	if err != nil {
		return err
	}
	r, err := a.decodeReport(body, who)
	if err != nil {
		return err
	}
	k, merged, err := a.intake(c, r, who)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/incidents/"+string(k.ID))
	status := http.StatusCreated
	if merged {
		status = http.StatusOK
	}
	return a.writeCase(c, status, &k, merged)
}

// intake hands a report to the twin, timed and counted.
func (a *caseAPI) intake(c echo.Context, r incidents.Report, who Principal) (k incidents.Case, merged bool, err error) {
	err = a.timeWrite("report_case", func() (err error) {
		k, merged, err = a.twin.Report(c.Request().Context(), r, actorOf(who))
		return err
	})
	if err == nil {
		a.m.reported(r.Source, k.Route.Rule, merged)
	}
	return k, merged, err
}

// decodeReport reads an intake body into a report for who.
func (a *caseAPI) decodeReport(body []byte, who Principal) (incidents.Report, error) {
	m, err := decodeJSONObject(body, "the report")
	if err != nil {
		return incidents.Report{}, err
	}
	var errs []FieldReason
	bad := func(field, reason string) { errs = append(errs, FieldReason{Field: field, Reason: reason}) }
	for _, k := range sortedKeys(m) {
		if !slices.Contains(reportMembers, k) {
			bad(k, "unknown member of a report (known: code, lon, lat, type, class, description, source, media, reporter)")
		}
	}
	var r incidents.Report
	if v, ok := m["code"]; ok && !isNull(v) {
		if sc, err := stringOrNumber(v); err != nil {
			bad("code", err.Error())
		} else if code, err := parts.ParseCode(sc); err != nil {
			bad("code", err.Error())
		} else {
			r.Code = code
		}
	}
	var lonLat [2]*float64
	for i, key := range []string{"lon", "lat"} {
		v, ok := m[key]
		if !ok || isNull(v) {
			continue
		}
		var x float64
		if json.Unmarshal(v, &x) != nil {
			bad(key, "want a number (WGS84 degrees)")
			continue
		}
		lonLat[i] = &x
	}
	switch {
	case lonLat[0] != nil && lonLat[1] != nil:
		pt := orb.Point{*lonLat[0], *lonLat[1]}
		r.Location = &pt
	case lonLat[0] != nil:
		bad("lat", "required with lon")
	case lonLat[1] != nil:
		bad("lon", "required with lat")
	}
	str := func(key string, dst *string) {
		if v, ok := m[key]; ok && !isNull(v) {
			if json.Unmarshal(v, dst) != nil {
				bad(key, "want a string")
			}
		}
	}
	var typ, source string
	str("type", &typ)
	str("class", &r.Class)
	str("description", &r.Description)
	str("source", &source)
	if v, ok := m["media"]; ok && !isNull(v) {
		if json.Unmarshal(v, &r.Media) != nil {
			bad("media", "want an array of links")
		}
	}
	if v, ok := m["reporter"]; ok && !isNull(v) {
		var rep struct {
			Name    string `json:"name"`
			Contact string `json:"contact"`
		}
		dec := json.NewDecoder(bytes.NewReader(v))
		dec.DisallowUnknownFields()
		if dec.Decode(&rep) != nil {
			bad("reporter", "want {\"name\": ..., \"contact\": ...}")
		}
		r.Reporter.Name, r.Reporter.Contact = rep.Name, rep.Contact
	}
	if len(errs) > 0 {
		return incidents.Report{}, &InputError{Errors: errs}
	}
	if r.Code == 0 && r.Location == nil {
		return incidents.Report{}, badInput("location", "give a component code, or lon and lat")
	}
	if typ != "" {
		t, err := incidents.ParseType(typ)
		if err != nil {
			return incidents.Report{}, err
		}
		r.Type = t
	} else if r.Code == 0 {
		r.Type = a.defaultType(r.Class)
	}
	if r.Source, err = sourceFor(who, source); err != nil {
		return incidents.Report{}, err
	}
	if r.Reporter.Name == "" {
		r.Reporter.Name = actorOf(who).Name
	}
	r.Reporter.Source = r.Source
	return r, nil
}

// defaultType is the type of a report without one: component when the
// class is in the component catalogue, else event (an unknown class is
// the router's to refuse).
func (a *caseAPI) defaultType(class string) incidents.Type {
	if cl, err := parts.ParseClass(class); err == nil {
		if _, ok := a.twin.Catalogue().Lookup(cl); ok {
			return incidents.TypeComponent
		}
	}
	return incidents.TypeEvent
}

// sourceFor checks the source a principal claims, or gives its default:
// inspector for inspectors, hotline for operators, app for the rest. Only
// inspectors and admins may claim inspector or sensor.
func sourceFor(who Principal, claimed string) (incidents.Source, error) {
	if claimed == "" {
		switch who.Role {
		case RoleInspector:
			return incidents.SourceInspector, nil
		case RoleOperator:
			return incidents.SourceHotline, nil
		}
		return incidents.SourceApp, nil
	}
	src, err := incidents.ParseSource(claimed)
	if err != nil {
		return "", err
	}
	if (src == incidents.SourceInspector || src == incidents.SourceSensor) && who.Role != RoleInspector && who.Role != RoleAdmin {
		reason := "only inspector and admin tokens report as " + claimed
		if who.anonymous() {
			reason = "reports as " + claimed + " need an inspector or admin token"
		}
		return "", &RightsError{Principal: who, Action: "report as source " + claimed, Reason: reason}
	}
	return src, nil
}
