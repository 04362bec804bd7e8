package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"citytwin/parts"
	"citytwin/store/gpkg"
	"citytwin/tokens"
)

// tokenCity is the test city served with TokenAuth over its own
// GeoPackage store, with one token per role issued into it.
type tokenCity struct {
	*city
	secret map[string]string // admin, inspector, water, lighting
}

func newTokenCity(t testing.TB, tweak func(*Config)) *tokenCity {
	t.Helper()
	c := newCity(t)
	if c.store == nil {
		t.Fatal("the test city has no GeoPackage store")
	}
	ctx := context.Background()
	tc := &tokenCity{city: c, secret: map[string]string{}}
	for name, role := range map[string]struct {
		r    tokens.Role
		dept string
	}{
		"admin": {tokens.Admin, ""}, "inspector": {tokens.Inspector, ""},
		"water": {tokens.Department, parts.DeptWater}, "lighting": {tokens.Department, parts.DeptLighting},
	} {
		s, _, err := tokens.Issue(ctx, c.store, role.r, role.dept, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		tc.secret[name] = s
	}
	cfg := DefaultConfig()
	cfg.Logger = nil
	cfg.RateLimit = RateLimit{}
	tweak(&cfg)
	srv, err := New(cfg, c.twin, c.tiles, NewTokenAuth(c.store, tokens.VerifierOptions{}))
	if err != nil {
		t.Fatal(err)
	}
	srv.SetReady(true)
	c.srv = srv
	return tc
}

func TestTokenAuth(t *testing.T) {
	ctx := context.Background()
	var st tokens.Memory
	a := NewTokenAuth(&st, tokens.VerifierOptions{})
	admin, atok, err := tokens.Issue(ctx, &st, tokens.Admin, "", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	dept, dtok, err := tokens.Issue(ctx, &st, tokens.Department, "water", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	unknown, _ := tokens.Generate(nil)
	tests := map[string]struct {
		secret string
		want   Principal
		ok     bool
	}{
		"admin":      {admin, Principal{Role: RoleAdmin, TokenID: atok.ID()}, true},
		"department": {dept, Principal{Role: RoleDepartment, Dept: "water", TokenID: dtok.ID()}, true},
		"unknown":    {unknown, Principal{}, false},
		"malformed":  {"not-a-token", Principal{}, false},
		"empty":      {"", Principal{}, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			p, err := a.Authenticate(ctx, tc.secret)
			if tc.ok != (err == nil) || p != tc.want {
				t.Fatalf("Authenticate = %+v, %v; want %+v ok=%v", p, err, tc.want, tc.ok)
			}
			if err != nil && !errors.Is(err, ErrUnauthorized) {
				t.Errorf("error %v does not wrap ErrUnauthorized", err)
			}
			if err != nil && tc.secret != "" && strings.Contains(err.Error(), tc.secret) {
				t.Errorf("error %q quotes the token", err)
			}
		})
	}
}

// failingStore is a token store that is down.
type failingStore struct{}

func (failingStore) PutToken(context.Context, tokens.Token) error { return nil }

func (failingStore) TokenByHash(context.Context, []byte) (tokens.Token, error) {
	return tokens.Token{}, errors.New("sqlite: disk I/O error at /secret/path")
}

// TestAuthStoreDown checks that a store failure is a 503 (the store is
// unavailable: try again) that hides the store's text, not a 401 that
// would tell a valid token it is invalid.
func TestAuthStoreDown(t *testing.T) {
	c := newCity(t)
	cfg := DefaultConfig()
	cfg.Logger = nil
	srv, err := New(cfg, c.twin, c.tiles, NewTokenAuth(failingStore{}, tokens.VerifierOptions{}))
	if err != nil {
		t.Fatal(err)
	}
	c.srv = srv
	secret, _ := tokens.Generate(nil)
	m := problem(t, c.do(t, req{path: "/ogc/collections", token: secret}), http.StatusServiceUnavailable)
	if strings.Contains(fmt.Sprint(m), "sqlite") || strings.Contains(fmt.Sprint(m), "/secret/path") {
		t.Errorf("the problem leaks the store's error: %v", m)
	}
}

func TestAuthHeader(t *testing.T) {
	c := newTokenCity(t, func(cfg *Config) { cfg.AllowAnonymous = false })
	valid := c.secret["inspector"]
	unknown, _ := tokens.Generate(nil)
	tests := map[string]struct {
		path, header string
		status       int
		invalid      bool // the challenge says error="invalid_token"
	}{
		"no token, anonymous not allowed": {"/ogc/collections", "", 401, false},
		"no token on /parts":              {"/parts?limit=1", "", 401, false},
		"no token on tiles":               {"/tiles/parts.json", "", 401, false},
		"valid token":                     {"/ogc/collections", "Bearer " + valid, 200, false},
		"scheme in lower case":            {"/ogc/collections", "bearer " + valid, 200, false},
		"unknown token":                   {"/ogc/collections", "Bearer " + unknown, 401, true},
		"malformed token":                 {"/ogc/collections", "Bearer abc", 401, true},
		"basic auth":                      {"/ogc/collections", "Basic dXNlcjpwdw==", 401, true},
		"bearer without token":            {"/ogc/collections", "Bearer ", 401, true},
		"healthz needs no token":          {"/healthz", "", 200, false},
		"readyz needs no token":           {"/readyz", "", 200, false},
		"openapi needs no token":          {"/openapi.json", "", 200, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			rec := c.do(t, req{path: tc.path, header: map[string]string{"Authorization": tc.header}})
			if tc.status != 401 {
				if rec.Code != tc.status {
					t.Fatalf("status %d, want %d: %s", rec.Code, tc.status, rec.Body)
				}
				return
			}
			m := problem(t, rec, 401)
			ch := rec.Header().Get("WWW-Authenticate")
			if !strings.HasPrefix(ch, `Bearer realm="citytwin"`) || strings.Contains(ch, "invalid_token") != tc.invalid {
				t.Errorf("WWW-Authenticate %q (invalid_token expected: %v)", ch, tc.invalid)
			}
			if tc.header != "" && strings.Contains(fmt.Sprint(m), strings.TrimPrefix(tc.header, "Bearer ")) && len(tc.header) > 10 {
				t.Errorf("the problem quotes the token: %v", m)
			}
		})
	}
}

// TestAuthRoles checks each role's rights through the real endpoints.
func TestAuthRoles(t *testing.T) {
	c := newTokenCity(t, func(*Config) {})
	patch := func(props string) string { return `{"type":"Feature","properties":` + props + `}` }
	tests := []struct {
		name, who, method, path, body string
		status                        int
		private                       bool // the answer shows photo and note
	}{
		{"public reads a component", "", "GET", "/parts/" + codeCover, "", 200, false},
		{"public reads an OGC item", "", "GET", "/ogc/collections/parts/items/" + codeCover, "", 200, false},
		{"public may not write", "", "PATCH", "/parts/" + codeCover, patch(`{"state":"破损"}`), 401, false},
		{"inspector reads private fields", "inspector", "GET", "/parts/" + codeCover, "", 200, true},
		{"inspector reads private OGC fields", "inspector", "GET", "/ogc/collections/parts/items/" + codeCover, "", 200, true},
		{"inspector changes a state", "inspector", "PATCH", "/parts/" + codeLamp, patch(`{"state":"破损"}`), 200, true},
		{"inspector may not rename", "inspector", "PATCH", "/parts/" + codeLamp, patch(`{"name":"x"}`), 403, false},
		{"department edits its own", "water", "PATCH", "/parts/" + codeCover, patch(`{"name":"上水井盖 A"}`), 200, true},
		{"department may not edit another's", "water", "PATCH", "/parts/" + codeLamp, patch(`{"name":"x"}`), 403, false},
		{"lighting edits its lamp", "lighting", "PATCH", "/parts/" + codeLamp, patch(`{"material":"钢"}`), 200, true},
		{"department may not edit grids", "water", "PATCH", "/grids/" + gridRow0Col0, patch(`{"name":"x"}`), 403, false},
		{"admin edits anything", "admin", "PATCH", "/parts/" + codeBin, patch(`{"name":"垃圾箱 A"}`), 200, true},
		{"admin edits grids", "admin", "PATCH", "/grids/" + gridRow0Col0, patch(`{"name":"网格 A"}`), 200, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := req{method: tc.method, path: tc.path, body: tc.body}
			if tc.who != "" {
				r.token = c.secret[tc.who]
			}
			rec := c.do(t, r)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.status, clipForLog(rec.Body.Bytes()))
			}
			if tc.status != 200 || strings.HasPrefix(tc.path, "/grids") {
				problemOrOK := rec.Header().Get("Content-Type")
				if tc.status != 200 && problemOrOK != mediaProblem {
					t.Errorf("Content-Type %q, want a problem", problemOrOK)
				}
				return
			}
			p := props(t, doc(t, rec))
			_, hasPhoto := p["photo"]
			_, hasNote := p["note"]
			if hasPhoto != tc.private || hasNote != tc.private {
				t.Errorf("photo shown %v, note shown %v; want %v", hasPhoto, hasNote, tc.private)
			}
		})
	}
}

// doFrom sends a GET from a client address with an optional token.
func doFrom(c *city, ip, path, token string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, path, nil)
	r.RemoteAddr = ip + ":5000"
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	c.srv.Handler().ServeHTTP(rec, r)
	return rec
}

// TestRateLimit checks the token buckets: per token, per client address
// for anonymous callers and failed tokens, 429 with Retry-After.
func TestRateLimit(t *testing.T) {
	c := newTokenCity(t, func(cfg *Config) {
		cfg.RateLimit = RateLimit{PerSecond: 0.01, Burst: 3}
		cfg.Limits.Lookup = RateLimit{PerSecond: 0.01, Burst: 3}
	})
	path := "/ogc/conformance"
	limited := func(rec *httptest.ResponseRecorder) {
		t.Helper()
		problem(t, rec, http.StatusTooManyRequests)
		ra, err := strconv.Atoi(rec.Header().Get("Retry-After"))
		if err != nil || ra < 1 || ra > 100 {
			t.Errorf("Retry-After %q, want 1..100 seconds at 0.01/s", rec.Header().Get("Retry-After"))
		}
	}
	for i := range 3 {
		if rec := doFrom(c.city, "203.0.113.1", path, ""); rec.Code != 200 {
			t.Fatalf("anonymous request %d of the burst: %d", i+1, rec.Code)
		}
	}
	limited(doFrom(c.city, "203.0.113.1", path, ""))
	// Another address has its own bucket.
	if rec := doFrom(c.city, "203.0.113.2", path, ""); rec.Code != 200 {
		t.Errorf("another address was limited: %d", rec.Code)
	}
	// A token has its own bucket, whatever address it comes from.
	insp := c.secret["inspector"]
	for i := range 3 {
		if rec := doFrom(c.city, "203.0.113.1", path, insp); rec.Code != 200 {
			t.Fatalf("token request %d of the burst from a limited address: %d", i+1, rec.Code)
		}
	}
	limited(doFrom(c.city, "203.0.113.9", path, insp))
	if rec := doFrom(c.city, "203.0.113.9", path, c.secret["admin"]); rec.Code != 200 {
		t.Errorf("another token was limited: %d", rec.Code)
	}
	// Guessing tokens spends the address's bucket: 401s, then 429.
	for i := range 3 {
		guess, _ := tokens.Generate(nil)
		if rec := doFrom(c.city, "203.0.113.7", path, guess); rec.Code != 401 {
			t.Fatalf("guess %d: %d, want 401", i+1, rec.Code)
		}
	}
	guess, _ := tokens.Generate(nil)
	limited(doFrom(c.city, "203.0.113.7", path, guess))
	// A spoofed X-Forwarded-For from a peer that is not a trusted proxy
	// (there is none here: not even a private address is) does not buy a
	// fresh bucket.
	for _, peer := range []string{"203.0.113.1", "10.0.0.5"} {
		for range 4 {
			doFrom(c.city, peer, path, "")
		}
		r := httptest.NewRequest(http.MethodGet, path, nil)
		r.RemoteAddr = peer + ":5000"
		r.Header.Set("X-Forwarded-For", "198.51.100.77")
		rec := httptest.NewRecorder()
		c.srv.Handler().ServeHTTP(rec, r)
		limited(rec)
	}
	// Operational endpoints are never limited.
	for range 5 {
		if rec := doFrom(c.city, "203.0.113.1", "/healthz", ""); rec.Code != 200 {
			t.Fatalf("/healthz was limited: %d", rec.Code)
		}
	}
}

func TestBearerToken(t *testing.T) {
	tests := map[string]struct {
		in      string
		token   string
		present bool
		ok      bool
	}{
		"empty":           {"", "", false, true},
		"blank":           {"   ", "", false, true},
		"bearer":          {"Bearer ct_abc", "ct_abc", true, true},
		"lower case":      {"bearer ct_abc", "ct_abc", true, true},
		"extra spaces":    {"Bearer   ct_abc  ", "ct_abc", true, true},
		"basic":           {"Basic abc", "", true, false},
		"no token":        {"Bearer", "", true, false},
		"token only":      {"ct_abc", "", true, false},
		"bearer no space": {"Bearerct_abc", "", true, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			tok, present, err := bearerToken(tc.in)
			if tok != tc.token || present != tc.present || (err == nil) != tc.ok {
				t.Errorf("bearerToken(%q) = %q, %v, %v; want %q, %v, ok=%v", tc.in, tok, present, err, tc.token, tc.present, tc.ok)
			}
		})
	}
}

func FuzzBearerToken(f *testing.F) {
	for _, s := range []string{"", "Bearer ct_abc", "bearer  x ", "Basic a", "Bearer"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		tok, present, err := bearerToken(h)
		if err == nil && present && (tok == "" || strings.TrimSpace(tok) != tok) {
			t.Fatalf("bearerToken(%q) = %q: empty or untrimmed token accepted", h, tok)
		}
		if err != nil && tok != "" {
			t.Fatalf("bearerToken(%q) returned a token with an error", h)
		}
		if err != nil && strings.Contains(err.Error(), h) && len(h) > 8 {
			t.Fatalf("the error quotes the header")
		}
	})
}

// TestAuthWithoutAuthenticator: a server built without an Authenticator
// treats everybody as the public, and refuses everybody when anonymous
// access is off (it cannot check tokens).
func TestAuthWithoutAuthenticator(t *testing.T) {
	for _, anon := range []bool{true, false} {
		t.Run(fmt.Sprint("anonymous=", anon), func(t *testing.T) {
			c := newCity(t)
			cfg := DefaultConfig()
			cfg.Logger = nil
			cfg.AllowAnonymous = anon
			srv, err := New(cfg, c.twin, c.tiles, nil)
			if err != nil {
				t.Fatal(err)
			}
			c.srv = srv
			secret, _ := tokens.Generate(nil)
			rec := c.do(t, req{path: "/ogc/collections/parts/items/" + codeCover, token: secret})
			if !anon {
				problem(t, rec, http.StatusUnauthorized)
				return
			}
			m := expect(t, rec, http.StatusOK, mediaGeoJSON)
			if _, ok := props(t, m)["photo"]; ok {
				t.Error("a token nobody checked showed private fields")
			}
		})
	}
}

// TestRateLimitTrustedProxy checks that X-Forwarded-For names the client
// only from a trusted proxy, and then by its right-most untrusted address.
func TestRateLimitTrustedProxy(t *testing.T) {
	c := newTokenCity(t, func(cfg *Config) {
		cfg.RateLimit = RateLimit{PerSecond: 0.01, Burst: 2}
		cfg.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/24")}
	})
	send := func(peer, xff string) int {
		r := httptest.NewRequest(http.MethodGet, "/ogc/conformance", nil)
		r.RemoteAddr = peer + ":5000"
		if xff != "" {
			r.Header.Set("X-Forwarded-For", xff)
		}
		rec := httptest.NewRecorder()
		c.srv.Handler().ServeHTTP(rec, r)
		return rec.Code
	}
	// Two clients behind the proxy: each has its own bucket.
	for range 2 {
		if code := send("10.0.0.5", "198.51.100.1"); code != 200 {
			t.Fatalf("client 1 behind the proxy: %d", code)
		}
	}
	if code := send("10.0.0.5", "198.51.100.1"); code != 429 {
		t.Errorf("client 1 over its burst: %d, want 429", code)
	}
	if code := send("10.0.0.5", "198.51.100.2"); code != 200 {
		t.Errorf("client 2 behind the same proxy was limited with client 1: %d", code)
	}
	// Client 1 cannot escape by prepending addresses: the proxy appends
	// the address it saw, the right-most untrusted one counts.
	if code := send("10.0.0.5", "203.0.113.99, 198.51.100.1"); code != 429 {
		t.Errorf("a spoofed left-most address bought a new bucket: %d", code)
	}
	// The same header from an untrusted peer counts for nothing: its key
	// is the peer, whatever the header says.
	for range 2 {
		send("203.0.113.50", "198.51.100.3")
	}
	if code := send("203.0.113.50", "198.51.100.4"); code != 429 {
		t.Errorf("an untrusted peer changed its key with X-Forwarded-For: %d", code)
	}
}

// countingTokens counts the store lookups of tokens.
type countingTokens struct {
	tokens.Manager
	lookups atomic.Int64
}

func (c *countingTokens) TokenByHash(ctx context.Context, h []byte) (tokens.Token, error) {
	c.lookups.Add(1)
	return c.Manager.TokenByHash(ctx, h)
}

// newCountingCity serves the test city with TokenAuth over its store,
// counting the store's token lookups.
func newCountingCity(t *testing.T, tweak func(*Config)) (*city, *countingTokens) {
	t.Helper()
	c := newCity(t)
	st := &countingTokens{Manager: c.store}
	cfg := DefaultConfig()
	cfg.Logger = nil
	tweak(&cfg)
	srv, err := New(cfg, c.twin, c.tiles, NewTokenAuth(st, tokens.VerifierOptions{}))
	if err != nil {
		t.Fatal(err)
	}
	srv.SetReady(true)
	c.srv = srv
	return c, st
}

// TestUnknownTokenFlood checks that a flood of one unknown token is
// answered from the negative cache, and that a flood of made-up tokens
// from one address is cut by the Lookup bucket before the store.
func TestUnknownTokenFlood(t *testing.T) {
	c, st := newCountingCity(t, func(cfg *Config) {
		cfg.RateLimit = RateLimit{PerSecond: 1000, Burst: 1000}
		cfg.Limits.Lookup = RateLimit{PerSecond: 1000, Burst: 1000}
	})
	bad, _ := tokens.Generate(nil)
	for i := range 500 {
		rec := doFrom(c, fmt.Sprintf("203.0.113.%d", i%200), "/ogc/conformance", bad)
		if rec.Code != 401 {
			t.Fatalf("request %d with an unknown token: %d", i, rec.Code)
		}
	}
	if n := st.lookups.Load(); n != 1 {
		t.Errorf("500 requests with one unknown token made %d store lookups, want 1 (negative cache)", n)
	}

	c, st = newCountingCity(t, func(cfg *Config) { cfg.Limits.Lookup = RateLimit{PerSecond: 1, Burst: 20} })
	refused := 0
	for range 200 {
		guess, _ := tokens.Generate(nil)
		switch code := doFrom(c, "203.0.113.7", "/ogc/conformance", guess).Code; code {
		case 429:
			refused++
		case 401:
		default:
			t.Fatalf("a made-up token: %d", code)
		}
	}
	if n := st.lookups.Load(); n > 21 || refused < 179 {
		t.Errorf("200 made-up tokens from one address: %d store lookups, %d refused; want <= 21 lookups (the Lookup burst)", n, refused)
	}
	// Another address is not held back, nor is a valid token.
	secret, _, err := tokens.Issue(context.Background(), c.store, tokens.Inspector, "", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if code := doFrom(c, "203.0.113.8", "/ogc/conformance", secret).Code; code != 200 {
		t.Errorf("a valid token from another address: %d", code)
	}
}

// TestExpiredRevokedTokens runs a server over a GeoPackage store and
// checks that an expired token gets 401 "token expired", and that a token
// revoked in the store by another handle (as `citytwin token revoke` does
// while the server runs) gets 401 "token revoked" within a second.
func TestExpiredRevokedTokens(t *testing.T) {
	c := newTokenCity(t, func(*Config) {})
	ctx := context.Background()
	hs := httptest.NewServer(c.srv.Handler())
	defer hs.Close()
	get := func(secret string) (int, map[string]any) {
		t.Helper()
		r, _ := http.NewRequest(http.MethodGet, hs.URL+"/parts/"+codeCover, nil)
		r.Header.Set("Authorization", "Bearer "+secret)
		res, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(res.Body).Decode(&m)
		return res.StatusCode, m
	}

	expired, _, err := tokens.IssueSpec(ctx, c.store, tokens.Spec{Role: tokens.Inspector, TTL: time.Hour}, time.Now().Add(-2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if code, m := get(expired); code != 401 || m["reason"] != "token expired" || m["field"] != "Authorization" {
		t.Errorf("expired token: %d %v, want 401 with reason \"token expired\"", code, m)
	}
	fresh, _, err := tokens.IssueSpec(ctx, c.store, tokens.Spec{Role: tokens.Inspector, TTL: time.Hour}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if code, _ := get(fresh); code != 200 {
		t.Fatalf("a fresh token with a TTL: %d", code)
	}

	// Revoked through a second handle on the file, behind the server's back.
	secret := c.secret["inspector"]
	if code, _ := get(secret); code != 200 {
		t.Fatalf("before the revocation: %d", code)
	}
	other, err := gpkg.OpenTokens(ctx, c.store.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := tokens.Revoke(ctx, other, secret, time.Time{}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(tokens.MaxTTL)
	if code, m := get(secret); code != 401 || m["reason"] != "token revoked" {
		t.Errorf("%v after the revocation: %d %v, want 401 \"token revoked\"", tokens.MaxTTL, code, m)
	}
}
