package incidents

import (
	"context"
	"errors"
	"testing"

	"citytwin/grid"
	"citytwin/parts"

	"github.com/paulmach/orb"
)

// metre is about one metre of latitude, in degrees.
const metre = 1 / 111195.0

func square(x0, y0, side float64) orb.Polygon {
	return orb.Polygon{{{x0, y0}, {x0 + side, y0}, {x0 + side, y0 + side}, {x0, y0 + side}, {x0, y0}}}
}

func code(t testing.TB, county uint32, class parts.Class, serial uint32) parts.Code {
	t.Helper()
	c, err := parts.NewCode(county, class, serial)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// testCity is two grids side by side in two districts, and a few parts.
//
//	grid A 32050800100101 [120.60,120.61] x [31.30,31.31], dept "street-320508001"
//	grid B 32050900200102 [120.61,120.62] x [31.30,31.31], no dept
type testCity struct {
	reg   *parts.Registry
	grids *grid.Index
	table *MemTable
	// parts
	lamp, cover, orphan, retired, gas parts.Code
	lampAt, coverAt                   orb.Point
}

func newTestCity(t testing.TB) *testCity {
	tc := &testCity{reg: parts.NewRegistry(nil), grids: grid.NewIndex()}
	for _, g := range []grid.Grid{
		{Code: "32050800100101", Name: "A", Dept: "street-320508001", Geometry: square(120.60, 31.30, 0.01)},
		{Code: "32050900200102", Name: "B", Geometry: square(120.61, 31.30, 0.01)},
	} {
		if _, _, err := tc.grids.Put(g); err != nil {
			t.Fatal(err)
		}
	}
	tc.lampAt = orb.Point{120.605, 31.305}
	tc.coverAt = orb.Point{120.615, 31.305}
	tc.lamp = code(t, 320508, 118, 1)
	tc.cover = code(t, 320509, 101, 1)
	tc.orphan = code(t, 320509, 114, 1) // unknown cover: owned by the street
	tc.retired = code(t, 320508, 118, 2)
	tc.gas = code(t, 320508, 111, 1)
	for _, p := range []parts.Part{
		{Code: tc.lamp, Owner: parts.DeptLighting, Maintainer: "lighting-maint-320508", Supervisor: parts.DeptCityMgmt, Grid: "32050800100101", Geometry: tc.lampAt},
		{Code: tc.cover, Owner: parts.DeptWater, Maintainer: "water-maint", Grid: "32050900200102", Geometry: tc.coverAt},
		{Code: tc.orphan, Owner: parts.DeptStreet, Grid: "32050900200102", Geometry: orb.Point{120.616, 31.306}},
		{Code: tc.retired, Owner: parts.DeptLighting, Grid: "32050800100101", Retired: true, Geometry: orb.Point{120.6051, 31.3051}},
		// A gas cover 3 m from the lamp: another class, never the lamp's match.
		{Code: tc.gas, Owner: parts.DeptGas, Grid: "32050800100101", Geometry: orb.Point{120.605, 31.305 + 3*metre}},
	} {
		p.Class = p.Code.Class()
		tc.reg.Put(p)
	}
	tc.table = NewMemTable(
		Responsibility{District: "320508", Type: TypeEvent, Class: "0102", Dept: "sanitation-320508"},
		Responsibility{District: Wildcard, Type: TypeEvent, Class: "0102", Dept: parts.DeptSanitation},
		Responsibility{District: Wildcard, Type: TypeEvent, Class: "0505", Dept: DeptChengguan},
		Responsibility{District: "320509", Type: TypeComponent, Class: "0118", Dept: "lighting-320509"},
	)
	return tc
}

func (tc *testCity) router() *Router {
	return &Router{Parts: tc.reg, Grids: tc.grids, Table: tc.table,
		MaintainerClasses: map[parts.Class]bool{118: true, 405: true}}
}

func TestRoute(t *testing.T) {
	tc := newTestCity(t)
	pt := func(p orb.Point, dx, dy float64) orb.Point { return orb.Point{p[0] + dx*metre, p[1] + dy*metre} }
	type want struct {
		rule, dept string
		code       parts.Code
		table      string
		grid       string
		street     string
		dist       bool
		err        error
	}
	tests := map[string]struct {
		c      Case
		router func(*Router)
		want   want
	}{
		"code: owner": {c: Case{Type: TypeComponent, Code: tc.cover},
			want: want{rule: RuleComponentOwner, dept: parts.DeptWater, code: tc.cover, grid: "32050900200102"}},
		"code without a type: owner": {c: Case{Code: tc.cover},
			want: want{rule: RuleComponentOwner, dept: parts.DeptWater, code: tc.cover, grid: "32050900200102"}},
		"code: maintainer class": {c: Case{Type: TypeComponent, Code: tc.lamp},
			want: want{rule: RuleComponentMaintainer, dept: "lighting-maint-320508", code: tc.lamp, grid: "32050800100101"}},
		"code: maintainer class off": {c: Case{Type: TypeComponent, Code: tc.lamp}, router: func(r *Router) { r.MaintainerClasses = nil },
			want: want{rule: RuleComponentOwner, dept: parts.DeptLighting, code: tc.lamp, grid: "32050800100101"}},
		"code: no owner goes to the street office": {c: Case{Type: TypeComponent, Code: tc.orphan},
			want: want{rule: RuleStreetOffice, dept: "street-320509002", code: tc.orphan, grid: "32050900200102", street: "320509002"}},
		"code: unknown":         {c: Case{Type: TypeComponent, Code: code(t, 320508, 118, 99)}, want: want{err: ErrUnknownComponent}},
		"code: retired":         {c: Case{Type: TypeComponent, Code: tc.retired}, want: want{err: ErrUnknownComponent}},
		"code: class mismatch":  {c: Case{Type: TypeComponent, Code: tc.lamp, Class: "0101"}, want: want{err: ErrInvalid}},
		"code on an event case": {c: Case{Type: TypeEvent, Class: "0505", Code: tc.lamp}, want: want{err: ErrInvalid}},
		"point: nearest lamp within 15 m": {c: Case{Type: TypeComponent, Class: "0118", Location: pt(tc.lampAt, 10, 0)},
			want: want{rule: RuleNearestComponent, dept: "lighting-maint-320508", code: tc.lamp, dist: true, grid: "32050800100101"}},
		"point: nearest cover, owner": {c: Case{Type: TypeComponent, Class: "0101", Location: pt(tc.coverAt, 0, -12)},
			want: want{rule: RuleNearestComponent, dept: parts.DeptWater, code: tc.cover, dist: true, grid: "32050900200102"}},
		"point: nearest gas cover ignores the lamp": {c: Case{Type: TypeComponent, Class: "0111", Location: tc.lampAt},
			want: want{rule: RuleNearestComponent, dept: parts.DeptGas, code: tc.gas, dist: true, grid: "32050800100101"}},
		"point: a larger radius": {c: Case{Type: TypeComponent, Class: "0101", Location: pt(tc.coverAt, 0, -40)}, router: func(r *Router) { r.MaxDistance = 50 },
			want: want{rule: RuleNearestComponent, dept: parts.DeptWater, code: tc.cover, dist: true, grid: "32050900200102"}},
		"point: beyond 15 m, district table row": {c: Case{Type: TypeComponent, Class: "0118", Location: pt(tc.coverAt, 0, 100)},
			want: want{rule: RuleClassTable, dept: "lighting-320509", table: "320509/component:0118", grid: "32050900200102", street: "320509002"}},
		"point: beyond 15 m, no row, street office of the grid": {c: Case{Type: TypeComponent, Class: "0118", Location: pt(tc.lampAt, 100, 0)},
			want: want{rule: RuleStreetOffice, dept: "street-320508001", grid: "32050800100101", street: "320508001"}},
		"point: beyond 15 m, grid without dept": {c: Case{Type: TypeComponent, Class: "0101", Location: pt(tc.coverAt, 0, 100)},
			want: want{rule: RuleStreetOffice, dept: "street-320509002", grid: "32050900200102", street: "320509002"}},
		"point: no table at all": {c: Case{Type: TypeComponent, Class: "0118", Location: pt(tc.coverAt, 0, 100)}, router: func(r *Router) { r.Table = nil },
			want: want{rule: RuleStreetOffice, dept: "street-320509002", grid: "32050900200102", street: "320509002"}},
		"point: outside the city":        {c: Case{Type: TypeComponent, Class: "0118", Location: orb.Point{121, 31}}, want: want{err: ErrOutsideCity}},
		"point: unknown component class": {c: Case{Type: TypeComponent, Class: "0199", Location: tc.lampAt}, want: want{err: ErrUnknownClass}},
		"point: malformed class":         {c: Case{Type: TypeComponent, Class: "lamp", Location: tc.lampAt}, want: want{err: ErrUnknownClass}},
		"point: bad location":            {c: Case{Type: TypeComponent, Class: "0118", Location: orb.Point{200, 31}}, want: want{err: ErrInvalid}},
		"event: district row": {c: Case{Type: TypeEvent, Class: "0102", Location: tc.lampAt},
			want: want{rule: RuleClassTable, dept: "sanitation-320508", table: "320508/event:0102", grid: "32050800100101", street: "320508001"}},
		"event: wildcard row": {c: Case{Type: TypeEvent, Class: "0102", Location: tc.coverAt},
			want: want{rule: RuleClassTable, dept: parts.DeptSanitation, table: "*/event:0102", grid: "32050900200102", street: "320509002"}},
		"event: no row, street office": {c: Case{Type: TypeEvent, Class: "0301", Location: tc.coverAt},
			want: want{rule: RuleStreetOffice, dept: "street-320509002", grid: "32050900200102", street: "320509002"}},
		"event: the component table does not apply": {c: Case{Type: TypeEvent, Class: "0118", Location: tc.coverAt}, want: want{err: ErrUnknownClass}},
		"event: outside the city":                   {c: Case{Type: TypeEvent, Class: "0505", Location: orb.Point{121, 31}}, want: want{err: ErrOutsideCity}},
		"event: unknown class":                      {c: Case{Type: TypeEvent, Class: "0999", Location: tc.lampAt}, want: want{err: ErrUnknownClass}},
		"no type":                                   {c: Case{Class: "0505", Location: tc.lampAt}, want: want{err: ErrInvalid}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			r := tc.router()
			if tt.router != nil {
				tt.router(r)
			}
			c := tt.c
			rt, dept, err := r.Route(context.Background(), &c)
			if tt.want.err != nil {
				if !errors.Is(err, tt.want.err) {
					t.Fatalf("got %v, want %v", err, tt.want.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if dept == "" || dept != tt.want.dept || rt.Rule != tt.want.rule || c.Dept != dept || c.Route.Rule != rt.Rule {
				t.Fatalf("got %s by %s (case %s %s), want %s by %s", dept, rt.Rule, c.Dept, c.Route.Rule, tt.want.dept, tt.want.rule)
			}
			ev := rt.Evidence
			if ev.Code != tt.want.code || ev.Table != tt.want.table || ev.Street != tt.want.street || (ev.Distance != nil) != tt.want.dist {
				t.Fatalf("evidence %+v, want %+v", ev, tt.want)
			}
			if tt.want.dist && (*ev.Distance < 0 || *ev.Distance > max(r.MaxDistance, DefaultMaxDistance)) {
				t.Fatalf("distance %v", *ev.Distance)
			}
			if c.Grid != tt.want.grid {
				t.Fatalf("case grid %q, want %q", c.Grid, tt.want.grid)
			}
			if tt.want.code != 0 && c.Code != tt.want.code {
				t.Fatalf("case code %s, want %s", c.Code, tt.want.code)
			}
			if c.Location == (orb.Point{}) || c.Class == "" {
				t.Fatalf("case location %v class %q not filled", c.Location, c.Class)
			}
		})
	}
}

func TestRouteCancelled(t *testing.T) {
	tc := newTestCity(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c := Case{Type: TypeEvent, Class: "0505", Location: tc.lampAt}
	if _, _, err := tc.router().Route(ctx, &c); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v", err)
	}
}

func TestDefaultResponsibilities(t *testing.T) {
	rows := DefaultResponsibilities(DefaultEvents())
	tbl := NewMemTable(rows...)
	for key, dept := range map[string]string{"event:0102": parts.DeptSanitation, "event:0104": parts.DeptSanitation,
		"event:0501": DeptChengguan, "event:0510": DeptChengguan, "event:0403": parts.DeptGas} {
		if r, ok := tbl.Responsible("320508", key); !ok || r.Dept != dept {
			t.Errorf("%s: got %+v %v, want %s", key, r, ok, dept)
		}
	}
	for _, r := range rows {
		if err := r.Validate(); err != nil {
			t.Errorf("%+v: %v", r, err)
		}
	}
	if _, err := tbl.Delete(Wildcard, ClassKey(TypeEvent, "0102")); err != nil {
		t.Fatal(err)
	}
	if _, ok := tbl.Get(Wildcard, "event:0104"); !ok {
		t.Fatal("Get misses the wildcard row")
	}
	if _, ok := tbl.Get("320508", "event:0104"); ok {
		t.Fatal("Get falls back to the wildcard")
	}
	if _, ok := tbl.Responsible("320508", "event:0102"); ok {
		t.Fatal("deleted row still answers")
	}
	if _, err := tbl.Delete(Wildcard, ClassKey(TypeEvent, "0102")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("got %v", err)
	}
}
