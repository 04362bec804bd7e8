package api

import (
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/netip"
	"os"
	"runtime"
	"time"

	"citytwin/parts"
)

// Config configures a Server. Start from DefaultConfig and change fields.
type Config struct {
	// Addr is the listen address of cmd (Serve takes a listener).
	Addr string
	// AllowAnonymous lets requests without a token read as the public.
	// When false, every request but the ops endpoints needs a token.
	AllowAnonymous bool
	// CORSOrigins are the origins allowed to call the API from a browser;
	// "*" allows any. Empty disables CORS headers.
	CORSOrigins []string
	// BodyLimit is the largest request body in bytes (413 above it).
	BodyLimit int64
	// MaxLimit is the largest page size a client may ask for (400 above).
	MaxLimit int
	// DefaultLimit is the page size when the client gives none.
	DefaultLimit int
	// MaxCodes is the most codes of one GET /parts?codes= batch.
	MaxCodes int
	// MaxK is the largest k of GET /parts/nearest.
	MaxK int
	// MaxChanges is the most change records of one POST /parts/changes.
	MaxChanges int
	// MaxVertices is the most vertices of a query polygon (POST /parts/within).
	MaxVertices int
	// RateLimit limits requests per token (applied by the auth middleware).
	RateLimit RateLimit
	// TileMaxAge is the Cache-Control max-age of tiles; keep it short, tiles
	// change within a second of a write.
	TileMaxAge time.Duration
	// ShutdownTimeout bounds the wait for in-flight requests in Serve.
	ShutdownTimeout time.Duration
	// RouteTimeout is the deadline of a request, from routing to the end of
	// its handler: the handler's context is cancelled then and the answer
	// is a 503 problem (counted by route in /metrics).
	RouteTimeout time.Duration
	// TileTimeout is the deadline of a tile request (/tiles/...), shorter:
	// a map asks for many at once and a late tile is a useless tile.
	TileTimeout time.Duration
	// ReadHeaderTimeout bounds the reading of a request's headers.
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds the reading of a whole request, body included: a
	// client that dribbles its body is cut off (408) then.
	ReadTimeout time.Duration
	// WriteTimeout bounds a request from the end of its headers to the end
	// of the answer; longer than RouteTimeout so that the 503 of a request
	// over its deadline still reaches the client.
	WriteTimeout time.Duration
	// IdleTimeout bounds the wait for the next request on a keep-alive
	// connection.
	IdleTimeout time.Duration
	// MaxHeaderBytes bounds the request line and headers (431 above it).
	MaxHeaderBytes int
	// MaxEventClients bounds the live-feed (GET /events) streams open at
	// once; past it a new one gets 503 busy (0: no bound).
	MaxEventClients int
	// HeavyQueries bounds the expensive queries that run at once: POST
	// /parts/within, and GET /parts and /parts/counts over a box of more
	// than HeavyArea square degrees (or none). The others wait for a slot
	// up to HeavyQueueWait, then answer 503 (busy, Retry-After), so that
	// lookups, edits and tiles keep cores to run on. 0: no bound.
	HeavyQueries int
	// HeavyQueueWait is the longest wait for a slot of HeavyQueries.
	HeavyQueueWait time.Duration
	// HeavyArea is the box, in square degrees, over which a search or a
	// count is expensive (0.01: about 10 x 11 km at 30 degrees north).
	HeavyArea float64
	// Logger receives access and error logs; nil discards them.
	Logger *slog.Logger
	// AccessLog logs every request at INFO; when false only 5xx answers
	// are logged (metrics count every request either way).
	AccessLog bool
	// AccessLogRate bounds the access log to this many lines a second
	// (and as many again for 5xx answers, so errors are never crowded
	// out); the lines past it are counted and reported in one "access log
	// skipped" line. 0: no bound.
	AccessLogRate int
	// Static, when set, holds the map page served at / (index.html, its
	// scripts and styles, vendor/ for MapLibre GL JS): see package web.
	Static fs.FS
	// Limits are the rate limits beyond RateLimit: per role, tiles apart
	// from the API, and token-store lookups per address (see Limits).
	Limits Limits
	// Health, when set, is asked by /readyz for the store's state and the
	// change feed's position (package app sets it).
	Health Health
	// TrustedProxies are the networks of the reverse proxies in front of
	// the server: X-Forwarded-For counts (for rate limits and logs) only
	// when the peer is in one of them. None by default: the peer address
	// is the client.
	TrustedProxies []netip.Prefix
}

// RateLimit is a token bucket: PerSecond requests a second on average, up
// to Burst at once. PerSecond 0 disables limiting.
type RateLimit struct {
	PerSecond float64
	Burst     int
}

// DefaultConfig returns the defaults: listen on :8080, anonymous reads
// allowed, 10 MB bodies, pages of 100 up to 10,000, 50 req/s per token with
// bursts of 100, 1 s tile max-age, 15 s shutdown, a 10 s deadline per
// request (5 s for tiles), 5 s to read the headers, 30 s to read a request
// and to answer it, 2 min idle keep-alive, 64 KiB of headers, logs as text
// to stderr with at most 50 access lines a second, half the CPUs (at least
// one) for expensive queries with a 2 s wait for a slot.
func DefaultConfig() Config {
	return Config{
		MaxEventClients:   1000,
		Addr:              ":8080",
		AllowAnonymous:    true,
		BodyLimit:         10 << 20,
		MaxLimit:          10000,
		DefaultLimit:      100,
		MaxCodes:          1000,
		MaxK:              1000,
		MaxChanges:        10000,
		MaxVertices:       5000,
		RateLimit:         RateLimit{PerSecond: 50, Burst: 100},
		TileMaxAge:        time.Second,
		ShutdownTimeout:   15 * time.Second,
		RouteTimeout:      10 * time.Second,
		TileTimeout:       5 * time.Second,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		Logger:            slog.New(slog.NewTextHandler(os.Stderr, nil)),
		AccessLog:         true,
		AccessLogRate:     50,
		HeavyQueries:      max(1, runtime.GOMAXPROCS(0)/2),
		HeavyQueueWait:    2 * time.Second,
		HeavyArea:         0.01,
		Limits:            DefaultLimits(),
	}
}

// Validate checks the configuration; the error is a *ConfigError.
func (c Config) Validate() error {
	bad := func(field, format string, args ...any) error {
		return &ConfigError{Field: field, Reason: fmt.Sprintf(format, args...)}
	}
	switch {
	case c.BodyLimit <= 0:
		return bad("BodyLimit", "%d is not a positive number of bytes", c.BodyLimit)
	case c.MaxLimit <= 0 || c.MaxLimit > parts.MaxLimit:
		return bad("MaxLimit", "%d is not in 1..%d", c.MaxLimit, parts.MaxLimit)
	case c.DefaultLimit <= 0 || c.DefaultLimit > c.MaxLimit:
		return bad("DefaultLimit", "%d is not in 1..MaxLimit (%d)", c.DefaultLimit, c.MaxLimit)
	case c.MaxCodes <= 0:
		return bad("MaxCodes", "%d is not positive", c.MaxCodes)
	case c.MaxK <= 0 || c.MaxK > parts.MaxK:
		return bad("MaxK", "%d is not in 1..%d", c.MaxK, parts.MaxK)
	case c.MaxChanges <= 0:
		return bad("MaxChanges", "%d is not positive", c.MaxChanges)
	case c.MaxVertices < 4:
		return bad("MaxVertices", "%d is less than the 4 points of the smallest ring", c.MaxVertices)
	case c.RateLimit.PerSecond < 0:
		return bad("RateLimit.PerSecond", "%v is negative", c.RateLimit.PerSecond)
	case c.RateLimit.PerSecond > 0 && c.RateLimit.Burst <= 0:
		return bad("RateLimit.Burst", "%d must be positive when PerSecond is set", c.RateLimit.Burst)
	case c.TileMaxAge < 0:
		return bad("TileMaxAge", "%v is negative", c.TileMaxAge)
	case c.ShutdownTimeout < 0:
		return bad("ShutdownTimeout", "%v is negative", c.ShutdownTimeout)
	case c.RouteTimeout <= 0:
		return bad("RouteTimeout", "%v is not a positive duration", c.RouteTimeout)
	case c.TileTimeout <= 0:
		return bad("TileTimeout", "%v is not a positive duration", c.TileTimeout)
	case c.ReadHeaderTimeout <= 0:
		return bad("ReadHeaderTimeout", "%v is not a positive duration", c.ReadHeaderTimeout)
	case c.ReadTimeout <= 0:
		return bad("ReadTimeout", "%v is not a positive duration", c.ReadTimeout)
	case c.WriteTimeout <= max(c.RouteTimeout, c.TileTimeout):
		return bad("WriteTimeout", "%v is not longer than the request deadlines (RouteTimeout %v, TileTimeout %v): their 503 would not reach the client", c.WriteTimeout, c.RouteTimeout, c.TileTimeout)
	case c.IdleTimeout <= 0:
		return bad("IdleTimeout", "%v is not a positive duration", c.IdleTimeout)
	case c.HeavyQueries < 0:
		return bad("HeavyQueries", "%d is negative", c.HeavyQueries)
	case c.HeavyQueries > 0 && c.HeavyQueueWait <= 0:
		return bad("HeavyQueueWait", "%v is not a positive duration", c.HeavyQueueWait)
	case c.HeavyArea < 0:
		return bad("HeavyArea", "%v is negative", c.HeavyArea)
	case c.AccessLogRate < 0:
		return bad("AccessLogRate", "%d is negative", c.AccessLogRate)
	case c.MaxHeaderBytes < 1024:
		return bad("MaxHeaderBytes", "%d is less than 1024", c.MaxHeaderBytes)
	}
	if err := c.Limits.validate(); err != nil {
		return err
	}
	for _, o := range c.CORSOrigins {
		if o == "" {
			return bad("CORSOrigins", "an empty origin")
		}
	}
	return nil
}

func (c Config) logger() *slog.Logger {
	if c.Logger == nil {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return c.Logger
}
