package parts

import (
	"fmt"
	"time"

	"github.com/paulmach/orb"
)

// State is the condition of a component.
type State uint8

// States of a component, with their standard Chinese names.
const (
	Intact   State = iota // 完好
	Damaged               // 破损
	Missing               // 丢失
	Occupied              // 占用
)

var stateNames = [...]string{"完好", "破损", "丢失", "占用"}
var stateNamesEN = [...]string{"intact", "damaged", "missing", "occupied"}

// String returns the standard Chinese name (完好, 破损, 丢失, 占用).
func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("State(%d)", uint8(s))
}

// ParseState accepts the Chinese name, the English name or the digit.
func ParseState(s string) (State, error) {
	for i := range stateNames {
		if s == stateNames[i] || s == stateNamesEN[i] || s == fmt.Sprint(i) {
			return State(i), nil
		}
	}
	return 0, &FieldError{Field: "state", Reason: fmt.Sprintf("%q is not one of 完好 破损 丢失 占用 (intact damaged missing occupied)", s), Err: ErrInvalid}
}

// Source is where a component's data came from.
type Source uint8

// Data sources.
const (
	Surveyed    Source = iota // 实测
	FromMap                   // 地形图
	Sketched                  // 调绘
	OtherSource               // 其它
)

var sourceNames = [...]string{"实测", "地形图", "调绘", "其它"}

// String returns the standard Chinese name.
func (s Source) String() string {
	if int(s) < len(sourceNames) {
		return sourceNames[s]
	}
	return sourceNames[OtherSource]
}

// ParseSource accepts the Chinese name or the digit; anything else is an error.
func ParseSource(s string) (Source, error) {
	for i := range sourceNames {
		if s == sourceNames[i] || s == fmt.Sprint(i) {
			return Source(i), nil
		}
	}
	return 0, &FieldError{Field: "source", Reason: fmt.Sprintf("%q is not one of 实测 地形图 调绘 其它", s), Err: ErrInvalid}
}

// Part is one city component with all its attributes. Property names in the
// store and in GeoJSON are given in brackets.
type Part struct {
	Code       Code      // [code] 16-digit identification code
	Class      Class     // [class] 4-digit minor class, e.g. 0101; equals Code.Class()
	Name       string    // [name]
	Supervisor string    // [dept_supervisor] 主管部门 DeptCode1
	Owner      string    // [dept_owner] 权属单位 DeptCode2
	Maintainer string    // [dept_maintainer] 养护单位 DeptCode3
	Grid       string    // [grid_code] the unit grid that holds it (14 or 15 digits)
	State      State     // [state] 完好 破损 丢失 占用
	Retired    bool      // [retired] currency: false 在用 in use, true 作废 retired
	Surveyed   time.Time // [surveyed] first-survey date (UTC day)
	Changed    time.Time // [changed] last-change date (UTC day)
	Source     Source    // [source] 实测 地形图 调绘 其它
	Photo      string    // [photo] URL or path
	Note       string    // [note]
	Material   string    // [material]
	Label      string    // [label] class-specific name: stop name (0203), sculpture (0406), site (0602)
	// SourceName and SourceID are the provenance of an imported component:
	// the file or feed it came from ("cambridge_INFRA_Hydrants", "osm")
	// and its identifier there ("PH6000", "node/123"). A re-import of the
	// same source matches rows to components by (SourceName, Class,
	// SourceID) only. Both are empty for components made by hand.
	SourceName string // [source_name]
	SourceID   string // [source_id]
	Version    uint64 // [version] bumped by every write; 0 before the first
	// Geometry is an orb.Point, orb.LineString or orb.Polygon in WGS84 lon/lat.
	Geometry orb.Geometry
}

// Validate checks the part against the catalogue: a valid code whose class
// matches Class, a known class, a geometry of a kind the class accepts with
// coordinates in range, closed rings. Errors are *CodeError or *FieldError.
func (p *Part) Validate(cat *Catalogue) error {
	if err := p.Code.validate(p.Code.String()); err != nil {
		return err
	}
	if p.Class == 0 {
		p.Class = p.Code.Class()
	}
	if p.Class != p.Code.Class() {
		return &FieldError{Field: "class", Reason: fmt.Sprintf("class %s does not match the class %s in code %s", p.Class, p.Code.Class(), p.Code), Err: ErrInvalid}
	}
	ci, ok := cat.Lookup(p.Class)
	if !ok {
		return cat.Validate(p.Class)
	}
	if int(p.State) >= len(stateNames) {
		return &FieldError{Field: "state", Reason: fmt.Sprintf("state %d is not one of 0-3", p.State), Err: ErrInvalid}
	}
	return validateGeometry(p.Geometry, ci)
}

func validateGeometry(g orb.Geometry, ci ClassInfo) error {
	bad := func(reason string) error {
		return &FieldError{Field: "geometry", Reason: reason, Err: ErrInvalid}
	}
	var pts []orb.Point
	switch g := g.(type) {
	case nil:
		return bad("missing")
	case orb.Point:
		if !ci.Accepts().Has(Point) {
			return bad(fmt.Sprintf("class %s (%s) accepts a %s, got a point", ci.Class, ci.NameEN, ci.Accepts()))
		}
		pts = []orb.Point{g}
	case orb.LineString:
		if !ci.Accepts().Has(Line) {
			return bad(fmt.Sprintf("class %s (%s) accepts a %s, got a line", ci.Class, ci.NameEN, ci.Accepts()))
		}
		if len(g) < 2 {
			return bad("a line needs at least 2 points")
		}
		pts = g
	case orb.Polygon:
		if !ci.Accepts().Has(Polygon) {
			return bad(fmt.Sprintf("class %s (%s) accepts a %s, got a polygon", ci.Class, ci.NameEN, ci.Accepts()))
		}
		if len(g) == 0 {
			return bad("a polygon needs an outer ring")
		}
		for i, r := range g {
			if len(r) < 4 {
				return bad(fmt.Sprintf("ring %d has %d points, a closed ring needs at least 4", i, len(r)))
			}
			if r[0] != r[len(r)-1] {
				return bad(fmt.Sprintf("ring %d is not closed", i))
			}
			pts = append(pts, r...)
		}
	default:
		return bad(fmt.Sprintf("%s is not a Point, LineString or Polygon", g.GeoJSONType()))
	}
	for _, p := range pts {
		if !(p[0] >= -180 && p[0] <= 180 && p[1] >= -90 && p[1] <= 90) {
			return bad(fmt.Sprintf("coordinate (%v, %v) is outside lon -180..180, lat -90..90", p[0], p[1]))
		}
	}
	return nil
}
