package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"citytwin/tokens"
)

// TestAdminTokens checks /admin/tokens: admins list, create and revoke;
// other roles get 403, anonymous callers 401.
func TestAdminTokens(t *testing.T) {
	c := newTokenCity(t, func(*Config) {})
	admin := c.secret["admin"]
	send := func(method, path, token, body string) *httptest.ResponseRecorder {
		t.Helper()
		r := httptest.NewRequest(method, path, strings.NewReader(body))
		if body != "" {
			r.Header.Set("Content-Type", "application/json")
		}
		if token != "" {
			r.Header.Set("Authorization", "Bearer "+token)
		}
		rec := httptest.NewRecorder()
		c.srv.Handler().ServeHTTP(rec, r)
		return rec
	}
	rights := []struct {
		name, who, method, path, body string
		status                        int
	}{
		{"anonymous lists", "", "GET", "/admin/tokens", "", 401},
		{"inspector lists", "inspector", "GET", "/admin/tokens", "", 403},
		{"department creates", "water", "POST", "/admin/tokens", `{"role":"admin"}`, 403},
		{"inspector revokes", "inspector", "DELETE", "/admin/tokens/0123456789abcdef", "", 403},
		{"admin, unknown id", "admin", "DELETE", "/admin/tokens/0123456789abcdef", "", 404},
		{"admin, secret in the path", "admin", "DELETE", "/admin/tokens/" + c.secret["water"], "", 400},
		{"admin, bad role", "admin", "POST", "/admin/tokens", `{"role":"root"}`, 400},
		{"admin, department without dept", "admin", "POST", "/admin/tokens", `{"role":"department"}`, 400},
		{"admin, bad ttl", "admin", "POST", "/admin/tokens", `{"role":"inspector","ttl":"soon"}`, 400},
		{"admin, unknown member", "admin", "POST", "/admin/tokens", `{"role":"inspector","secret":"x"}`, 400},
	}
	for _, tc := range rights {
		t.Run(tc.name, func(t *testing.T) {
			m := problem(t, send(tc.method, tc.path, c.secret[tc.who], tc.body), tc.status)
			if strings.Contains(fmt.Sprint(m["detail"], m["reason"], m["errors"]), c.secret["water"]) {
				t.Error("the problem quotes a secret")
			}
		})
	}

	// Create: the secret once, and it works.
	rec := send("POST", "/admin/tokens", admin, `{"role":"department","dept":"water","ttl":"720h"}`)
	if rec.Code != http.StatusCreated || rec.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("create: %d %q %s", rec.Code, rec.Header().Get("Cache-Control"), rec.Body)
	}
	var created tokenJSON
	if err := json.Unmarshal(rec.Body.Bytes(), &created); err != nil {
		t.Fatal(err)
	}
	if tokens.Check(created.Token) != nil || created.Role != "department" || created.Dept != "water" || created.Expires == nil || created.Revoked != nil {
		t.Fatalf("created %+v", created)
	}
	if code := doFrom(c.city, "203.0.113.1", "/parts/"+codeCover, created.Token).Code; code != 200 {
		t.Fatalf("the created token: %d", code)
	}

	// List: every token, no secret.
	rec = send("GET", "/admin/tokens", admin, "")
	var list struct{ Tokens []tokenJSON }
	if err := json.Unmarshal(rec.Body.Bytes(), &list); rec.Code != 200 || err != nil || len(list.Tokens) != 5 {
		t.Fatalf("list: %d %v %s", rec.Code, err, rec.Body)
	}
	if strings.Contains(rec.Body.String(), created.Token) || strings.Contains(rec.Body.String(), `"token"`) {
		t.Error("the list shows a secret")
	}

	// Revoke by id: refused at once on this server.
	rec = send("DELETE", "/admin/tokens/"+created.ID, admin, "")
	var revoked tokenJSON
	if err := json.Unmarshal(rec.Body.Bytes(), &revoked); rec.Code != 200 || err != nil || revoked.Revoked == nil {
		t.Fatalf("revoke: %d %s", rec.Code, rec.Body)
	}
	m := problem(t, doFrom(c.city, "203.0.113.1", "/parts/"+codeCover, created.Token), 401)
	if m["reason"] != "token revoked" {
		t.Errorf("the revoked token: %v", m)
	}
}

// TestAdminTokensNeedAManager checks that a server whose Authenticator
// does not manage tokens serves no admin routes.
func TestAdminTokensNeedAManager(t *testing.T) {
	c := newCity(t)
	problem(t, c.do(t, req{path: "/admin/tokens", token: "admin"}), 404)
}
