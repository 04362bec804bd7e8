package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/paulmach/orb"

	"citytwin/incidents"
	"citytwin/parts"
)

// Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2) for citizen
// apps and hotline systems: the component and event classes are the
// services, cases are the service requests. Only the JSON format is
// served; errors are GeoReport error lists [{"code":..,"description":..}],
// not problem documents.

// registerOpen311 registers /open311/v2. The requests/{id}.json route
// is registered as ":id.json": echo names the parameter "id.json" and
// hands over the whole segment, suffix included.
func (a *caseAPI) registerOpen311(g *echo.Group, mw ...echo.MiddlewareFunc) {
	chain := append([]echo.MiddlewareFunc{a.open311Errors, a.open311Key}, mw...)
	g.GET("/services.json", a.open311Services, chain...)
	g.GET("/requests.json", a.open311Requests, chain...)
	g.POST("/requests.json", a.open311Post, chain...)
	g.GET("/requests/:id.json", a.open311Request, chain...)
}

// open311Error is one entry of a GeoReport error answer.
type open311Error struct {
	Code        int    `json:"code"`
	Description string `json:"description"`
}

// open311Errors writes the errors of the routes after it in the GeoReport
// format, with the status and headers the one mapping (problemOf) gives.
func (a *caseAPI) open311Errors(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		err := next(c)
		if err == nil || c.Response().Committed {
			return err
		}
		q := problemOf(err)
		if q.log {
			a.log.LogAttrs(c.Request().Context(), slog.LevelError, "request failed",
				slog.String("request_id", requestIDOf(c)), slog.String("method", c.Request().Method),
				slog.String("path", c.Request().URL.Path), slog.Int("status", q.Status), slog.String("error", err.Error()))
		}
		for k, vs := range q.header {
			for _, v := range vs {
				c.Response().Header().Add(k, v)
			}
		}
		var list []open311Error
		for _, f := range q.Errors {
			list = append(list, open311Error{Code: q.Status, Description: f.Field + ": " + f.Reason})
		}
		if len(list) == 0 {
			d := q.Detail
			if q.Field != "" {
				d = q.Field + ": " + q.Reason
			}
			if d == "" {
				d = q.Title
			}
			list = []open311Error{{Code: q.Status, Description: d}}
		}
		return writeJSON(c, q.Status, mediaJSON, list)
	}
}

// open311Key turns the GeoReport api_key (query, form or JSON member)
// into the bearer token the auth middleware checks, so that an api_key
// is authenticated, rate-limited and refused exactly like a token.
func (a *caseAPI) open311Key(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		key := req.URL.Query().Get("api_key")
		if key == "" && req.Method == http.MethodPost {
			var err error
			if key, err = bodyAPIKey(c); err != nil {
				return err
			}
		}
		if key != "" {
			if req.Header.Get(echo.HeaderAuthorization) != "" {
				return badInput("api_key", "send the token as api_key or as Authorization: Bearer, not both")
			}
			req.Header.Set(echo.HeaderAuthorization, "Bearer "+key)
		}
		return next(c)
	}
}

// bodyAPIKey reads api_key from a form or JSON body; the body stays
// readable for the handler.
func bodyAPIKey(c echo.Context) (string, error) {
	req := c.Request()
	mt, _, _ := mime.ParseMediaType(req.Header.Get(echo.HeaderContentType))
	switch mt {
	case "application/x-www-form-urlencoded", "multipart/form-data":
		if err := req.ParseMultipartForm(1 << 20); err != nil && !errors.Is(err, http.ErrNotMultipart) {
			return "", open311BodyErr(err)
		}
		return req.PostForm.Get("api_key"), nil
	case "application/json":
		b, err := io.ReadAll(req.Body)
		if err != nil {
			return "", err
		}
		req.Body = io.NopCloser(bytes.NewReader(b))
		var m struct {
			APIKey string `json:"api_key"`
		}
		_ = json.Unmarshal(b, &m) // a malformed body is the handler's to refuse
		return m.APIKey, nil
	}
	return "", nil
}

func open311BodyErr(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return err
	}
	return badInput("body", "not a form: %v", err)
}

// open311Service is one service of services.json.
type open311Service struct {
	ServiceCode string   `json:"service_code"`
	ServiceName string   `json:"service_name"`
	Description string   `json:"description"`
	Metadata    bool     `json:"metadata"`
	Type        string   `json:"type"`
	Keywords    []string `json:"keywords"`
	Group       string   `json:"group"`
}

// Service code prefixes: a service is a component or an event class.
const (
	serviceComponent = "component-"
	serviceEvent     = "event-"
)

func serviceCode(t incidents.Type, class string) string { return string(t) + "-" + class }

// parseServiceCode reads component-0111 / event-0505.
func parseServiceCode(s string) (incidents.Type, string, bool) {
	if cl, ok := strings.CutPrefix(s, serviceComponent); ok && len(cl) == 4 {
		return incidents.TypeComponent, cl, true
	}
	if cl, ok := strings.CutPrefix(s, serviceEvent); ok && len(cl) == 4 {
		return incidents.TypeEvent, cl, true
	}
	return "", "", false
}

// open311Services: GET /open311/v2/services.json.
func (a *caseAPI) open311Services(c echo.Context) error {
	if err := checkParams(c.QueryParams(), []string{"jurisdiction_id"}); err != nil {
		return err
	}
	var out []open311Service
	for _, ci := range a.twin.Catalogue().All() {
		out = append(out, open311Service{
			ServiceCode: serviceCode(incidents.TypeComponent, ci.Class.String()), ServiceName: ci.Name,
			Description: ci.NameEN, Type: "realtime", Keywords: []string{"component", "部件"},
			Group: majorNames[ci.Class.Major()],
		})
	}
	for _, ec := range a.twin.Events().All() {
		out = append(out, open311Service{
			ServiceCode: serviceCode(incidents.TypeEvent, ec.Class), ServiceName: ec.Name,
			Description: ec.NameEN, Type: "realtime", Keywords: []string{"event", "事件"}, Group: ec.MajorName,
		})
	}
	return writeJSON(c, http.StatusOK, mediaJSON, out)
}

// open311Req is one service request of requests.json.
type open311Req struct {
	ServiceRequestID  string  `json:"service_request_id"`
	Status            string  `json:"status"`
	StatusNotes       string  `json:"status_notes,omitempty"`
	ServiceName       string  `json:"service_name"`
	ServiceCode       string  `json:"service_code"`
	Description       string  `json:"description,omitempty"`
	AgencyResponsible string  `json:"agency_responsible"`
	ServiceNotice     string  `json:"service_notice,omitempty"`
	RequestedDatetime string  `json:"requested_datetime"`
	UpdatedDatetime   string  `json:"updated_datetime"`
	ExpectedDatetime  string  `json:"expected_datetime,omitempty"`
	Address           string  `json:"address,omitempty"`
	AddressID         string  `json:"address_id,omitempty"`
	Lat               float64 `json:"lat"`
	Long              float64 `json:"long"`
	MediaURL          string  `json:"media_url,omitempty"`
	Zipcode           *string `json:"zipcode"`
}

// open311Time is the GeoReport w3c datetime, in the calendar's zone.
func (a *caseAPI) open311Time(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(calendarZone(a.twin.Calendar())).Format(time.RFC3339)
}

// open311Of is a case as a service request.
func (a *caseAPI) open311Of(k *incidents.Case) open311Req {
	r := open311Req{
		ServiceRequestID: string(k.ID), Status: "open", ServiceName: a.className(k.Type, k.Class),
		ServiceCode: serviceCode(k.Type, k.Class), Description: k.Description, AgencyResponsible: k.Dept,
		RequestedDatetime: a.open311Time(k.Reported), ExpectedDatetime: a.open311Time(k.Due),
		Lat: k.Location[1], Long: k.Location[0], Address: k.Grid,
	}
	if !k.State.Open() {
		r.Status = "closed"
	}
	if d, err := a.twin.Departments().Get(k.Dept); err == nil && d.Name != "" {
		r.AgencyResponsible = d.Name
	}
	if k.Code != 0 {
		r.AddressID = k.Code.String()
	}
	if len(k.Media) > 0 {
		r.MediaURL = k.Media[0]
	}
	updated := k.Reported
	if n := len(k.History); n > 0 {
		h := k.History[n-1]
		updated = h.Time
		r.StatusNotes = string(h.To)
		if h.Note != "" {
			r.StatusNotes += ": " + h.Note
		}
	}
	r.UpdatedDatetime = a.open311Time(updated)
	return r
}

// open311Request: GET /open311/v2/requests/{id}.json, a list of one.
func (a *caseAPI) open311Request(c echo.Context) error {
	if err := checkParams(c.QueryParams(), []string{"jurisdiction_id", "api_key"}); err != nil {
		return err
	}
	raw, ok := strings.CutSuffix(c.Param("id.json"), ".json")
	if !ok {
		return badInput("format", "only the json format is served: /open311/v2/requests/{id}.json")
	}
	id, err := incidents.ParseID(raw)
	if err != nil {
		return err
	}
	k, err := a.twin.Cases().Get(id)
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, mediaJSON, []open311Req{a.open311Of(&k)})
}

// open311MaxRequests is the most requests of one GET requests.json, and
// open311Window the period it covers by default (GeoReport: 90 days).
const (
	open311MaxRequests = 1000
	open311Window      = 90 * 24 * time.Hour
)

// open311Requests: GET /open311/v2/requests.json?service_request_id=&
// service_code=&start_date=&end_date=&status=open|closed, newest first.
func (a *caseAPI) open311Requests(c echo.Context) error {
	q := c.QueryParams()
	if err := checkParams(q, []string{"jurisdiction_id", "api_key", "service_request_id", "service_code", "start_date", "end_date", "status"}); err != nil {
		return err
	}
	var errs []error
	ids := map[incidents.ID]bool{}
	for _, s := range listParam(q, "service_request_id") {
		id, err := incidents.ParseID(s)
		if err != nil {
			errs = append(errs, badInput("service_request_id", "%q is not a request id", clipString(s)))
		}
		ids[id] = true
	}
	codes := map[string]bool{}
	for _, s := range listParam(q, "service_code") {
		if _, _, ok := parseServiceCode(s); !ok {
			errs = append(errs, badInput("service_code", "%q is not a service code such as component-0111 or event-0505", clipString(s)))
		}
		codes[s] = true
	}
	date := func(key string) time.Time {
		v, err := oneParam(q, key)
		if err != nil || v == "" {
			errs = append(errs, err)
			return time.Time{}
		}
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			errs = append(errs, badInput(key, "%q is not a w3c datetime such as 2026-03-01T00:00:00+08:00", clipString(v)))
		}
		return t
	}
	start, end := date("start_date"), date("end_date")
	status, err := oneParam(q, "status")
	errs = append(errs, err)
	if status != "" && status != "open" && status != "closed" {
		errs = append(errs, badInput("status", "%q is not open or closed", clipString(status)))
	}
	if err := joinInput(errs...); err != nil {
		return err
	}
	if len(ids) == 0 && start.IsZero() && end.IsZero() {
		start = a.now().Add(-open311Window)
	}
	var found []incidents.Case
	a.twin.Cases().All(func(k incidents.Case) bool {
		switch {
		case len(ids) > 0 && !ids[k.ID],
			len(codes) > 0 && !codes[serviceCode(k.Type, k.Class)],
			!start.IsZero() && k.Reported.Before(start),
			!end.IsZero() && k.Reported.After(end),
			status == "open" && !k.State.Open(),
			status == "closed" && k.State.Open():
			return true
		}
		// Only the newest open311MaxRequests are answered: keep at most
		// twice that while walking (ids sort by day, oldest first).
		found = append(found, k)
		if len(found) >= 2*open311MaxRequests {
			found = append(found[:0], found[len(found)-open311MaxRequests:]...)
		}
		return true
	})
	if len(found) > open311MaxRequests {
		found = found[len(found)-open311MaxRequests:]
	}
	slices.Reverse(found) // newest first
	out := make([]open311Req, len(found))
	for i := range found {
		out[i] = a.open311Of(&found[i])
	}
	return writeJSON(c, http.StatusOK, mediaJSON, out)
}

// open311PostParams are the members of a POST requests.json.
var open311PostParams = []string{"api_key", "jurisdiction_id", "service_code", "lat", "long", "address_string", "address_id",
	"email", "device_id", "account_id", "first_name", "last_name", "phone", "description", "media_url"}

// open311Created is the answer of a POST requests.json.
type open311Created struct {
	ServiceRequestID string  `json:"service_request_id"`
	ServiceNotice    string  `json:"service_notice"`
	AccountID        *string `json:"account_id"`
}

// open311Post: POST /open311/v2/requests.json, form-encoded or JSON.
// The report has source open311; 201 with the new request, or 200 with
// the open request it was merged into.
func (a *caseAPI) open311Post(c echo.Context) error {
	if err := checkParams(c.QueryParams(), []string{"api_key", "jurisdiction_id"}); err != nil {
		return err
	}
	vals, err := open311Params(c)
	if err != nil {
		return err
	}
	r, err := a.open311Report(vals)
	if err != nil {
		return err
	}
	who := principalOf(c)
	if r.Reporter.Name == "" {
		r.Reporter.Name = actorOf(who).Name
	}
	k, merged, err := a.intake(c, r, who)
	if err != nil {
		return err
	}
	dept := k.Dept
	if d, err := a.twin.Departments().Get(k.Dept); err == nil && d.Name != "" {
		dept = d.Name
	}
	notice := fmt.Sprintf("routed to %s (%s)", dept, k.Route.Rule)
	if !k.Due.IsZero() {
		notice += ", due " + a.open311Time(k.Due)
	}
	status := http.StatusCreated
	if merged {
		status = http.StatusOK
		notice = "merged into the open request " + string(k.ID) + ", " + notice
	}
	return writeJSON(c, status, mediaJSON, []open311Created{{ServiceRequestID: string(k.ID), ServiceNotice: notice}})
}

// open311Params reads the members of a POST from a form or a JSON object
// (strings or numbers), refusing unknown ones (attribute[...] is allowed
// and ignored: the services have no metadata).
func open311Params(c echo.Context) (url.Values, error) {
	req := c.Request()
	mt, _, _ := mime.ParseMediaType(req.Header.Get(echo.HeaderContentType))
	vals := url.Values{}
	switch mt {
	case "application/json":
		body, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		m, err := decodeJSONObject(body, "the service request")
		if err != nil {
			return nil, err
		}
		for k, raw := range m {
			if isNull(raw) {
				continue
			}
			v, err := stringOrNumber(raw)
			if err != nil {
				return nil, badInput(k, "want a string or a number")
			}
			vals.Set(k, v)
		}
	case "application/x-www-form-urlencoded", "multipart/form-data", "":
		if err := req.ParseMultipartForm(1 << 20); err != nil && !errors.Is(err, http.ErrNotMultipart) {
			return nil, open311BodyErr(err)
		}
		vals = req.PostForm
	default:
		return nil, fmt.Errorf("%w: %q; send a form (application/x-www-form-urlencoded) or JSON", ErrUnsupportedMediaType, mt)
	}
	var errs []FieldReason
	for _, k := range sortedKeys(vals) {
		if !slices.Contains(open311PostParams, k) && !strings.HasPrefix(k, "attribute[") {
			errs = append(errs, FieldReason{Field: k, Reason: "unknown parameter of a service request"})
		} else if len(vals[k]) > 1 {
			errs = append(errs, FieldReason{Field: k, Reason: "given more than once"})
		}
	}
	if len(errs) > 0 {
		return nil, &InputError{Errors: errs}
	}
	return vals, nil
}

// open311Report builds the intake report of a service request: a place
// (lat and long) or a component (address_id, its 16-digit code).
func (a *caseAPI) open311Report(v url.Values) (incidents.Report, error) {
	r := incidents.Report{Source: incidents.SourceOpen311, Description: v.Get("description")}
	var errs []error
	t, class, ok := parseServiceCode(v.Get("service_code"))
	switch {
	case v.Get("service_code") == "":
		errs = append(errs, badInput("service_code", "required (see services.json)"))
	case !ok:
		errs = append(errs, badInput("service_code", "%q is not a service of services.json", clipString(v.Get("service_code"))))
	}
	r.Type, r.Class = t, class
	if s := v.Get("address_id"); s != "" {
		code, err := parts.ParseCode(s)
		if err != nil {
			errs = append(errs, badInput("address_id", "%q is not a 16-digit component code", clipString(s)))
		}
		r.Code = code
	}
	lat, long := v.Get("lat"), v.Get("long")
	switch {
	case lat != "" && long != "":
		y, err1 := strconv.ParseFloat(lat, 64)
		x, err2 := strconv.ParseFloat(long, 64)
		if err1 != nil || err2 != nil {
			errs = append(errs, badInput("lat", "lat %q and long %q must be numbers (WGS84)", clipString(lat), clipString(long)))
		}
		pt := orb.Point{x, y}
		r.Location = &pt
	case lat != "" || long != "":
		errs = append(errs, badInput("long", "give lat and long together"))
	case r.Code == 0 && v.Get("address_string") != "":
		errs = append(errs, badInput("address_string", "addresses are not geocoded here: give lat and long, or address_id (a component code)"))
	case r.Code == 0:
		errs = append(errs, badInput("lat", "give lat and long, or address_id (a component code)"))
	}
	if m := v.Get("media_url"); m != "" {
		r.Media = []string{m}
	}
	name := strings.TrimSpace(v.Get("first_name") + " " + v.Get("last_name"))
	var contact []string
	for _, k := range []string{"email", "phone"} {
		if s := v.Get(k); s != "" {
			contact = append(contact, s)
		}
	}
	r.Reporter = incidents.Reporter{Name: name, Contact: strings.Join(contact, ", "), Source: incidents.SourceOpen311}
	if err := joinInput(errs...); err != nil {
		return incidents.Report{}, err
	}
	return r, nil
}
