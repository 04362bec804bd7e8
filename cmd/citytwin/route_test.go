package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"citytwin/incidents"
	"citytwin/parts"
	"citytwin/store/gpkg"
	"citytwin/twin"
)

// TestRouteRealData runs the router over the real open data of
// ../shared/data: Cambridge's hydrants and street lights imported as
// components, its fire engine districts as unit grids. Every rule and
// fallback is exercised on real positions and owners.
func TestRouteRealData(t *testing.T) {
	dir := t.TempDir()
	city := filepath.Join(dir, "city.gpkg")
	if out, errOut, err := runCmd(t, "import", "--data", city, "--map", "code=HYDRANT_ID,class=0113,owner=ContractAuthority",
		sharedData(t, "cambridge_INFRA_Hydrants.geojson")); err != nil {
		t.Fatalf("hydrants: %v\n%s\n%s", err, out, errOut)
	}
	if out, errOut, err := runCmd(t, "import", "--data", city, "--map", "code=PoleID,class=0118,owner=Owner",
		sharedData(t, "cambridge_INFRA_StreetLights.geojson")); err != nil {
		t.Fatalf("street lights: %v\n%s\n%s", err, out, errOut)
	}
	var fs []feature
	for i, f := range readFeatures(t, "cambridge_PUBLICSAFETY_FireEngineDistricts.geojson") {
		if f.Geometry["type"] != "Polygon" {
			continue
		}
		f.Properties["GRID_CODE"] = fmt.Sprintf("1101010010010%d", i+1)
		f.Properties["COMMUNITY"] = "110101001001"
		fs = append(fs, f)
	}
	gp := filepath.Join(dir, "grids.geojson")
	writeFeatures(t, gp, fs)
	if out, errOut, err := runCmd(t, "import", "--data", city, "--grids", "--map", "code=GRID_CODE,name=ENGINE,parent=COMMUNITY", gp); err != nil {
		t.Fatalf("grids: %v\n%s\n%s", err, out, errOut)
	}

	ctx := context.Background()
	st, err := gpkg.Open(ctx, city)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tw, err := twin.Open(ctx, st, twin.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var hydrant, lamp parts.Part
	tw.Parts().Each(func(p parts.Part) bool {
		if p.Grid == "" {
			return true
		}
		switch {
		case p.Class == 113 && hydrant.Code == 0 && p.Owner != "":
			hydrant = p
		case p.Class == 118 && lamp.Code == 0 && p.Owner != "":
			lamp = p
		}
		return hydrant.Code == 0 || lamp.Code == 0
	})
	if hydrant.Code == 0 || lamp.Code == 0 {
		t.Fatal("no hydrant or street light with an owner inside a district")
	}
	g, err := tw.Grids().Get("11010100100101")
	if err != nil {
		t.Fatal(err)
	}
	// A point inside the first district far from any hydrant: the
	// district's centroid moved until no hydrant is within 15 m.
	far := g.Geometry.Bound().Center()
	inside := func(p orb.Point) bool {
		gg, err := tw.Grids().Locate(p)
		return err == nil && gg.Code == g.Code
	}
	for {
		ns, _ := tw.Parts().Nearest(ctx, far, 1, parts.Filter{Classes: []parts.Class{113}}, 40)
		if len(ns) == 0 && inside(far) {
			break
		}
		far[0] += 0.0003
	}
	near := twin.RepresentativePoint(lamp.Geometry)
	near[1] += 0.00003 // about 3 m north

	for name, tc := range map[string]struct {
		r        incidents.Report
		rule     string
		dept     string
		evidence func(e incidents.Evidence) bool
		err      error
	}{
		"hydrant by code": {r: incidents.Report{Type: incidents.TypeComponent, Code: hydrant.Code}, rule: "component-owner", dept: hydrant.Owner,
			evidence: func(e incidents.Evidence) bool { return e.Code == hydrant.Code }},
		"lamp by point": {r: incidents.Report{Type: incidents.TypeComponent, Class: "0118", Location: &near}, rule: "nearest-component", dept: lamp.Owner,
			evidence: func(e incidents.Evidence) bool { return e.Code != 0 && e.Distance != nil && *e.Distance <= 15 }},
		"hydrant class, none near": {r: incidents.Report{Type: incidents.TypeComponent, Class: "0113", Location: &far}, rule: "street-office",
			evidence: func(e incidents.Evidence) bool { return e.Grid == string(g.Code) }},
		"illegal parking": {r: incidents.Report{Type: incidents.TypeEvent, Class: "0505", Location: &far}, rule: "class-table",
			evidence: func(e incidents.Evidence) bool { return strings.Contains(e.Table, "event:0505") }},
		"outside every district": {r: incidents.Report{Type: incidents.TypeEvent, Class: "0102", Location: &orb.Point{-70.5, 42.3}}, err: incidents.ErrOutsideCity},
		"unknown hydrant":        {r: incidents.Report{Type: incidents.TypeComponent, Code: 1101010113999999}, err: incidents.ErrUnknownComponent},
	} {
		t.Run(name, func(t *testing.T) {
			r := tc.r
			r.Source, r.Description = incidents.SourceHotline, name
			c, _, err := tw.Report(ctx, r, incidents.Actor{Role: incidents.RolePublic})
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("err %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Route.Rule != tc.rule || (tc.dept != "" && c.Dept != tc.dept) || c.Dept == "" || !tc.evidence(c.Route.Evidence) {
				t.Fatalf("routed to %q by %s with %+v; want %s to %q", c.Dept, c.Route.Rule, c.Route.Evidence, tc.rule, tc.dept)
			}
		})
	}
}
