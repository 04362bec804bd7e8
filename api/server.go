package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"

	"github.com/klauspost/compress/gzhttp"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"citytwin/tiles"
	"citytwin/twin"
)

// Server is the HTTP API over one twin and its tile map. Create it with New.
type Server struct {
	cfg         Config
	twin        *twin.Twin
	tiles       *tiles.Map // nil: no tile routes answer but 404
	auth        Authenticator
	log         *slog.Logger
	metrics     *prometheus.Registry // the server's own registry, served at /metrics
	m           *serverMetrics
	promHandler http.Handler
	echo        *echo.Echo
	handler     http.Handler
	ready       atomic.Bool
	accessLines *accessSampler
	heavyGate   *heavyGate // nil: expensive queries are not bounded
	// chain is the server's middleware around the routed handler, built
	// once: echo's Use would build it again on every request.
	chain echo.HandlerFunc
	bufs  bufPool // buffers of the answers written by hand
	ids   idGen   // request ids for requests that bring none
	// gzip is serveHTTP behind gzhttp, for the requests that may be
	// answered compressed (see serve).
	gzip http.Handler
}

// New builds the server and its routes. tm may be nil (no tiles); auth may
// be nil (everybody is the public, or 401 when AllowAnonymous is false).
func New(cfg Config, tw *twin.Twin, tm *tiles.Map, auth Authenticator) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if tw == nil {
		return nil, &ConfigError{Field: "twin", Reason: "nil"}
	}
	s := &Server{
		cfg:     cfg,
		twin:    tw,
		tiles:   tm,
		auth:    auth,
		log:     cfg.logger(),
		metrics: prometheus.NewRegistry(),
	}
	s.accessLines = newAccessSampler(cfg.AccessLogRate, nil)
	s.ids.init()
	s.heavyGate = newHeavyGate(cfg.HeavyQueries, cfg.HeavyQueueWait)
	m, err := newServerMetrics(s.metrics, tw, tm)
	if err != nil {
		return nil, fmt.Errorf("api: metrics: %w", err)
	}
	s.m = m
	s.promHandler = promhttp.HandlerFor(s.metrics, promhttp.HandlerOpts{Registry: s.metrics})

	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	s.chain = withMiddleware(routed, s.ops, s.varyAuthorization, s.cors, s.bodyLimit)
	s.echo = e

	// Operations: never behind authentication.
	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/metrics", s.serveMetrics)

	authMW := s.authMiddleware()
	// Middleware per route, not per group: a group's catch-all route
	// would turn a 405 (wrong method) into a 404.
	s.registerParts(e.Group("/parts"), authMW)
	s.registerGrids(e.Group("/grids"), authMW)
	s.registerTiles(e.Group("/tiles"), authMW)
	s.registerOGC(e.Group("/ogc", authMW))
	s.registerSensors(e, authMW)
	s.registerEvents(e, authMW)
	s.registerAdmin(e, authMW)
	if err := s.registerCases(e, authMW); err != nil {
		return nil, fmt.Errorf("api: cases: %w", err)
	}
	s.registerOpenAPI(e)
	s.registerStatic(e)

	gz, err := gzhttp.NewWrapper(gzhttp.MinSize(1024), gzhttp.EnableZstd(false))
	if err != nil {
		return nil, fmt.Errorf("api: gzip: %w", err)
	}
	s.gzip = gz(http.HandlerFunc(s.serveHTTP))
	s.handler = http.HandlerFunc(s.serve)
	return s, nil
}

// Header names and values set on every answer, as net/http's canonical keys.
const (
	headerAcceptEncoding = "Accept-Encoding"
	headerVary           = "Vary"
)

// varyAcceptEncoding is the Vary that serve sets, shared by every answer
// and never written to: its capacity is its length, so that a Vary added
// later goes to a copy (see also varyAcceptEncodingAuthorization).
var varyAcceptEncoding = []string{headerAcceptEncoding}[:1:1]

// serve is the server's handler. A request that may take a compressed
// answer goes through gzhttp; one that cannot (no Accept-Encoding, or
// HEAD) gets what gzhttp would do for it, without its wrapper around the
// ResponseWriter: Vary: Accept-Encoding first (every answer may differ by
// it), then the answer as it is.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if ae := r.Header[headerAcceptEncoding]; len(ae) > 0 && ae[0] != "" && r.Method != http.MethodHead {
		s.gzip.ServeHTTP(w, r)
		return
	}
	h := w.Header()
	if v := h[headerVary]; len(v) == 0 {
		h[headerVary] = varyAcceptEncoding
	} else {
		h[headerVary] = append(v, headerAcceptEncoding) // Add, canonical key
	}
	s.route(w, r, true)
	delete(h, gzhttp.HeaderNoCompression) // as gzhttp, for an answer without a body
}

// serveHTTP serves a request that gzhttp's wrapper may compress.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) { s.route(w, r, false) }

// route is echo's ServeHTTP with the server's middleware chain built
// once (s.chain) rather than on every request: route, run, answer errors.
// plain is set when no gzhttp wrapper drops gzhttp.HeaderNoCompression
// before the headers go out: the long-lived streams that set it get one.
func (s *Server) route(w http.ResponseWriter, r *http.Request, plain bool) {
	e := s.echo
	c := e.AcquireContext()
	c.Reset(r, w)
	e.Router().Find(r.Method, echo.GetPath(r), c)
	if plain && isLongLived(c.Path()) {
		c.Response().Writer = &gzhttp.NoGzipResponseWriter{ResponseWriter: w}
	}
	if err := s.chain(c); err != nil {
		e.HTTPErrorHandler(err, c)
	}
	e.ReleaseContext(c)
}

// routed runs the handler the router found (or its 404 / 405 handler).
func routed(c echo.Context) error { return c.Handler()(c) }

// withMiddleware wraps h in mw (the first outermost) once, when a route is
// registered: echo applies a route's own middleware anew on every request.
func withMiddleware(h echo.HandlerFunc, mw ...echo.MiddlewareFunc) echo.HandlerFunc {
	for i := len(mw) - 1; i >= 0; i-- {
		h = mw[i](h)
	}
	return h
}

// Handler returns the server's http.Handler (gzip for JSON, then echo).
func (s *Server) Handler() http.Handler { return s.handler }

// SetReady sets what /readyz answers: 200 when ready, 503 before.
func (s *Server) SetReady(ready bool) { s.ready.Store(ready) }

// Serve serves HTTP on ln until ctx is done, then stops accepting
// connections and waits up to Config.ShutdownTimeout for in-flight requests
// to finish. It returns nil after a clean shutdown. Connections are bounded
// by Config.ReadHeaderTimeout, ReadTimeout (a client dribbling its body is
// cut off), WriteTimeout, IdleTimeout and MaxHeaderBytes.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		ReadTimeout:       s.cfg.ReadTimeout,
		WriteTimeout:      s.cfg.WriteTimeout,
		IdleTimeout:       s.cfg.IdleTimeout,
		MaxHeaderBytes:    s.cfg.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("api: serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	if err != nil {
		_ = srv.Close()
		return fmt.Errorf("api: shutdown: %w", err)
	}
	return nil
}
