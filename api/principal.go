package api

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/paulmach/orb"

	"citytwin/parts"
)

// Role is what a principal may do.
//
//   - public reads components and grids, without a component's photo and
//     note (department fields are codes of public bodies and stay); it
//     writes nothing.
//   - inspector reads everything and may change only the state, note and
//     photo of any component (PATCH, or modify records of a bulk change).
//   - department reads everything and writes (adds, modifies, retires)
//     only components whose dept_owner or dept_maintainer is its Dept, before
//     and after the change: it cannot hand a component to another unit.
//   - admin does everything, grids included.
type Role string

// Roles.
const (
	RolePublic    Role = "public"
	RoleInspector Role = "inspector"
	// RoleOperator is the dispatcher of the supervision and command
	// centres (受理员 / 派遣员): it registers, rejects, dispatches,
	// verifies, closes, suspends, resumes and supervises cases, and reads
	// like an inspector; it edits no component.
	RoleOperator   Role = "operator"
	RoleDepartment Role = "department"
	RoleAdmin      Role = "admin"
)

// Principal is who makes a request. TokenID is empty for an anonymous
// caller; Dept is the department code of a RoleDepartment principal.
type Principal struct {
	Role    Role
	Dept    string
	TokenID string
}

// Authenticator turns a bearer token into a principal. It returns an error
// wrapping ErrUnauthorized for an unknown, expired or revoked token.
//
// The auth middleware (authMiddleware) reads "Authorization: Bearer <token>",
// calls Authenticate and stores the principal with c.Set("principal", p).
// No token means the public when Config.AllowAnonymous is set, 401 otherwise;
// a nil Authenticator makes everybody the public.
type Authenticator interface {
	Authenticate(ctx context.Context, token string) (Principal, error)
}

// principalKey is the echo context key of the request's Principal.
const principalKey = "principal"

// principalOf returns the principal the auth middleware stored, or the
// anonymous public.
func principalOf(c echo.Context) Principal {
	if p, ok := c.Get(principalKey).(Principal); ok && p.Role != "" {
		return p
	}
	return Principal{Role: RolePublic}
}

// ParsePrincipal parses the textual form of a principal's role: "public",
// "inspector", "admin" or "department:<code>".
func ParsePrincipal(s string) (Principal, error) {
	switch Role(s) {
	case RolePublic, RoleInspector, RoleOperator, RoleAdmin:
		return Principal{Role: Role(s)}, nil
	}
	if dept, ok := strings.CutPrefix(s, string(RoleDepartment)+":"); ok && dept != "" {
		return Principal{Role: RoleDepartment, Dept: dept}, nil
	}
	return Principal{}, badInput("role", "%q is not public, inspector, operator, admin or department:<code>", s)
}

// String gives the textual form that ParsePrincipal reads.
func (p Principal) String() string {
	if p.Role == RoleDepartment {
		return string(RoleDepartment) + ":" + p.Dept
	}
	return string(p.Role)
}

func (p Principal) anonymous() bool { return p.TokenID == "" && p.Role == RolePublic }

// seesPrivate reports whether p may read a component's photo and note.
func (p Principal) seesPrivate() bool {
	switch p.Role {
	case RoleInspector, RoleOperator, RoleDepartment, RoleAdmin:
		return true
	}
	return false
}

// inspectorFields are the properties an inspector may change.
var inspectorFields = []string{"state", "note", "photo"}

// mayWritePart checks a component write: old is nil for an add, next is nil
// for a retire. The error is a *RightsError.
func (p Principal) mayWritePart(old, next *parts.Part) error {
	action, code := "add", parts.Code(0)
	switch {
	case old != nil && next != nil:
		action, code = "modify", old.Code
	case old != nil:
		action, code = "retire", old.Code
	case next != nil:
		code = next.Code
	}
	deny := func(fields []string, reason string) error {
		return &RightsError{Principal: p, Action: action + " component " + code.String(), Fields: fields, Reason: reason}
	}
	switch p.Role {
	case RoleAdmin:
		return nil
	case RoleInspector:
		if old == nil || next == nil {
			return deny(nil, "an inspector may only change state, note and photo")
		}
		var bad []string
		for _, f := range changedFields(*old, *next) {
			if !slices.Contains(inspectorFields, f) {
				bad = append(bad, f)
			}
		}
		if len(bad) > 0 {
			return deny(bad, "an inspector may only change state, note and photo")
		}
		return nil
	case RoleDepartment:
		if p.Dept == "" {
			return deny(nil, "the token names no department")
		}
		if old != nil && !p.owns(old) {
			return deny(nil, fmt.Sprintf("its dept_owner is %q and dept_maintainer %q, not %q", old.Owner, old.Maintainer, p.Dept))
		}
		if next != nil && !p.owns(next) {
			return deny([]string{"dept_owner", "dept_maintainer"}, fmt.Sprintf("the result would be owned by %q and maintained by %q, not %q", next.Owner, next.Maintainer, p.Dept))
		}
		return nil
	}
	if p.anonymous() {
		return deny(nil, "writes need a token")
	}
	return deny(nil, "the role "+string(p.Role)+" writes nothing")
}

func (p Principal) owns(pt *parts.Part) bool {
	return pt.Owner == p.Dept || pt.Maintainer == p.Dept
}

// mayWriteGrids checks a grid write: admins only.
func (p Principal) mayWriteGrids(action string) error {
	if p.Role == RoleAdmin {
		return nil
	}
	reason := "only an admin edits grids"
	if p.anonymous() {
		reason = "writes need a token"
	}
	return &RightsError{Principal: p, Action: action, Reason: reason}
}

// changedFields lists the properties (by their GeoJSON names) in which a
// and b differ; "geometry" for the geometry.
func changedFields(a, b parts.Part) []string {
	var out []string
	add := func(diff bool, name string) {
		if diff {
			out = append(out, name)
		}
	}
	add(a.Code != b.Code, "code")
	add(a.Class != b.Class, "class")
	add(a.Name != b.Name, "name")
	add(a.Supervisor != b.Supervisor, "dept_supervisor")
	add(a.Owner != b.Owner, "dept_owner")
	add(a.Maintainer != b.Maintainer, "dept_maintainer")
	add(a.Grid != b.Grid, "grid_code")
	add(a.State != b.State, "state")
	add(a.Retired != b.Retired, "retired")
	add(!a.Surveyed.Equal(b.Surveyed), "surveyed")
	add(a.Source != b.Source, "source")
	add(a.Photo != b.Photo, "photo")
	add(a.Note != b.Note, "note")
	add(a.SourceName != b.SourceName, "source_name")
	add(a.SourceID != b.SourceID, "source_id")
	add(a.Material != b.Material, "material")
	add(a.Label != b.Label, "label")
	add(!geomEqual(a.Geometry, b.Geometry), "geometry")
	return out
}

func geomEqual(a, b orb.Geometry) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return orb.Equal(a, b)
}

// mayManageTokens checks an API token action (list, create, revoke):
// admins only.
func (p Principal) mayManageTokens(action string) error {
	if p.Role == RoleAdmin {
		return nil
	}
	reason := "only an admin manages API tokens"
	if p.anonymous() {
		reason = "managing API tokens needs an admin token"
	}
	return &RightsError{Principal: p, Action: action, Reason: reason}
}
