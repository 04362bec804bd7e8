package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"citytwin/tokens"
)

// TokenAuth is the Authenticator over issued API tokens: it checks a bearer
// secret against a token store (store/gpkg.Store, store/postgis.Store,
// tokens.Memory) through a tokens.Verifier, which caches what it finds for
// at most tokens.MaxTTL (so a token revoked in the shared store is refused
// by every replica within a second) and unknown secrets for a moment. When
// the store is a tokens.Manager, the server also serves /admin/tokens.
type TokenAuth struct {
	v *tokens.Verifier
	m tokens.Manager // nil: the store only finds tokens
}

// NewTokenAuth returns an Authenticator over st.
func NewTokenAuth(st tokens.Store, o tokens.VerifierOptions) *TokenAuth {
	m, _ := st.(tokens.Manager)
	return &TokenAuth{v: tokens.NewVerifier(st, o), m: m}
}

// Authenticate returns the principal of a token. An unknown, malformed,
// expired or revoked token gives an error wrapping ErrUnauthorized and the
// tokens error that says why; a store failure is returned as it is (a
// 500, logged, its text kept from the client).
func (a *TokenAuth) Authenticate(ctx context.Context, secret string) (Principal, error) {
	t, err := a.v.Verify(ctx, secret)
	switch {
	case errors.Is(err, tokens.ErrMalformed), errors.Is(err, tokens.ErrNotFound),
		errors.Is(err, tokens.ErrExpired), errors.Is(err, tokens.ErrRevoked):
		return Principal{}, fmt.Errorf("%w: %w", ErrUnauthorized, err)
	case err != nil:
		return Principal{}, err
	}
	p := Principal{TokenID: t.ID(), Dept: t.Dept}
	switch t.Role {
	case tokens.Admin:
		p.Role = RoleAdmin
	case tokens.Inspector:
		p.Role = RoleInspector
	case tokens.Operator:
		p.Role = RoleOperator
	case tokens.Department:
		p.Role = RoleDepartment
	default:
		return Principal{}, fmt.Errorf("%w: token %s has the unknown role %q", ErrUnauthorized, t.ID(), t.Role)
	}
	return p, nil
}

// Cached reports whether Authenticate would accept secret without reading
// the store (see tokens.Verifier.Cached).
func (a *TokenAuth) Cached(secret string) bool { return a.v.Cached(secret) }

// authRealm is the realm of the WWW-Authenticate challenges.
const authRealm = `Bearer realm="citytwin"`

// cacheReporter is an Authenticator that can tell which secrets it answers
// from memory; the middleware takes the address's lookup bucket for every
// other one before calling Authenticate. TokenAuth is one; an
// Authenticator that is not is taken to read a store for every secret.
type cacheReporter interface {
	Cached(secret string) bool
}

// authMiddleware authenticates every request and applies the rate limits
// (Config.RateLimit, Config.Limits), all before any handler runs.
//
//   - The client address is the peer's, or from X-Forwarded-For when the
//     peer is a trusted proxy (clientIP); echo's RealIP (the access log)
//     is made to agree.
//   - "Authorization: Bearer <token>": a token the Authenticator does not
//     answer from its cache first takes one request from the client
//     address's Lookup bucket (429 when it is empty: the store is never
//     asked), then s.auth decides; an unknown, expired or revoked token is
//     a 401 with error="invalid_token" and a reason ("unknown token",
//     "token expired", "token revoked", "malformed token").
//   - Any other Authorization scheme, an empty token, or no token when
//     Config.AllowAnonymous is off: the Lookup bucket, then 401.
//   - No Authorization header: the public when Config.AllowAnonymous is set.
//   - Without an Authenticator (s.auth nil) everybody is the public, and
//     401 when AllowAnonymous is not set.
//   - Then the request takes one from its client's bucket: a token's by
//     its ID whatever address it comes from, the public's by address; tile
//     routes in the Tiles buckets, everything else in its role's.
//
// Over a limit the answer is 429 with Retry-After in seconds. Each
// middleware built has its own buckets: there is no package state.
func (s *Server) authMiddleware() echo.MiddlewareFunc {
	lim := newLimiters(s.cfg)
	proxies := s.cfg.TrustedProxies
	if s.echo != nil {
		s.echo.IPExtractor = func(r *http.Request) string { return clientIP(r, proxies) }
	}
	cache, _ := s.auth.(cacheReporter)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			// The client's address is worked out only for a limiter that
			// needs it (none with rate limits off).
			ipKey := func() string { return "ip:" + clientIP(c.Request(), proxies) }
			secret, present, err := bearerToken(headerValue(c.Request().Header, echo.HeaderAuthorization))
			if err != nil {
				if err := takeKey(lim.lookup, ipKey); err != nil {
					return err
				}
				return unauthorized(err.Error(), "malformed Authorization header", true)
			}
			p := Principal{Role: RolePublic}
			key := ipKey
			switch {
			case present && s.auth != nil:
				if cache == nil || !cache.Cached(secret) {
					if err := takeKey(lim.lookup, ipKey); err != nil {
						return err
					}
				}
				p, err = s.auth.Authenticate(c.Request().Context(), secret)
				if errors.Is(err, ErrUnauthorized) {
					reason := tokenReason(err)
					return unauthorized("the token is not valid: "+reason, reason, true)
				}
				if err != nil {
					return err
				}
				if p.TokenID != "" {
					id := p.TokenID
					key = func() string { return "token:" + id }
				}
			case !s.cfg.AllowAnonymous:
				// No token, or no Authenticator to check one with.
				if err := takeKey(lim.lookup, ipKey); err != nil {
					return err
				}
				return unauthorized("this server needs a token: send Authorization: Bearer <token>", "", false)
			}
			if err := takeKey(lim.forRequest(c.Path(), p.Role), key); err != nil {
				return err
			}
			if p != (Principal{Role: RolePublic}) {
				c.Set(principalKey, p) // principalOf answers the public without it
			}
			return next(c)
		}
	}
}

// takeKey is take with the bucket's key worked out only when l limits.
func takeKey(l *limiter, key func() string) error {
	if l == nil {
		return nil
	}
	return take(l, key())
}

// tokenReason says in a few words why a token was refused.
func tokenReason(err error) string {
	switch {
	case errors.Is(err, tokens.ErrExpired):
		return "token expired"
	case errors.Is(err, tokens.ErrRevoked):
		return "token revoked"
	case errors.Is(err, tokens.ErrMalformed):
		return "malformed token"
	case errors.Is(err, tokens.ErrNotFound):
		return "unknown token"
	}
	return "invalid token"
}

// bearerToken reads an Authorization header: present is false when it is
// empty; an error when it is not "Bearer <token>". The scheme is
// case-insensitive (RFC 9110).
func bearerToken(h string) (token string, present bool, err error) {
	h = strings.TrimSpace(h)
	if h == "" {
		return "", false, nil
	}
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", true, errors.New("the Authorization header must be Bearer <token>")
	}
	tok = strings.TrimSpace(tok)
	if tok == "" {
		return "", true, errors.New("the Authorization header has an empty token")
	}
	return tok, true, nil
}

// unauthorized is a 401 problem with a Bearer challenge; invalid adds the
// RFC 6750 error code for a token that was sent but is not valid, and
// reason, when set, is the problem's reason for the Authorization field.
// Neither the detail nor the reason ever quotes the token.
func unauthorized(detail, reason string, invalid bool) *Problem {
	q := newProblem(http.StatusUnauthorized, "unauthorized", detail)
	if reason != "" {
		q.Field, q.Reason = "Authorization", reason
	}
	challenge := authRealm
	if invalid {
		challenge += `, error="invalid_token", error_description="` + reason + `"`
	}
	q.header = http.Header{"Www-Authenticate": {challenge}}
	return q
}

// rateLimited is a 429 problem with Retry-After.
func rateLimited(wait time.Duration) *Problem {
	q := newProblem(http.StatusTooManyRequests, "rate-limited", "too many requests; retry after the time in Retry-After")
	q.header = http.Header{"Retry-After": {strconv.Itoa(retryAfterSeconds(wait))}}
	return q
}
