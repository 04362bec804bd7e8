package api

import (
	"fmt"
	"math"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
)

// limiter is a set of token buckets, one per key (a token ID, or a client
// IP for anonymous callers): each holds up to burst requests and refills at
// rate requests per second. Idle buckets are dropped so that a scan of many
// IPs cannot grow it without bound. A nil *limiter allows everything.
type limiter struct {
	rate  float64 // tokens per second
	burst float64
	now   func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
	swept   time.Time
}

type bucket struct {
	tokens float64
	last   time.Time
}

// newLimiter returns a limiter, or nil (no limit) when rate <= 0.
func newLimiter(rate float64, burst int, now func() time.Time) *limiter {
	if rate <= 0 {
		return nil
	}
	if burst < 1 {
		burst = max(1, int(math.Ceil(rate)))
	}
	if now == nil {
		now = time.Now
	}
	return &limiter{rate: rate, burst: float64(burst), now: now, buckets: make(map[string]*bucket)}
}

// allow takes one request from key's bucket. When the bucket is empty it
// returns false and how long until a request would be allowed.
func (l *limiter) allow(key string) (bool, time.Duration) {
	if l == nil {
		return true, 0
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweepLocked(now)
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[key] = b
	}
	if dt := now.Sub(b.last).Seconds(); dt > 0 {
		b.tokens = math.Min(l.burst, b.tokens+dt*l.rate)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	wait := time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
	return false, wait
}

// sweepLocked drops, at most once a minute, the buckets that have been idle
// long enough to be full again: forgetting them changes nothing.
func (l *limiter) sweepLocked(now time.Time) {
	if now.Sub(l.swept) < time.Minute {
		return
	}
	l.swept = now
	full := time.Duration(l.burst / l.rate * float64(time.Second))
	for k, b := range l.buckets {
		if now.Sub(b.last) > full {
			delete(l.buckets, k)
		}
	}
}

// retryAfterSeconds rounds a wait up to whole seconds for Retry-After
// (at least 1).
func retryAfterSeconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}

// Limits are the rate limits of the auth middleware beyond
// Config.RateLimit, each a token bucket per client. They apply only while
// Config.RateLimit.PerSecond > 0 (0 turns every limit off).
//
// A client is a token (by its ID, wherever it comes from), or for the
// public the client address (see Config.TrustedProxies).
type Limits struct {
	// Public, Inspector, Department and Admin limit the API requests
	// (everything but tiles) of each role; PerSecond 0 means
	// Config.RateLimit.
	Public, Inspector, Department, Admin RateLimit
	// Tiles limits tile and TileJSON requests per client, in buckets of
	// their own: a map never spends a client's API requests, and the API
	// never starves a map. PerSecond 0: tiles are not limited.
	Tiles RateLimit
	// Lookup limits, per client address, the requests that would make the
	// server read its token store (a token not in the verifier's cache:
	// unknown, expired, revoked, or first seen this second) and the ones
	// with a bad or missing Authorization header that are refused. It is
	// taken before the store is asked, so a flood of made-up tokens costs
	// the store at most Lookup per address. PerSecond 0: not limited.
	Lookup RateLimit
}

// DefaultLimits: the API limit of every role is Config.RateLimit; tiles
// 400/s with bursts of 800 per client, which one user panning and zooming
// a map never reaches (a full-HD view is 20-60 tiles per layer, a fast pan
// or a zoom a few views a second); 30 token lookups a second per address
// with bursts of 60.
func DefaultLimits() Limits {
	return Limits{
		Tiles:  RateLimit{PerSecond: 400, Burst: 800},
		Lookup: RateLimit{PerSecond: 30, Burst: 60},
	}
}

// validate checks every limit; the error is a *ConfigError naming it.
func (l Limits) validate() error {
	for _, f := range l.fields() {
		if f.lim.PerSecond < 0 {
			return &ConfigError{Field: "Limits." + f.name + ".PerSecond", Reason: fmt.Sprintf("%v is negative", f.lim.PerSecond)}
		}
		if f.lim.PerSecond > 0 && f.lim.Burst <= 0 {
			return &ConfigError{Field: "Limits." + f.name + ".Burst", Reason: fmt.Sprintf("%d must be positive when PerSecond is set", f.lim.Burst)}
		}
	}
	return nil
}

type namedLimit struct {
	name string
	lim  *RateLimit
}

// fields names each limit as ParseLimits reads it.
func (l *Limits) fields() []namedLimit {
	return []namedLimit{
		{"Public", &l.Public}, {"Inspector", &l.Inspector}, {"Department", &l.Department}, {"Admin", &l.Admin},
		{"Tiles", &l.Tiles}, {"Lookup", &l.Lookup},
	}
}

// ParseLimits reads limits of the form "tiles=400:800,admin=500:1000"
// (name=PerSecond:Burst, names public, inspector, department, admin,
// tiles, lookup) over base: the limits not named keep base's values.
func ParseLimits(s string, base Limits) (Limits, error) {
	out := base
	fields := out.fields()
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, val, ok := strings.Cut(item, "=")
		rate, burst, ok2 := strings.Cut(val, ":")
		i := slices.IndexFunc(fields, func(f namedLimit) bool { return strings.EqualFold(f.name, strings.TrimSpace(name)) })
		if !ok || !ok2 || i < 0 {
			return Limits{}, &ConfigError{Field: "Limits", Reason: fmt.Sprintf("%q is not NAME=PER_SECOND:BURST with NAME public, inspector, department, admin, tiles or lookup", item)}
		}
		r, err := strconv.ParseFloat(strings.TrimSpace(rate), 64)
		if err != nil || r < 0 || math.IsInf(r, 0) || math.IsNaN(r) {
			return Limits{}, &ConfigError{Field: "Limits." + fields[i].name, Reason: fmt.Sprintf("%q is not a rate per second", rate)}
		}
		b, err := strconv.Atoi(strings.TrimSpace(burst))
		if err != nil || b < 0 {
			return Limits{}, &ConfigError{Field: "Limits." + fields[i].name, Reason: fmt.Sprintf("%q is not a burst", burst)}
		}
		*fields[i].lim = RateLimit{PerSecond: r, Burst: b}
	}
	return out, out.validate()
}

// limiters are the buckets of one auth middleware.
type limiters struct {
	api    map[Role]*limiter // nil entries: no limit
	tiles  *limiter
	lookup *limiter
}

// newLimiters builds the buckets of cfg: none when RateLimit is off.
func newLimiters(cfg Config) limiters {
	if cfg.RateLimit.PerSecond <= 0 {
		return limiters{}
	}
	role := func(r RateLimit) *limiter {
		if r.PerSecond <= 0 {
			r = cfg.RateLimit
		}
		return newLimiter(r.PerSecond, r.Burst, nil)
	}
	l := cfg.Limits
	return limiters{
		api: map[Role]*limiter{
			RolePublic: role(l.Public), RoleInspector: role(l.Inspector),
			RoleDepartment: role(l.Department), RoleAdmin: role(l.Admin),
		},
		tiles:  newLimiter(l.Tiles.PerSecond, l.Tiles.Burst, nil),
		lookup: newLimiter(l.Lookup.PerSecond, l.Lookup.Burst, nil),
	}
}

// forRequest is the limiter of a request: tiles apart, else the role's.
// A role without a limiter of its own takes the public's.
func (ls limiters) forRequest(route string, r Role) *limiter {
	if strings.HasPrefix(route, "/tiles/") {
		return ls.tiles
	}
	if l, ok := ls.api[r]; ok {
		return l
	}
	return ls.api[RolePublic]
}

// take takes one request from key's bucket of l: nil, or a 429 problem.
func take(l *limiter, key string) error {
	if ok, wait := l.allow(key); !ok {
		return rateLimited(wait)
	}
	return nil
}

// clientIP is the address a request is rate-limited by. It is the peer
// address, unless the peer is in a trusted proxy network: then the
// right-most address of X-Forwarded-For that is not itself a trusted
// proxy (the last hop a trusted proxy saw), or, when every listed address
// is trusted, the left-most. Addresses left of the first untrusted one are
// whatever the client wrote and are never used. An entry that is not an
// address stops the walk at the hop after it. Without trusted proxies
// X-Forwarded-For is ignored.
func clientIP(r *http.Request, trusted []netip.Prefix) string {
	peer := peerAddr(r.RemoteAddr)
	if !peer.IsValid() {
		return r.RemoteAddr
	}
	if !isTrusted(peer, trusted) {
		return peer.String()
	}
	client := peer
	hops := r.Header.Values(echo.HeaderXForwardedFor)
	for i := len(hops) - 1; i >= 0; i-- {
		list := strings.Split(hops[i], ",")
		for j := len(list) - 1; j >= 0; j-- {
			a, err := netip.ParseAddr(strings.TrimSpace(list[j]))
			if err != nil {
				return client.String()
			}
			client = a.Unmap()
			if !isTrusted(client, trusted) {
				return client.String()
			}
		}
	}
	return client.String()
}

// peerAddr parses a RemoteAddr "host:port" (or a bare address).
func peerAddr(remote string) netip.Addr {
	if ap, err := netip.ParseAddrPort(remote); err == nil {
		return ap.Addr().Unmap()
	}
	if a, err := netip.ParseAddr(remote); err == nil {
		return a.Unmap()
	}
	return netip.Addr{}
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// ParsePrefixes reads a comma-separated list of CIDRs ("10.0.0.0/8,
// fd00::/8"); a bare address is a single-address network.
func ParsePrefixes(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		p, err := netip.ParsePrefix(item)
		if err != nil {
			a, aerr := netip.ParseAddr(item)
			if aerr != nil {
				return nil, &ConfigError{Field: "TrustedProxies", Reason: fmt.Sprintf("%q is not a CIDR or an address", item)}
			}
			p = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		}
		out = append(out, p.Masked())
	}
	return out, nil
}
