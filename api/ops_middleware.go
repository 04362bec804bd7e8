package api

import (
	"context"
	"crypto/rand"
	"encoding/binary"
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
	"unsafe"

	"github.com/labstack/echo/v4"
)

// ops is the outer middleware of every request: requestID, then
// accessLog around recover around deadline, in one closure so that they
// share their clock readings (time.Now is two vDSO calls): the deadline
// counts from the access log's start, and the access log's duration ends
// when the deadline is checked, unless an error answer is written after.
//
// The middleware of this file are not inlined: inlined into the wrapper
// of a method value (s.ops), a constructor's closure is compiled as a
// copy in which nothing is inlined and everything it makes escapes.
//
//go:noinline
func (s *Server) ops(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		s.requestID(c)
		start := time.Now()
		end, err := s.recover(c, next, start)
		if err != nil {
			c.Error(err)
			end = time.Now()
		}
		s.accessLog(c, end.Sub(start))
		return nil
	}
}

// requestID takes a well-formed X-Request-Id from the client (up to 128 of
// A-Z a-z 0-9 . _ -) or makes one (s.ids), and echoes it in the response.
func (s *Server) requestID(c echo.Context) {
	var id []string
	if v := c.Request().Header[echo.HeaderXRequestID]; len(v) > 0 && validRequestID(v[0]) {
		id = v[:1:1] // the client's, shared read-only (Header.Get without its key's canonicalisation)
	} else {
		id = s.ids.next()
	}
	// X-Request-Id is canonical: no need for Header().Set's work.
	c.Response().Header()[echo.HeaderXRequestID] = id
}

// idGen makes the request ids of a server: 24 hex digits, 8 of a random
// prefix drawn when the server starts, then 16 of a counter through a
// keyed bijection of 64 bits (also drawn at start). Ids are unique within
// a server (2^64 of them) and, between servers, differ unless both the
// prefixes and the keyed counters meet; they look as random as the ones
// read from crypto/rand before, at the cost of an atomic add.
type idGen struct {
	prefix [8]byte // hex
	key    uint64
	n      atomic.Uint64
}

func (g *idGen) init() {
	var b [12]byte
	_, _ = rand.Read(b[:])
	hex.Encode(g.prefix[:], b[:4])
	g.key = binary.LittleEndian.Uint64(b[4:])
}

// idValue is the header value of a new id: its slice and its text in
// one allocation.
type idValue struct {
	v   [1]string
	hex [24]byte
}

// next is a new id, as the value of a header (one string, capacity 1).
func (g *idGen) next() []string {
	x := mix64(g.n.Add(1) + g.key)
	iv := new(idValue)
	b := &iv.hex
	copy(b[:8], g.prefix[:])
	for i := len(b) - 1; i >= 8; i-- {
		b[i] = hexDigits[x&0xF]
		x >>= 4
	}
	iv.v[0] = unsafe.String(&b[0], len(b)) // b is never written again
	return iv.v[:]
}

// mix64 is the finaliser of SplitMix64, a bijection on uint64 (xor-shifts
// and odd multipliers are each invertible).
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// headerValue is h.Get(key) for a key already in canonical form (the
// constants of echo and net/http): no canonicalisation on every call.
func headerValue(h http.Header, key string) string {
	if v := h[key]; len(v) > 0 {
		return v[0]
	}
	return ""
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

// requestIDOf is the request's id, as requestID set it in
// the answer's X-Request-Id header.
func requestIDOf(c echo.Context) string {
	if v := c.Response().Header()[echo.HeaderXRequestID]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// accessLog records the latency d of a request by route pattern and logs
// it: every request with Config.AccessLog, server errors only without;
// at most Config.AccessLogRate lines a second either way (5xx counted
// apart), the rest summed up in one line a second. ops has written errors
// as problems before, so that it sees the final status.
func (s *Server) accessLog(c echo.Context, d time.Duration) {
	req, res := c.Request(), c.Response()
	route := c.Path()
	if route == "" {
		route = "unmatched"
	}
	s.m.observeRequest(route, req.Method, res.Status, d)
	if !s.cfg.AccessLog && res.Status < 500 {
		return
	}
	ok, skipped := s.accessLines.allow(res.Status)
	s.logSkipped(req.Context(), skipped)
	if !ok {
		return
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
}

// recover runs s.deadline, turning a panic in a handler into a 500
// problem and a logged stack. end is when the handler returned.
func (s *Server) recover(c echo.Context, next echo.HandlerFunc, start time.Time) (end time.Time, err error) {
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
	return s.deadline(c, next, start)
}

// deadline runs next with a deadline, from start (Config.RouteTimeout, or
// TileTimeout for tiles), as a context deadline that handlers and the
// queries they call check. A request that runs past it answers 503 with a
// *DeadlineError, counted by route in /metrics. end is when next returned.
func (s *Server) deadline(c echo.Context, next echo.HandlerFunc, start time.Time) (end time.Time, err error) {
	route := c.Path()
	if isLongLived(route) {
		// A live stream has no deadline; it ends with the client or the
		// server's shutdown.
		err = next(c)
		return time.Now(), err
	}
	limit := s.cfg.RouteTimeout
	if strings.HasPrefix(route, "/tiles/") {
		limit = s.cfg.TileTimeout
	}
	req := c.Request()
	// One allocation for the context and the request that carries it:
	// WithContext, inlined, makes its copy on the stack.
	rc := new(requestCtx)
	ctx := &rc.ctx
	ctx.parent, ctx.deadline = req.Context(), start.Add(limit)
	defer ctx.stop()
	rc.req = *req.WithContext(ctx)
	c.SetRequest(&rc.req)
	err = next(c)
	end = time.Now()
	if ctx.timedOut(end) && (err != nil || !c.Response().Committed) {
		if route == "" {
			route = "unmatched"
		}
		s.m.timeouts.WithLabelValues(route).Inc()
		return end, &DeadlineError{Method: req.Method, Route: route, Limit: limit, Err: err}
	}
	return end, err
}

// requestCtx is a request under its route's deadline: the request, and
// the context it carries.
type requestCtx struct {
	ctx routeCtx
	req http.Request
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
// the cause of the real context, or, when nothing made it, the clock read
// at now.
func (c *routeCtx) timedOut(now time.Time) bool {
	if c.made.Load() {
		return context.Cause(c.ctx) == errRouteDeadline
	}
	return !now.Before(c.deadline)
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
//
//go:noinline // see ops
func (s *Server) varyAuthorization(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		if v := h[headerVary]; len(v) == 1 && v[0] == headerAcceptEncoding {
			h[headerVary] = varyAcceptEncodingAuthorization // what Add makes, but shared
		} else {
			h[headerVary] = append(v, echo.HeaderAuthorization) // Add, canonical key
		}
		return next(c)
	}
}

// varyAcceptEncodingAuthorization is the Vary of nearly every answer,
// shared by them all and never written to: its capacity is its length, so
// that a Vary added later (Header.Add, append) goes to a copy.
var varyAcceptEncodingAuthorization = []string{headerAcceptEncoding, echo.HeaderAuthorization}[:2:2]

// Headers that browsers may send and read across origins.
var (
	corsAllowHeaders  = "Authorization, Content-Type, If-Match, If-None-Match, X-Request-Id"
	corsExposeHeaders = "ETag, Location, X-Request-Id, Retry-After"
	corsAllowMethods  = "GET, HEAD, POST, PATCH, DELETE, OPTIONS"
)

// cors answers preflights and adds CORS headers for the configured origins.
//
//go:noinline // see ops
func (s *Server) cors(next echo.HandlerFunc) echo.HandlerFunc {
	anyOrigin := slices.Contains(s.cfg.CORSOrigins, "*")
	return func(c echo.Context) error {
		if len(s.cfg.CORSOrigins) == 0 {
			return next(c)
		}
		origin := headerValue(c.Request().Header, echo.HeaderOrigin)
		if origin == "" {
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
//
//go:noinline // see ops
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
