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
// secret against a token store (store/gpkg.Store, tokens.Memory) through a
// tokens.Verifier, which caches the tokens it has found.
type TokenAuth struct {
	v *tokens.Verifier
}

// NewTokenAuth returns an Authenticator over st.
func NewTokenAuth(st tokens.Store, o tokens.VerifierOptions) *TokenAuth {
	return &TokenAuth{v: tokens.NewVerifier(st, o)}
}

// Authenticate returns the principal of a token. An unknown or malformed
// token gives an error wrapping ErrUnauthorized; a store failure is
// returned as it is (a 500, logged, its text kept from the client).
func (a *TokenAuth) Authenticate(ctx context.Context, secret string) (Principal, error) {
	t, err := a.v.Verify(ctx, secret)
	switch {
	case errors.Is(err, tokens.ErrMalformed), errors.Is(err, tokens.ErrNotFound):
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
	case tokens.Department:
		p.Role = RoleDepartment
	default:
		return Principal{}, fmt.Errorf("%w: token %s has the unknown role %q", ErrUnauthorized, t.ID(), t.Role)
	}
	return p, nil
}

// authRealm is the realm of the WWW-Authenticate challenges.
const authRealm = `Bearer realm="citytwin"`

// authMiddleware authenticates every request and applies the rate limit.
//
//   - No Authorization header: the public when Config.AllowAnonymous is
//     set (rate-limited per client IP), else 401 with a Bearer challenge.
//   - "Authorization: Bearer <token>": s.auth decides; a token it does not
//     know is a 401 with error="invalid_token" (and counts against the
//     client IP's bucket, so guessing tokens gets a 429 soon).
//   - Any other Authorization scheme, or an empty token: 401.
//   - Without an Authenticator (s.auth nil) everybody is the public, and
//     401 when AllowAnonymous is not set.
//   - A known token is rate-limited per token (its TokenID), whatever IP
//     it comes from; anonymous callers per client address (see clientIP).
//
// Over the limit the answer is 429 with Retry-After in seconds. Each
// middleware built has its own buckets: there is no package state.
func (s *Server) authMiddleware() echo.MiddlewareFunc {
	lim := newLimiter(s.cfg.RateLimit.PerSecond, s.cfg.RateLimit.Burst, nil)
	fromXFF := echo.ExtractIPFromXFFHeader()
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			ipKey := "ip:" + s.clientIP(c, fromXFF)
			secret, present, err := bearerToken(c.Request().Header.Get(echo.HeaderAuthorization))
			if err != nil {
				if ok, wait := lim.allow(ipKey); !ok {
					return rateLimited(wait)
				}
				return unauthorized(err.Error(), true)
			}
			p := Principal{Role: RolePublic}
			key := ipKey
			switch {
			case present && s.auth != nil:
				p, err = s.auth.Authenticate(c.Request().Context(), secret)
				if errors.Is(err, ErrUnauthorized) {
					if ok, wait := lim.allow(ipKey); !ok {
						return rateLimited(wait)
					}
					return unauthorized("the token is not valid", true)
				}
				if err != nil {
					return err
				}
				if p.TokenID != "" {
					key = "token:" + p.TokenID
				}
			case !s.cfg.AllowAnonymous:
				// No token, or no Authenticator to check one with.
				if ok, wait := lim.allow(ipKey); !ok {
					return rateLimited(wait)
				}
				return unauthorized("this server needs a token: send Authorization: Bearer <token>", false)
			}
			if ok, wait := lim.allow(key); !ok {
				return rateLimited(wait)
			}
			c.Set(principalKey, p)
			return next(c)
		}
	}
}

// clientIP is the address a request is rate-limited by: the echo
// IPExtractor when the server sets one, else X-Forwarded-For only from a
// loopback or private-network peer (a proxy in front), else the peer
// address. (echo's RealIP without an IPExtractor believes
// X-Forwarded-For from anyone, which would let a client pick its bucket.)
func (s *Server) clientIP(c echo.Context, fromXFF echo.IPExtractor) string {
	if s.echo != nil && s.echo.IPExtractor != nil {
		return s.echo.IPExtractor(c.Request())
	}
	return fromXFF(c.Request())
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
// RFC 6750 error code for a token that was sent but is not valid. The
// detail never quotes the token.
func unauthorized(detail string, invalid bool) *Problem {
	q := newProblem(http.StatusUnauthorized, "unauthorized", detail)
	challenge := authRealm
	if invalid {
		challenge += `, error="invalid_token"`
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
