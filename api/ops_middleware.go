package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
)

// requestID takes a well-formed X-Request-Id from the client (up to 128 of
// A-Z a-z 0-9 . _ -) or makes one, and echoes it in the response.
func (s *Server) requestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Request().Header.Get(echo.HeaderXRequestID)
		if !validRequestID(id) {
			var b [12]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		// X-Request-Id is canonical: no need for Header().Set's work.
		c.Response().Header()[echo.HeaderXRequestID] = []string{id}
		return next(c)
	}
}

func validRequestID(id string) bool {
	if len(id) == 0 || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		ch := id[i]
		if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '.' || ch == '_' || ch == '-') {
			return false
		}
	}
	return true
}

// requestIDOf is the request's id, as the requestID middleware set it in
// the answer's X-Request-Id header.
func requestIDOf(c echo.Context) string {
	if v := c.Response().Header()[echo.HeaderXRequestID]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// accessLog writes errors as problems (so that it sees the final status),
// then records its latency by route pattern and logs the request: every
// request with Config.AccessLog, server errors only without; at most
// Config.AccessLogRate lines a second either way (5xx counted apart), the
// rest summed up in one line a second.
func (s *Server) accessLog(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		if err := next(c); err != nil {
			c.Error(err)
		}
		d := time.Since(start)
		req, res := c.Request(), c.Response()
		route := c.Path()
		if route == "" {
			route = "unmatched"
		}
		s.m.observeRequest(route, req.Method, res.Status, d)
		if !s.cfg.AccessLog && res.Status < 500 {
			return nil
		}
		ok, skipped := s.accessLines.allow(res.Status)
		s.logSkipped(req.Context(), skipped)
		if !ok {
			return nil
		}
		level := slog.LevelInfo
		if res.Status >= 500 {
			level = slog.LevelWarn
		}
		s.log.LogAttrs(req.Context(), level, "request",
			slog.String("request_id", requestIDOf(c)),
			slog.String("method", req.Method),
			slog.String("path", req.URL.Path),
			slog.String("route", route),
			slog.Int("status", res.Status),
			slog.Int64("bytes", res.Size),
			slog.Duration("duration", d),
			slog.String("principal", principalOf(c).String()),
			slog.String("remote", c.RealIP()),
		)
		return nil
	}
}

// recover turns a panic in a handler into a 500 problem and a logged stack.
func (s *Server) recover(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				s.log.LogAttrs(c.Request().Context(), slog.LevelError, "panic",
					slog.String("request_id", requestIDOf(c)),
					slog.String("panic", fmt.Sprint(r)),
					slog.String("stack", string(debug.Stack())))
				err = fmt.Errorf("api: panic serving %s %s", c.Request().Method, c.Request().URL.Path)
			}
		}()
		return next(c)
	}
}

// deadline gives the request a deadline (Config.RouteTimeout, or
// TileTimeout for tiles) as a context deadline that handlers and the
// queries they call check. A request that runs past it answers 503 with a
// *DeadlineError, counted by route in /metrics.
func (s *Server) deadline(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		route := c.Path()
		if isLongLived(route) {
			// A live stream has no deadline; it ends with the client or
			// the server's shutdown.
			return next(c)
		}
		limit := s.cfg.RouteTimeout
		if strings.HasPrefix(route, "/tiles/") {
			limit = s.cfg.TileTimeout
		}
		req := c.Request()
		ctx := &routeCtx{parent: req.Context(), deadline: time.Now().Add(limit)}
		defer ctx.stop()
		c.SetRequest(req.WithContext(ctx))
		err := next(c)
		if ctx.timedOut() && (err != nil || !c.Response().Committed) {
			if route == "" {
				route = "unmatched"
			}
			s.m.timeouts.WithLabelValues(route).Inc()
			return &DeadlineError{Method: req.Method, Route: route, Limit: limit, Err: err}
		}
		return err
	}
}

// routeCtx is the context of a request under its route's deadline: that
// of context.WithDeadlineCause(parent, deadline, errRouteDeadline), made
// only when a handler first waits on Done or asks a Value (Err and
// Deadline answer without it while the deadline is ahead). A cheap answer
// (a lookup never looks at its context) so skips the timer and the link
// to the parent's cancellation that would cost more than the answer.
type routeCtx struct {
	parent   context.Context
	deadline time.Time
	once     sync.Once
	made     atomic.Bool
	ctx      context.Context
	cancel   context.CancelFunc
}

// real is the context.WithDeadlineCause context, made on first use.
func (c *routeCtx) real() context.Context {
	c.once.Do(func() {
		c.ctx, c.cancel = context.WithDeadlineCause(c.parent, c.deadline, errRouteDeadline)
		c.made.Store(true)
	})
	return c.ctx
}

// Deadline is the route's deadline, or the parent's if that comes first.
func (c *routeCtx) Deadline() (time.Time, bool) {
	if d, ok := c.parent.Deadline(); ok && d.Before(c.deadline) {
		return d, true
	}
	return c.deadline, true
}

// Done is the real context's channel.
func (c *routeCtx) Done() <-chan struct{} { return c.real().Done() }

// Err is nil while the parent is live and the deadline ahead, else the
// real context's error.
func (c *routeCtx) Err() error {
	if !c.made.Load() && time.Now().Before(c.deadline) && c.parent.Err() == nil {
		return nil
	}
	return c.real().Err()
}

// Value is the real context's value (context.Cause asks it too).
func (c *routeCtx) Value(key any) any { return c.real().Value(key) }

// timedOut reports whether the request ran past its route's deadline:
// the cause of the real context, or, when nothing made it, the clock.
func (c *routeCtx) timedOut() bool {
	if c.made.Load() {
		return context.Cause(c.ctx) == errRouteDeadline
	}
	return !time.Now().Before(c.deadline)
}

// stop releases the real context's timer, if it was made.
func (c *routeCtx) stop() {
	if c.made.Load() {
		c.cancel()
	}
}

// varyAuthorization marks every answer as depending on the Authorization
// header: bodies differ by role (the public gets components without photo
// and note), and so does 200 against 401, so a shared cache must not hand
// one caller's answer to another.
func (s *Server) varyAuthorization(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h[echo.HeaderVary] = append(h[echo.HeaderVary], echo.HeaderAuthorization) // Add, canonical key
		return next(c)
	}
}

// Headers that browsers may send and read across origins.
var (
	corsAllowHeaders  = "Authorization, Content-Type, If-Match, If-None-Match, X-Request-Id"
	corsExposeHeaders = "ETag, Location, X-Request-Id, Retry-After"
	corsAllowMethods  = "GET, HEAD, POST, PATCH, DELETE, OPTIONS"
)

// cors answers preflights and adds CORS headers for the configured origins.
func (s *Server) cors(next echo.HandlerFunc) echo.HandlerFunc {
	anyOrigin := slices.Contains(s.cfg.CORSOrigins, "*")
	return func(c echo.Context) error {
		origin := c.Request().Header.Get(echo.HeaderOrigin)
		if origin == "" || len(s.cfg.CORSOrigins) == 0 {
			return next(c)
		}
		h := c.Response().Header()
		h.Add(echo.HeaderVary, echo.HeaderOrigin)
		if !anyOrigin && !slices.Contains(s.cfg.CORSOrigins, origin) {
			return next(c) // no CORS headers: the browser refuses
		}
		allow := origin
		if anyOrigin {
			allow = "*"
		}
		h.Set(echo.HeaderAccessControlAllowOrigin, allow)
		if c.Request().Method == http.MethodOptions && c.Request().Header.Get(echo.HeaderAccessControlRequestMethod) != "" {
			h.Set(echo.HeaderAccessControlAllowMethods, corsAllowMethods)
			h.Set(echo.HeaderAccessControlAllowHeaders, corsAllowHeaders)
			h.Set(echo.HeaderAccessControlMaxAge, "600")
			return c.NoContent(http.StatusNoContent)
		}
		h.Set(echo.HeaderAccessControlExposeHeaders, corsExposeHeaders)
		return next(c)
	}
}

// bodyLimit refuses bodies over Config.BodyLimit (413), by Content-Length
// up front and by counting what is read.
func (s *Server) bodyLimit(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		if req.ContentLength > s.cfg.BodyLimit {
			return fmt.Errorf("%w: %d bytes, the limit is %d", ErrTooLarge, req.ContentLength, s.cfg.BodyLimit)
		}
		if req.Body != nil && req.Body != http.NoBody {
			req.Body = http.MaxBytesReader(c.Response(), req.Body, s.cfg.BodyLimit)
		}
		return next(c)
	}
}

// jsonMediaTypes are the request bodies the API reads.
var jsonMediaTypes = []string{"application/json", "application/geo+json", "application/merge-patch+json"}

// readBody reads a JSON request body (Content-Type JSON, or none).
func readBody(c echo.Context) ([]byte, error) {
	req := c.Request()
	if ct := req.Header.Get(echo.HeaderContentType); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || !slices.Contains(jsonMediaTypes, mt) {
			return nil, fmt.Errorf("%w: %q; send %s", ErrUnsupportedMediaType, ct, strings.Join(jsonMediaTypes, " or "))
		}
	}
	if req.Body == nil {
		return nil, badInput("body", "empty, want JSON")
	}
	b, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, err // *http.MaxBytesError: 413
	}
	if len(b) == 0 {
		return nil, badInput("body", "empty, want JSON")
	}
	return b, nil
}

// Conditional request headers (echo names none of them).
const (
	headerETag        = "ETag"
	headerIfMatch     = "If-Match"
	headerIfNoneMatch = "If-None-Match"
)

// etag formats a version as a strong entity tag.
func etag(version uint64) string { return `"` + strconv.FormatUint(version, 10) + `"` }

// ifMatch reads If-Match: "N", W/"N" or *. It returns 0 when the header is
// absent or *, and fails with 412 for a tag that is not a version of ours.
func ifMatch(c echo.Context) (uint64, bool, error) {
	h := strings.TrimSpace(c.Request().Header.Get(headerIfMatch))
	if h == "" {
		return 0, false, nil
	}
	if h == "*" {
		return 0, true, nil
	}
	if strings.Contains(h, ",") {
		return 0, false, badInput("If-Match", "give one entity tag, got %q", clipString(h))
	}
	t := strings.TrimPrefix(h, "W/")
	if len(t) < 3 || t[0] != '"' || t[len(t)-1] != '"' {
		return 0, false, badInput("If-Match", "%q is not an entity tag such as \"3\"", clipString(h))
	}
	v, err := strconv.ParseUint(t[1:len(t)-1], 10, 64)
	if err != nil || v == 0 {
		return 0, false, &Problem{Type: problemTypeBase + "version-mismatch", Title: http.StatusText(http.StatusPreconditionFailed),
			Status: http.StatusPreconditionFailed, Detail: fmt.Sprintf("If-Match %s is not a version of this resource", clipString(h))}
	}
	return v, true, nil
}
