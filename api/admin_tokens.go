package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"citytwin/tokens"
)

// The admin API of tokens, for admins only, served when the server's
// Authenticator is a TokenAuth over a tokens.Manager (the GeoPackage and
// PostGIS stores are):
//
//	GET    /admin/tokens       every token: id, role, dept, created, expires, revoked
//	POST   /admin/tokens       {"role": "inspector", "dept": "", "ttl": "720h"}: 201 with the secret, shown once
//	DELETE /admin/tokens/{id}  revoke (id: a prefix of at least 8 hex digits of the hash): 200 with the token
//
// A revocation is refused at once by this replica and within
// tokens.MaxTTL by every other one. Answers are Cache-Control: no-store.

// tokenAdmin serves /admin/tokens over a token store.
type tokenAdmin struct {
	auth *TokenAuth
}

// registerAdmin registers the admin routes, behind authMW, when the
// Authenticator manages its tokens.
func (s *Server) registerAdmin(e *echo.Echo, authMW echo.MiddlewareFunc) {
	ta, ok := s.auth.(*TokenAuth)
	if !ok || ta.m == nil {
		return
	}
	a := tokenAdmin{auth: ta}
	e.GET("/admin/tokens", a.list, authMW)
	e.POST("/admin/tokens", a.create, authMW)
	e.DELETE("/admin/tokens/:id", a.revoke, authMW)
}

// tokenJSON is a token as the admin API shows it: never the secret (but
// in the answer to its creation), nor the whole hash.
type tokenJSON struct {
	Token   string     `json:"token,omitempty"` // the secret, only when created
	ID      string     `json:"id"`
	Role    string     `json:"role"`
	Dept    string     `json:"dept,omitempty"`
	Created time.Time  `json:"created"`
	Expires *time.Time `json:"expires"`
	Revoked *time.Time `json:"revoked"`
}

func toTokenJSON(t tokens.Token) tokenJSON {
	opt := func(t time.Time) *time.Time {
		if t.IsZero() {
			return nil
		}
		return &t
	}
	return tokenJSON{ID: t.ID(), Role: string(t.Role), Dept: t.Dept, Created: t.Created, Expires: opt(t.Expires), Revoked: opt(t.Revoked)}
}

func writeNoStore(c echo.Context, status int, v any) error {
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	return writeJSON(c, status, mediaJSON, v)
}

// list: GET /admin/tokens.
func (a tokenAdmin) list(c echo.Context) error {
	if err := principalOf(c).mayManageTokens("list tokens"); err != nil {
		return err
	}
	if err := checkParams(c.QueryParams()); err != nil {
		return err
	}
	ts, err := a.auth.m.ListTokens(c.Request().Context())
	if err != nil {
		return err
	}
	out := make([]tokenJSON, len(ts))
	for i, t := range ts {
		out[i] = toTokenJSON(t)
	}
	return writeNoStore(c, http.StatusOK, map[string]any{"tokens": out})
}

// create: POST /admin/tokens.
func (a tokenAdmin) create(c echo.Context) error {
	if err := principalOf(c).mayManageTokens("create tokens"); err != nil {
		return err
	}
	if err := checkParams(c.QueryParams()); err != nil {
		return err
	}
	body, err := readBody(c)
	if err != nil {
		return err
	}
	var in struct {
		Role string `json:"role"`
		Dept string `json:"dept"`
		TTL  string `json:"ttl"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return badInput("body", "want {\"role\": ..., \"dept\": ..., \"ttl\": ...}: %s", jsonErrText(err))
	}
	var sp tokens.Spec
	if sp.Role, err = tokens.ParseRole(in.Role); err != nil {
		return badInput("role", "%q is not inspector, department or admin", in.Role)
	}
	sp.Dept = in.Dept
	if in.TTL != "" {
		if sp.TTL, err = time.ParseDuration(in.TTL); err != nil || sp.TTL < 0 {
			return badInput("ttl", "%q is not a positive duration such as 720h", in.TTL)
		}
	}
	secret, t, err := tokens.IssueSpec(c.Request().Context(), a.auth.m, sp, time.Time{})
	if err != nil {
		return err
	}
	out := toTokenJSON(t)
	out.Token = secret
	c.Response().Header().Set(echo.HeaderLocation, "/admin/tokens/"+t.ID())
	return writeNoStore(c, http.StatusCreated, out)
}

// revoke: DELETE /admin/tokens/{id}.
func (a tokenAdmin) revoke(c echo.Context) error {
	if err := principalOf(c).mayManageTokens("revoke tokens"); err != nil {
		return err
	}
	if err := checkParams(c.QueryParams()); err != nil {
		return err
	}
	id := c.Param("id")
	if strings.HasPrefix(id, tokens.Prefix) {
		// The secret itself in a URL would end up in access logs.
		return badInput("id", "send the token's id (GET /admin/tokens), not its secret")
	}
	t, err := tokens.Revoke(c.Request().Context(), a.auth.m, id, time.Time{})
	if err != nil {
		return err
	}
	a.auth.v.Forget(t.Hash)
	return writeNoStore(c, http.StatusOK, toTokenJSON(t))
}
