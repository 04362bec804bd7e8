package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"citytwin/parts"
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

// TestAuthStoreDown checks that a store failure is a 500 that hides the
// store's text, not a 401 that would tell a valid token it is invalid.
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
	m := problem(t, c.do(t, req{path: "/ogc/collections", token: secret}), http.StatusInternalServerError)
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
	c := newTokenCity(t, func(cfg *Config) { cfg.RateLimit = RateLimit{PerSecond: 0.01, Burst: 3} })
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
	// A spoofed X-Forwarded-For from a public address does not buy a
	// fresh bucket; from a proxy on the private network it names the client.
	r := httptest.NewRequest(http.MethodGet, path, nil)
	r.RemoteAddr = "203.0.113.1:5000"
	r.Header.Set("X-Forwarded-For", "198.51.100.77")
	rec := httptest.NewRecorder()
	c.srv.Handler().ServeHTTP(rec, r)
	limited(rec)
	r = httptest.NewRequest(http.MethodGet, path, nil)
	r.RemoteAddr = "10.0.0.5:5000"
	r.Header.Set("X-Forwarded-For", "198.51.100.77")
	rec = httptest.NewRecorder()
	c.srv.Handler().ServeHTTP(rec, r)
	if rec.Code != 200 {
		t.Errorf("a client behind a private proxy was limited by another's bucket: %d", rec.Code)
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
