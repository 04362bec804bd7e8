package incidents

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"citytwin/grid"
	"citytwin/parts"

	"github.com/paulmach/orb"
)

// Components is what the Router needs of the component registry;
// *parts.Registry satisfies it.
type Components interface {
	Get(parts.Code) (parts.Part, error)
	Nearest(ctx context.Context, pt orb.Point, k int, f parts.Filter, maxDist float64) ([]parts.Neighbor, error)
}

// Grids is what the Router needs of the grid index; *grid.Index
// satisfies it.
type Grids interface {
	Locate(orb.Point) (grid.Grid, error)
}

// Table is a class responsibility table: Responsible returns the row of
// the class key (ClassKey: "event:0505", "component:0118") in the 6-digit
// district, or else its wildcard ("*") row. *MemTable satisfies it.
type Table interface {
	Responsible(district, class string) (Responsibility, bool)
}

// DefaultMaxDistance is the default radius, in metres, within which a
// point report finds the component it is about.
const DefaultMaxDistance = 15

// Router names the department responsible for a case and the evidence of
// its choice (DOMAIN.md, "Routing"). Configure its fields, then share it:
// Route is safe for concurrent use when Parts, Grids and Table are.
type Router struct {
	Parts Components
	Grids Grids
	Table Table // nil: no class table, point reports go to the street office
	// MaxDistance is the radius in metres of the nearest-component search;
	// 0 means DefaultMaxDistance.
	MaxDistance float64
	Catalogue   *parts.Catalogue // component classes; nil means parts.DefaultCatalogue()
	Events      *Events          // event classes; nil means DefaultEvents()
	// MaintainerClasses lists the component classes whose cases go to the
	// component's maintenance unit (养护单位, DeptCode3) rather than its
	// owner, when the component names one (e.g. street lamps 0118 and
	// green spaces 0405 in cities that contract their upkeep out).
	MaintainerClasses map[parts.Class]bool

	once   sync.Once
	cat    *parts.Catalogue
	events *Events
}

func (r *Router) init() {
	r.once.Do(func() {
		r.cat, r.events = r.Catalogue, r.Events
		if r.cat == nil {
			r.cat = parts.DefaultCatalogue()
		}
		if r.events == nil {
			r.events = DefaultEvents()
		}
	})
}

// StreetOffice returns the department of a grid's street office: the
// grid's Dept, or "street-<9-digit street code>" when it has none.
func StreetOffice(g grid.Grid) string {
	if g.Dept != "" {
		return g.Dept
	}
	return "street-" + g.Code.Street()
}

// Route chooses the department of c and returns it with the rule and the
// evidence; it also stores them in c (Dept, Route) together with what it
// learnt: the Class of a code, the Code of the nearest component, the
// Grid holding the point and, for a code report without one, the
// component's Location. It never returns an empty department without an
// error.
//
// A component case with a Code goes to the component's owner (rule
// component-owner), or its maintainer for MaintainerClasses
// (component-maintainer); an unknown or retired code is an error wrapping
// ErrUnknownComponent. A component case with a point goes to the owner of
// the nearest live component of its class within MaxDistance
// (nearest-component). Otherwise, and for event cases, the district's row
// of the class responsibility table decides (class-table), else the
// street office of the grid holding the point (street-office); a point in
// no grid is an error wrapping ErrOutsideCity. A component without an
// owner (or owned by parts.DeptStreet) is routed like a point report.
// Unknown classes wrap ErrUnknownClass; a malformed case is a *FieldError.
func (r *Router) Route(ctx context.Context, c *Case) (Route, string, error) {
	if err := ctx.Err(); err != nil {
		return Route{}, "", err
	}
	r.init()
	if c.Type == "" && c.Code != 0 {
		c.Type = TypeComponent
	}
	var (
		rt   Route
		dept string
		err  error
	)
	switch c.Type {
	case TypeComponent:
		rt, dept, err = r.component(ctx, c)
	case TypeEvent:
		if c.Code != 0 {
			return Route{}, "", &FieldError{Field: "code", Reason: "an event case carries no component code"}
		}
		if err := r.events.Validate(c.Class); err != nil {
			return Route{}, "", err
		}
		rt, dept, err = r.area(c, Evidence{})
	default:
		_, err = ParseType(string(c.Type))
	}
	if err != nil {
		return Route{}, "", err
	}
	if dept == "" { // a component or grid with an empty department code
		return Route{}, "", fmt.Errorf("%w: case %s (%s) by rule %s", ErrNoDepartment, c.ID, c.Key(), rt.Rule)
	}
	c.Dept, c.Route = dept, rt
	return rt, dept, nil
}

func (r *Router) class(s string) (parts.Class, error) {
	cl, err := parts.ParseClass(s)
	if err != nil {
		return 0, fmt.Errorf("%w: component class %q is not a 4-digit class", ErrUnknownClass, s)
	}
	if _, ok := r.cat.Lookup(cl); !ok {
		return 0, fmt.Errorf("%w: component class %s is not in the catalogue", ErrUnknownClass, cl)
	}
	return cl, nil
}

// responsible returns the department of a component for its class.
func (r *Router) responsible(p *parts.Part) (dept, rule string) {
	if r.MaintainerClasses[p.Code.Class()] && p.Maintainer != "" {
		return p.Maintainer, RuleComponentMaintainer
	}
	return p.Owner, RuleComponentOwner
}

func unowned(dept string) bool { return dept == "" || dept == parts.DeptStreet }

func (r *Router) component(ctx context.Context, c *Case) (Route, string, error) {
	if c.Code != 0 {
		cl := c.Code.Class()
		if c.Class != "" && c.Class != cl.String() {
			return Route{}, "", &FieldError{Field: "class", Reason: fmt.Sprintf("class %s does not match the class %s of code %s", c.Class, cl, c.Code)}
		}
		c.Class = cl.String()
		if _, err := r.class(c.Class); err != nil {
			return Route{}, "", err
		}
		p, err := r.Parts.Get(c.Code)
		if err != nil {
			if errors.Is(err, parts.ErrNotFound) || errors.Is(err, parts.ErrRetired) {
				return Route{}, "", fmt.Errorf("%w: %s: %w", ErrUnknownComponent, c.Code, err)
			}
			return Route{}, "", err
		}
		if c.Location == (orb.Point{}) && p.Geometry != nil {
			c.Location = representative(p.Geometry)
		}
		if c.Grid == "" {
			c.Grid = p.Grid
		}
		dept, rule := r.responsible(&p)
		if unowned(dept) {
			return r.area(c, Evidence{Code: p.Code, Reason: "the component has no owner"})
		}
		return Route{Rule: rule, Evidence: Evidence{Code: p.Code, Grid: p.Grid}}, dept, nil
	}

	cl, err := r.class(c.Class)
	if err != nil {
		return Route{}, "", err
	}
	if err := validatePoint("location", c.Location); err != nil {
		return Route{}, "", err
	}
	maxDist := r.MaxDistance
	if !(maxDist > 0) {
		maxDist = DefaultMaxDistance
	}
	ns, err := r.Parts.Nearest(ctx, c.Location, 1, parts.Filter{Classes: []parts.Class{cl}}, maxDist)
	if err != nil {
		if errors.Is(err, parts.ErrInvalidQuery) {
			return Route{}, "", &FieldError{Field: "location", Reason: err.Error()}
		}
		return Route{}, "", err
	}
	if len(ns) == 0 {
		return r.area(c, Evidence{})
	}
	p, d := &ns[0].Part, ns[0].Distance
	c.Code = p.Code
	if c.Grid == "" {
		if g, err := r.locate(c.Location); err == nil {
			c.Grid = string(g.Code)
		} else {
			c.Grid = p.Grid
		}
	}
	dept, why := r.responsible(p)
	if unowned(dept) {
		return r.area(c, Evidence{Code: p.Code, Distance: &d, Reason: "the nearest component has no owner"})
	}
	ev := Evidence{Code: p.Code, Distance: &d, Grid: c.Grid}
	if why == RuleComponentMaintainer {
		ev.Reason = "maintainer"
	}
	return Route{Rule: RuleNearestComponent, Evidence: ev}, dept, nil
}

func (r *Router) locate(pt orb.Point) (grid.Grid, error) {
	if r.Grids == nil {
		return grid.Grid{}, grid.ErrNotFound
	}
	return r.Grids.Locate(pt)
}

// area routes by the class table of the district, then the street office
// of the grid holding the case's location; ev carries what earlier rules
// found.
func (r *Router) area(c *Case, ev Evidence) (Route, string, error) {
	var district, street, office string
	g, err := r.locate(c.Location)
	switch {
	case err == nil:
		district, street, office = g.Code.District(), g.Code.Street(), StreetOffice(g)
		if c.Grid == "" {
			c.Grid = string(g.Code)
		}
	case !errors.Is(err, grid.ErrNotFound):
		return Route{}, "", err
	case c.Grid != "" && len(c.Grid) >= 9:
		// A component outside every grid polygon still names its grid.
		gc := grid.Code(c.Grid)
		district, street, office = gc.District(), gc.Street(), "street-"+gc.Street()
	default:
		return Route{}, "", fmt.Errorf("%w: (%v, %v)", ErrOutsideCity, c.Location[0], c.Location[1])
	}
	ev.Grid, ev.Street = c.Grid, street
	if r.Table != nil {
		if row, ok := r.Table.Responsible(district, c.Key()); ok && row.Dept != "" {
			ev.Table = row.Key()
			return Route{Rule: RuleClassTable, Evidence: ev}, row.Dept, nil
		}
	}
	return Route{Rule: RuleStreetOffice, Evidence: ev}, office, nil
}

// representative returns a point of a geometry to locate a case at: the
// point itself, else the centre of its box.
func representative(g orb.Geometry) orb.Point {
	if p, ok := g.(orb.Point); ok {
		return p
	}
	return g.Bound().Center()
}
