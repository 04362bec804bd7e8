package api

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"citytwin/grid"
	"citytwin/incidents"
	"citytwin/parts"
	"citytwin/sensors"
	"citytwin/tiles"
	"citytwin/tokens"
	"citytwin/twin"
)

// Sentinel errors of the package. Match them with errors.Is.
var (
	// ErrUnauthorized reports a request that needs a (valid) token (401).
	ErrUnauthorized = errors.New("api: unauthorized")
	// ErrForbidden reports a principal without the right to do this (403).
	ErrForbidden = errors.New("api: forbidden")
	// ErrBadRequest is wrapped by every *InputError (400).
	ErrBadRequest = errors.New("api: bad request")
	// ErrUnsupportedMediaType reports a body that is not JSON (415).
	ErrUnsupportedMediaType = errors.New("api: unsupported media type")
	// ErrTooLarge reports a request body over Config.BodyLimit (413).
	ErrTooLarge = errors.New("api: request body too large")
	// ErrNotReady reports a server that has not finished loading (503).
	ErrNotReady = errors.New("api: not ready")
	// ErrConfig is wrapped by every *ConfigError.
	ErrConfig = errors.New("api: invalid config")
	// ErrDeadline is wrapped by every *DeadlineError (503).
	ErrDeadline = errors.New("api: request deadline exceeded")
)

// errRouteDeadline is the cause of the context of a request past its
// route's deadline (see Server.deadline), telling it from a client that
// went away.
var errRouteDeadline = errors.New("api: route deadline")

// DeadlineError is a request that ran past the deadline of its route
// (Config.RouteTimeout or TileTimeout).
type DeadlineError struct {
	Method, Route string
	Limit         time.Duration
	Err           error // what the handler returned, if anything
}

func (e *DeadlineError) Error() string {
	s := fmt.Sprintf("api: %s %s ran past its deadline of %v", e.Method, e.Route, e.Limit)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap makes errors.Is(err, ErrDeadline) true.
func (e *DeadlineError) Unwrap() error { return ErrDeadline }

// FieldReason names one bad input (a query parameter, a header, a body
// member or a GeoJSON property) and why it is bad.
type FieldReason struct {
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

// InputError is a request with one or more bad inputs (400).
type InputError struct {
	Errors []FieldReason
}

func (e *InputError) Error() string {
	var b strings.Builder
	b.WriteString("api: bad request")
	for i, f := range e.Errors {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(f.Field)
		b.WriteString(": ")
		b.WriteString(f.Reason)
	}
	return b.String()
}

// Unwrap makes errors.Is(err, ErrBadRequest) true.
func (e *InputError) Unwrap() error { return ErrBadRequest }

func badInput(field, format string, args ...any) error {
	return &InputError{Errors: []FieldReason{{Field: field, Reason: fmt.Sprintf(format, args...)}}}
}

// RightsError is a principal trying what its role does not allow (403),
// or an anonymous caller trying a write (401, Unwrap gives ErrUnauthorized).
type RightsError struct {
	Principal Principal
	Action    string   // e.g. "modify 3205080101000001"
	Fields    []string // properties the role may not change, if that is why
	Reason    string
}

func (e *RightsError) Error() string {
	s := fmt.Sprintf("api: %s may not %s", e.Principal, e.Action)
	if len(e.Fields) > 0 {
		s += " (" + strings.Join(e.Fields, ", ") + ")"
	}
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	return s
}

// Unwrap gives ErrUnauthorized for an anonymous principal, else ErrForbidden.
func (e *RightsError) Unwrap() error {
	if e.Principal.anonymous() {
		return ErrUnauthorized
	}
	return ErrForbidden
}

// ConfigError is an invalid Config field.
type ConfigError struct {
	Field  string
	Reason string
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("api: invalid config: %s: %s", e.Field, e.Reason)
}

// Unwrap makes errors.Is(err, ErrConfig) true.
func (e *ConfigError) Unwrap() error { return ErrConfig }

// Problem is an RFC 9457 problem details document
// (application/problem+json). It is also an error, so a handler can return
// one as is.
type Problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail,omitempty"`
	Instance string `json:"instance,omitempty"`
	// Field and Reason name the one bad input, when there is one.
	Field  string `json:"field,omitempty"`
	Reason string `json:"reason,omitempty"`
	// Errors lists every bad input.
	Errors []FieldReason `json:"errors,omitempty"`
	// Index is the failing record of a bulk change.
	Index *int `json:"index,omitempty"`
	// State and Allowed are, for an action the state of a case does not
	// allow (409), its state and the actions that state allows.
	State   string   `json:"state,omitempty"`
	Allowed []string `json:"allowed,omitempty"`
	// RequestID is the X-Request-Id of the request, to quote in reports.
	RequestID string `json:"request_id,omitempty"`

	header http.Header // extra response headers (WWW-Authenticate, Retry-After)
	log    bool        // an unexpected error: log it with its cause
}

func (p *Problem) Error() string {
	return fmt.Sprintf("api: %d %s: %s", p.Status, p.Title, p.Detail)
}

// problemTypeBase prefixes the problem type slugs (a relative URI reference,
// as RFC 9457 allows).
const problemTypeBase = "/problems/"

func newProblem(status int, slug, detail string) *Problem {
	return &Problem{Type: problemTypeBase + slug, Title: http.StatusText(status), Status: status, Detail: detail}
}

// problemOf is the one place that maps errors to HTTP statuses. Store
// failures (twin.ErrStore) and unknown errors keep their text out of the
// document; the caller logs them with the request id.
func problemOf(err error) *Problem {
	var (
		p    *Problem
		rec  *twin.RecordError
		in   *InputError
		he   *echo.HTTPError
		mbe  *http.MaxBytesError
		pfe  *parts.FieldError
		pce  *parts.CodeError
		gfe  *grid.FieldError
		gce  *grid.CodeError
		rerr *RightsError
		tfe  *tiles.FilterError
		ite  *incidents.TransitionError
		ife  *incidents.FieldError
		dle  *DeadlineError
		sfe  *sensors.FieldError
		spe  *sensors.PayloadError
	)
	switch {
	case errors.As(err, &p):
		return p
	case errors.As(err, &dle):
		q := newProblem(http.StatusServiceUnavailable, "timeout", "the request ran past the deadline of its route; narrow it (a smaller area, a filter, a page) or try again later")
		q.Reason = fmt.Sprintf("%s %s has a deadline of %v", dle.Method, dle.Route, dle.Limit)
		q.header = http.Header{"Retry-After": {"1"}}
		return q
	case errors.Is(err, os.ErrDeadlineExceeded):
		// The connection's read deadline (Config.ReadTimeout) passed
		// while the handler read the body: a slow client.
		q := newProblem(http.StatusRequestTimeout, "request-timeout", "the request body did not arrive in time")
		q.header = http.Header{"Connection": {"close"}}
		return q
	case errors.As(err, &rec):
		// A failing record of a bulk change: the record's own problem with
		// its index (a store failure has no index: it hit all records).
		q := problemOf(rec.Err)
		if q.Status < 500 {
			i := rec.Index
			q.Index = &i
			q.Detail = fmt.Sprintf("change record %d: %s", rec.Index, q.Detail)
		}
		return q
	case errors.Is(err, twin.ErrStore):
		q := newProblem(http.StatusServiceUnavailable, "store-unavailable", "the store could not save the change; nothing was changed, try again")
		q.Reason = storeReason(err)
		q.header = http.Header{"Retry-After": {"1"}}
		q.log = true
		return q
	case errors.Is(err, tokens.ErrUnavailable):
		q := newProblem(http.StatusServiceUnavailable, "store-unavailable", "the token could not be checked: the store does not answer; try again")
		q.Reason = storeReason(err)
		q.header = http.Header{"Retry-After": {"1"}}
		return q
	case errors.Is(err, twin.ErrReadOnly):
		return newProblem(http.StatusServiceUnavailable, "read-only", "this server is read only")
	case errors.Is(err, ErrNotReady):
		q := newProblem(http.StatusServiceUnavailable, "not-ready", "the city is still loading")
		q.header = http.Header{"Retry-After": {"1"}}
		return q
	case errors.As(err, &mbe), errors.Is(err, ErrTooLarge), errors.Is(err, sensors.ErrTooLarge):
		return newProblem(http.StatusRequestEntityTooLarge, "too-large", "the request body is larger than the limit of this server")
	case errors.Is(err, ErrUnsupportedMediaType):
		return newProblem(http.StatusUnsupportedMediaType, "unsupported-media-type", err.Error())
	case errors.As(err, &rerr):
		status, slug := http.StatusForbidden, "forbidden"
		if errors.Is(err, ErrUnauthorized) {
			status, slug = http.StatusUnauthorized, "unauthorized"
		}
		q := newProblem(status, slug, rerr.Error())
		for _, f := range rerr.Fields {
			q.Errors = append(q.Errors, FieldReason{Field: f, Reason: "the role " + string(rerr.Principal.Role) + " may not change it"})
		}
		if status == http.StatusUnauthorized {
			q.header = http.Header{"Www-Authenticate": {`Bearer realm="citytwin"`}}
		}
		return q
	case errors.Is(err, ErrUnauthorized):
		q := newProblem(http.StatusUnauthorized, "unauthorized", err.Error())
		q.header = http.Header{"Www-Authenticate": {`Bearer realm="citytwin"`}}
		return q
	case errors.Is(err, ErrForbidden):
		return newProblem(http.StatusForbidden, "forbidden", err.Error())
	case errors.As(err, &ite) && errors.Is(err, incidents.ErrBadTransition):
		q := newProblem(http.StatusConflict, "bad-transition", err.Error())
		q.State = string(ite.State)
		for _, a := range actionsFrom(ite.State) {
			q.Allowed = append(q.Allowed, string(a))
		}
		return q
	case errors.Is(err, incidents.ErrNotAllowed):
		return newProblem(http.StatusForbidden, "forbidden", err.Error())
	case errors.Is(err, incidents.ErrVersionMismatch), errors.Is(err, twin.ErrConflict):
		return newProblem(http.StatusPreconditionFailed, "version-mismatch", err.Error())
	case errors.Is(err, incidents.ErrNotFound):
		return newProblem(http.StatusNotFound, "not-found", err.Error())
	case errors.Is(err, incidents.ErrExists):
		return newProblem(http.StatusConflict, "exists", err.Error())
	case errors.As(err, &ife):
		return fieldProblem(err, ife.Field, ife.Reason)
	case errors.Is(err, incidents.ErrUnknownClass):
		return slugProblem(fieldProblem(err, "class", err.Error()), "unknown-class")
	case errors.Is(err, incidents.ErrUnknownComponent):
		return slugProblem(fieldProblem(err, "code", err.Error()), "unknown-component")
	case errors.Is(err, incidents.ErrOutsideCity):
		q := slugProblem(fieldProblem(err, "location", err.Error()), "outside-city")
		q.Status, q.Title = http.StatusUnprocessableEntity, http.StatusText(http.StatusUnprocessableEntity)
		return q
	case errors.Is(err, incidents.ErrNoDepartment):
		return newProblem(http.StatusUnprocessableEntity, "no-department", err.Error())
	case errors.As(err, &sfe):
		return fieldProblem(err, sfe.Field, sfe.Reason)
	case errors.As(err, &spe):
		return fieldProblem(err, cmp.Or(spe.Field, "body"), spe.Error())
	case errors.Is(err, sensors.ErrNotFound):
		return newProblem(http.StatusNotFound, "not-found", err.Error())
	case errors.Is(err, sensors.ErrVersionMismatch):
		return newProblem(http.StatusPreconditionFailed, "version-mismatch", err.Error())
	case errors.Is(err, sensors.ErrExists):
		return newProblem(http.StatusConflict, "exists", err.Error())
	case errors.Is(err, sensors.ErrInvalid), errors.Is(err, sensors.ErrMalformed):
		return newProblem(http.StatusBadRequest, "invalid-input", err.Error())
	case errors.Is(err, incidents.ErrInvalid):
		return newProblem(http.StatusBadRequest, "invalid-input", err.Error())
	case errors.As(err, &in):
		q := newProblem(http.StatusBadRequest, "invalid-input", err.Error())
		q.Errors = in.Errors
		if len(in.Errors) == 1 {
			q.Field, q.Reason = in.Errors[0].Field, in.Errors[0].Reason
		}
		return q
	case errors.As(err, &pce):
		return fieldProblem(err, "code", pce.Field+": "+pce.Reason)
	case errors.As(err, &gce):
		return fieldProblem(err, "code", gce.Field+": "+gce.Reason)
	case errors.As(err, &pfe):
		return fieldProblem(err, pfe.Field, pfe.Reason)
	case errors.As(err, &gfe):
		return fieldProblem(err, gfe.Field, gfe.Reason)
	case errors.Is(err, parts.ErrInvalidCode), errors.Is(err, grid.ErrInvalidCode),
		errors.Is(err, parts.ErrInvalid), errors.Is(err, parts.ErrInvalidQuery),
		errors.Is(err, parts.ErrUnknownClass), errors.Is(err, grid.ErrInvalid),
		errors.Is(err, twin.ErrInvalidChange), errors.Is(err, ErrBadRequest),
		errors.Is(err, tokens.ErrInvalidRole), errors.Is(err, tokens.ErrInvalidTTL),
		errors.Is(err, tokens.ErrMalformed), errors.Is(err, tokens.ErrAmbiguous):
		return newProblem(http.StatusBadRequest, "invalid-input", err.Error())
	case errors.As(err, &tfe):
		return fieldProblem(err, tfe.Field, tfe.Error())
	case errors.Is(err, tiles.ErrTileRange):
		return newProblem(http.StatusBadRequest, "tile-out-of-range", err.Error())
	case errors.Is(err, parts.ErrRetired):
		return newProblem(http.StatusGone, "retired", err.Error()+" (作废)")
	case errors.Is(err, parts.ErrNotFound), errors.Is(err, grid.ErrNotFound), errors.Is(err, tiles.ErrUnknownLayer),
		errors.Is(err, tokens.ErrNotFound):
		return newProblem(http.StatusNotFound, "not-found", err.Error())
	case errors.Is(err, parts.ErrExists), errors.Is(err, grid.ErrExists):
		return newProblem(http.StatusConflict, "exists", err.Error())
	case errors.Is(err, parts.ErrVersionMismatch), errors.Is(err, grid.ErrVersionMismatch):
		return newProblem(http.StatusPreconditionFailed, "version-mismatch", err.Error())
	case errors.As(err, &he):
		return echoProblem(he)
	case errors.Is(err, context.DeadlineExceeded):
		q := newProblem(http.StatusServiceUnavailable, "timeout", "the request took too long")
		q.log = true
		return q
	case errors.Is(err, context.Canceled):
		return newProblem(http.StatusServiceUnavailable, "canceled", "the request was canceled")
	}
	q := newProblem(http.StatusInternalServerError, "internal", "an internal error occurred; quote the request id when you report it")
	q.log = true
	return q
}

// slugProblem gives q the type of slug.
func slugProblem(q *Problem, slug string) *Problem {
	q.Type = problemTypeBase + slug
	return q
}

func fieldProblem(err error, field, reason string) *Problem {
	q := newProblem(http.StatusBadRequest, "invalid-input", err.Error())
	q.Field, q.Reason = field, reason
	q.Errors = []FieldReason{{Field: field, Reason: reason}}
	return q
}

// echoProblem turns echo's own errors (no route 404, 405, and the like)
// into problems; only their status and their short message are used.
func echoProblem(he *echo.HTTPError) *Problem {
	if he.Internal != nil {
		var mbe *http.MaxBytesError
		if errors.As(he.Internal, &mbe) {
			return problemOf(mbe)
		}
	}
	status := he.Code
	if status < 400 || status > 599 {
		status = http.StatusInternalServerError
	}
	detail := ""
	if m, ok := he.Message.(string); ok && m != http.StatusText(status) {
		detail = m
	}
	q := newProblem(status, strings.ReplaceAll(strings.ToLower(http.StatusText(status)), " ", "-"), detail)
	if status >= 500 {
		q.log = true
		q.Detail = "an internal error occurred; quote the request id when you report it"
	}
	return q
}

// handleError is the echo HTTPErrorHandler: it writes the problem document
// and logs unexpected errors with their cause and the request id.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	q := *problemOf(err) // copy: a *Problem may be shared
	q.Instance = c.Request().URL.Path
	q.RequestID = requestIDOf(c)
	if q.log {
		s.log.LogAttrs(c.Request().Context(), slog.LevelError, "request failed",
			slog.String("request_id", q.RequestID), slog.String("method", c.Request().Method),
			slog.String("path", q.Instance), slog.Int("status", q.Status), slog.String("error", err.Error()))
	}
	for k, vs := range q.header {
		for _, v := range vs {
			c.Response().Header().Add(k, v)
		}
	}
	if c.Request().Method == http.MethodHead {
		c.Response().Header().Set(echo.HeaderContentType, "application/problem+json")
		_ = c.NoContent(q.Status)
		return
	}
	writeJSON(c, q.Status, "application/problem+json", &q)
}
