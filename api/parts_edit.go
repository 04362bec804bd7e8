package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"citytwin/parts"
	"citytwin/twin"
)

// writerOf returns the request's principal if its role writes at all:
// 401 for the anonymous public, 403 for other readers.
func writerOf(c echo.Context) (Principal, error) {
	who := principalOf(c)
	switch who.Role {
	case RoleInspector, RoleDepartment, RoleAdmin:
		return who, nil
	}
	reason := "the role " + string(who.Role) + " writes nothing"
	if who.anonymous() {
		reason = "writes need a token"
	}
	return who, &RightsError{Principal: who, Action: "write", Reason: reason}
}

// partFromFeature builds a whole component from a Feature: the code from
// properties.code or id (which must agree), the class from the code when
// not given, catalogue defaults for an empty supervisor and owner. It returns
// the version the body claims (properties.version), 0 if none.
func (s *Server) partFromFeature(f rawFeature) (parts.Part, uint64, error) {
	var p parts.Part
	var errs []error
	if f.ID != "" {
		code, err := parts.ParseCode(f.ID)
		if err != nil {
			errs = append(errs, badInput("id", "%v", err))
		} else {
			p.Code = code
		}
	}
	version, err := applyPartProps(&p, f.Properties)
	errs = append(errs, err)
	if err := joinInput(errs...); err != nil {
		return parts.Part{}, 0, err
	}
	if p.Code == 0 {
		return parts.Part{}, 0, badInput("properties.code", "missing: give the 16-digit code in properties.code or id")
	}
	if p.Class == 0 {
		p.Class = p.Code.Class()
	}
	if f.Geometry == nil {
		return parts.Part{}, 0, badInput("geometry", "missing: a component needs a Point, LineString or Polygon")
	}
	p.Geometry = f.Geometry
	if err := s.checkPartShape(&p); err != nil {
		return parts.Part{}, 0, err
	}
	if ci, ok := s.twin.Catalogue().Lookup(p.Class); ok {
		if p.Supervisor == "" {
			p.Supervisor = ci.Super
		}
		if p.Owner == "" {
			p.Owner = ci.Owner
		}
	}
	return p, version, nil
}

// checkPartShape validates p against the catalogue (class of the code,
// geometry kind of the class, coordinate range) and refuses self-intersecting
// polygons, before any write is attempted.
func (s *Server) checkPartShape(p *parts.Part) error {
	q := *p
	if err := q.Validate(s.twin.Catalogue()); err != nil {
		return err
	}
	return checkSimple(p.Geometry, s.cfg.MaxVertices)
}

// addPart: POST /parts with a Feature: 201, Location and ETag.
func (s *Server) addPart(c echo.Context) error {
	if err := checkParams(c.QueryParams()); err != nil {
		return err
	}
	who, err := writerOf(c)
	if err != nil {
		return err
	}
	body, err := readBody(c)
	if err != nil {
		return err
	}
	f, err := decodeFeature(body, false)
	if err != nil {
		return err
	}
	p, _, err := s.partFromFeature(f)
	if err != nil {
		return err
	}
	out, err := s.writeOne(c, "add_part", twin.PartChange{Op: twin.OpAdd, Part: p}, who)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/parts/"+out.Code.String())
	return s.writePart(c, http.StatusCreated, &out)
}

// patchPart: PATCH /parts/{code} with a partial Feature (geometry and/or
// some properties; null clears a text property). If-Match, or else
// properties.version, must name the current version when given.
func (s *Server) patchPart(c echo.Context) error {
	code, who, ifv, hasIf, err := partWriteOf(c)
	if err != nil {
		return err
	}
	f, err := readPatch(c, code.String(), "a component")
	if err != nil {
		return err
	}
	var out parts.Part
	err = s.timeWrite("modify_part", func() (err error) {
		out, err = s.twin.UpdatePart(c.Request().Context(), code, ifv, func(p *parts.Part) error {
			old := *p
			claimed, err := applyPartProps(p, f.Properties)
			if err != nil {
				return err
			}
			if !hasIf && claimed != 0 && claimed != old.Version {
				return fmt.Errorf("%w: %s is at version %d, not %d (properties.version)", parts.ErrVersionMismatch, code, old.Version, claimed)
			}
			if f.Geometry != nil {
				p.Geometry = f.Geometry
			}
			if err := s.checkPartShape(p); err != nil {
				return err
			}
			return who.mayWritePart(&old, p)
		})
		return err
	})
	if err != nil {
		return err
	}
	return s.writePart(c, http.StatusOK, &out)
}

// retirePart: DELETE /parts/{code} retires (作废) the component; it answers
// the retired feature. If-Match applies.
func (s *Server) retirePart(c echo.Context) error {
	code, who, ifv, _, err := partWriteOf(c)
	if err != nil {
		return err
	}
	out, err := s.writeOne(c, "retire_part", twin.PartChange{Op: twin.OpRetire, Part: parts.Part{Code: code}, IfVersion: ifv}, who)
	if err != nil {
		return err
	}
	return s.writePart(c, http.StatusOK, &out)
}

// writeOne applies one change record through the twin's write path, with
// the principal's rights checked there against the component as it is
// when the write applies.
func (s *Server) writeOne(c echo.Context, op string, pc twin.PartChange, who Principal) (parts.Part, error) {
	var out []parts.Part
	err := s.timeWrite(op, func() (err error) {
		out, err = s.twin.ApplyPartsChecked(c.Request().Context(), []twin.PartChange{pc}, who.mayWritePart)
		return err
	})
	if err != nil {
		return parts.Part{}, err
	}
	return out[0], nil
}

// changeRecordMembers are the members of a change record.
var changeRecordMembers = []string{"op", "feature", "if_version", "code"}

// changeParts: POST /parts/changes with {"changes":[{"op":"add|modify|retire",
// "feature":{...},"if_version":N}]}: all records or none. A modify record
// replaces the whole component (an empty grid_code is located again). The
// rights of every record are checked inside the twin's write path, against
// the component as the batch leaves it when it applies, so two racing
// changes cannot both pass a check that the state no longer supports. The
// problem of a failing record carries its index.
func (s *Server) changeParts(c echo.Context) error {
	if err := checkParams(c.QueryParams()); err != nil {
		return err
	}
	who, err := writerOf(c)
	if err != nil {
		return err
	}
	body, err := readBody(c)
	if err != nil {
		return err
	}
	top, err := decodeJSONObject(body, "the change set")
	if err != nil {
		return err
	}
	for _, k := range sortedKeys(top) {
		if k != "changes" {
			return badInput(k, "unknown member (want changes)")
		}
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(top["changes"], &raws); err != nil || len(raws) == 0 {
		return badInput("changes", "want a non-empty array of change records")
	}
	if len(raws) > s.cfg.MaxChanges {
		return badInput("changes", "%d records, more than the maximum of %d", len(raws), s.cfg.MaxChanges)
	}
	cs := make([]twin.PartChange, len(raws))
	for i, raw := range raws {
		pc, err := s.decodeChange(raw)
		if err != nil {
			return &twin.RecordError{Index: i, Err: err}
		}
		if pc.Op == twin.OpAdd {
			// Rights of an add depend on the record alone: refuse early.
			if err := who.mayWritePart(nil, &pc.Part); err != nil {
				return &twin.RecordError{Index: i, Err: err}
			}
		}
		cs[i] = pc
	}
	var out []parts.Part
	err = s.timeWrite("change_parts", func() (err error) {
		out, err = s.twin.ApplyPartsChecked(c.Request().Context(), cs, who.mayWritePart)
		return err
	})
	if err != nil {
		var re *twin.RecordError
		if len(cs) == 1 && !errors.As(err, &re) {
			err = &twin.RecordError{Index: 0, Err: err}
		}
		return err
	}
	fs := make([]partFeature, len(out))
	for i := range out {
		fs[i] = featureOfPart(&out[i], who)
	}
	return writeJSON(c, http.StatusOK, mediaGeoJSON, newCollection(fs))
}

// decodeChange reads one change record.
func (s *Server) decodeChange(raw json.RawMessage) (twin.PartChange, error) {
	m, err := decodeJSONObject(raw, "the change record")
	if err != nil {
		return twin.PartChange{}, err
	}
	var errs []FieldReason
	for _, k := range sortedKeys(m) {
		if !slices.Contains(changeRecordMembers, k) {
			errs = append(errs, FieldReason{Field: k, Reason: "unknown member of a change record (want " + strings.Join(changeRecordMembers, ", ") + ")"})
		}
	}
	if len(errs) > 0 {
		return twin.PartChange{}, &InputError{Errors: errs}
	}
	var op string
	if json.Unmarshal(m["op"], &op) != nil {
		return twin.PartChange{}, badInput("op", "want \"add\", \"modify\" or \"retire\"")
	}
	pc := twin.PartChange{Op: twin.Op(op)}
	if v, ok := m["if_version"]; ok {
		if pc.IfVersion, err = parseVersionJSON(v); err != nil {
			return twin.PartChange{}, badInput("if_version", "%v", err)
		}
	}
	var f rawFeature
	hasFeature := false
	if fb, ok := m["feature"]; ok && !isNull(fb) {
		fm, err := decodeJSONObject(fb, "the feature")
		if err != nil {
			return twin.PartChange{}, err
		}
		if f, err = featureFromMembers(fm, op == string(twin.OpRetire), "feature."); err != nil {
			return twin.PartChange{}, err
		}
		hasFeature = true
	}
	switch pc.Op {
	case twin.OpAdd, twin.OpModify:
		if !hasFeature {
			return twin.PartChange{}, badInput("feature", "an %s record needs a feature", op)
		}
		p, claimed, err := s.partFromFeature(f)
		if err != nil {
			return twin.PartChange{}, err
		}
		if rc, ok := m["code"]; ok {
			var code string
			if json.Unmarshal(rc, &code) != nil || code != p.Code.String() {
				return twin.PartChange{}, badInput("code", "%s differs from the feature's code %s", clip(rc), p.Code)
			}
		}
		pc.Part = p
		if pc.IfVersion == 0 && pc.Op == twin.OpModify {
			pc.IfVersion = claimed
		}
	case twin.OpRetire:
		code := ""
		if rc, ok := m["code"]; ok {
			if code, err = stringOrNumber(rc); err != nil {
				return twin.PartChange{}, badInput("code", "%v", err)
			}
		} else if hasFeature {
			code = f.ID
			if v, ok := f.Properties["code"]; ok && code == "" {
				code, _ = stringOrNumber(v)
			}
		}
		if code == "" {
			return twin.PartChange{}, badInput("code", "a retire record needs the code (code, feature.id or feature.properties.code)")
		}
		pcode, err := parts.ParseCode(code)
		if err != nil {
			return twin.PartChange{}, err
		}
		pc.Part = parts.Part{Code: pcode}
	default:
		return twin.PartChange{}, badInput("op", "%q is not add, modify or retire", clipString(op))
	}
	return pc, nil
}

// partWriteOf reads what every write to one component starts from: no
// query parameters, the code of the path, a principal that may write, and
// the If-Match version (hasIf false when absent).
func partWriteOf(c echo.Context) (code parts.Code, who Principal, ifv uint64, hasIf bool, err error) {
	if err = checkParams(c.QueryParams()); err != nil {
		return
	}
	if code, err = parseCodeParam(c); err != nil {
		return
	}
	if who, err = writerOf(c); err != nil {
		return
	}
	ifv, hasIf, err = ifMatch(c)
	return
}

// readPatch reads the partial Feature of a PATCH to the feature with code:
// its id, if any, must be that code, its geometry may not be null (what, "a
// grid" or "a component", always has one), and it must change something.
func readPatch(c echo.Context, code, what string) (rawFeature, error) {
	body, err := readBody(c)
	if err != nil {
		return rawFeature{}, err
	}
	f, err := decodeFeature(body, true)
	switch {
	case err != nil:
		return rawFeature{}, err
	case f.ID != "" && f.ID != code:
		return rawFeature{}, badInput("id", "%q differs from the code %s of the request; a code cannot change", clipString(f.ID), code)
	case f.HasGeometry && f.Geometry == nil:
		return rawFeature{}, badInput("geometry", "cannot be null: %s always has a geometry", what)
	case f.Geometry == nil && len(f.Properties) == 0:
		return rawFeature{}, badInput("body", "nothing to change: give a geometry or properties")
	}
	return f, nil
}
