package grid

import (
	"errors"
	"slices"
	"testing"

	"github.com/paulmach/orb"
)

// divisionIndex holds grids in two districts, three streets, four
// communities, with 14- and 15-digit codes mixed.
func divisionIndex(t *testing.T) *Index {
	t.Helper()
	ix := NewIndex()
	codes := []Code{
		"51010400100101", "51010400100102", "51010400100201",
		"51010400200101",
		"510105100001001", "510105100001002",
	}
	for i, c := range codes {
		x := 104 + float64(i)*0.01
		if _, _, err := ix.Put(Grid{Code: c, Name: "g" + string(c[len(c)-2:]), Geometry: orb.Polygon{square(x, 30, x+0.01, 30.01)}}); err != nil {
			t.Fatal(err)
		}
	}
	ix.SetDivision(Division{Code: "510104", Name: "锦江区"})
	ix.SetDivision(Division{Code: "510104001", Name: "督院街街道"})
	ix.SetDivision(Division{Code: "510104001001", Name: "东门社区"})
	ix.SetDivision(Division{Code: "510199", Name: "no grids here"})
	ix.SetDivision(Division{Code: "5101", Name: "ignored"})
	return ix
}

func TestDivision(t *testing.T) {
	ix := divisionIndex(t)
	tests := map[string]struct {
		code string
		want Division
		err  error
	}{
		"named district":    {code: "510104", want: Division{Code: "510104", Name: "锦江区", Level: District}},
		"unnamed district":  {code: "510105", want: Division{Code: "510105", Level: District}},
		"named street":      {code: "510104001", want: Division{Code: "510104001", Name: "督院街街道", Level: Street}},
		"town street":       {code: "510105100", want: Division{Code: "510105100", Level: Street}},
		"named community":   {code: "510104001001", want: Division{Code: "510104001001", Name: "东门社区", Level: Community}},
		"unnamed community": {code: "510104001002", want: Division{Code: "510104001002", Level: Community}},
		"named, no grids":   {code: "510199", err: ErrNotFound},
		"unknown street":    {code: "510104003", err: ErrNotFound},
		"4 digits":          {code: "5101", err: ErrInvalidCode},
		"grid code":         {code: "51010400100101", err: ErrInvalidCode},
		"letters":           {code: "51010A", err: ErrInvalidCode},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := ix.Division(tc.code)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("Division(%q) = %v, %v; want %v", tc.code, got, err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("Division(%q) = %+v, %v; want %+v", tc.code, got, err, tc.want)
			}
		})
	}
	ix.SetDivision(Division{Code: "510104", Name: ""})
	if d, err := ix.Division("510104"); err != nil || d.Name != "" {
		t.Errorf("Division after clearing the name = %+v, %v", d, err)
	}
}

func TestDivisions(t *testing.T) {
	ix := divisionIndex(t)
	codes := func(ds []Division) []string {
		var out []string
		for _, d := range ds {
			out = append(out, d.Code)
		}
		return out
	}
	tests := map[string]struct {
		level  Level
		parent string
		want   []string
	}{
		"all districts":          {District, "", []string{"510104", "510105"}},
		"streets of a district":  {Street, "510104", []string{"510104001", "510104002"}},
		"all streets":            {Street, "", []string{"510104001", "510104002", "510105100"}},
		"communities of street":  {Community, "510104001", []string{"510104001001", "510104001002"}},
		"communities, district":  {Community, "510105", []string{"510105100001"}},
		"grids of a community":   {Cell, "510104001001", []string{"51010400100101", "51010400100102"}},
		"15-digit grids":         {Cell, "510105100001", []string{"510105100001001", "510105100001002"}},
		"unknown parent":         {Street, "510106", nil},
		"parent below the level": {Street, "510104001", nil},
		"no level":               {0, "", nil},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := ix.Divisions(tc.level, tc.parent)
			if !slices.Equal(codes(got), tc.want) {
				t.Fatalf("Divisions(%v, %q) = %v; want %v", tc.level, tc.parent, codes(got), tc.want)
			}
			for _, d := range got {
				if d.Level != tc.level {
					t.Errorf("%s has level %v; want %v", d.Code, d.Level, tc.level)
				}
			}
		})
	}
	ds := ix.Divisions(District, "")
	if ds[0].Name != "锦江区" || ds[1].Name != "" {
		t.Errorf("district names = %q, %q", ds[0].Name, ds[1].Name)
	}
	if gs := ix.Divisions(Cell, "510104001001"); gs[0].Name != "g01" {
		t.Errorf("grid as Division has name %q; want the grid's name", gs[0].Name)
	}
}

func TestChildren(t *testing.T) {
	ix := divisionIndex(t)
	tests := map[string]struct {
		prefix string
		want   []Code
		err    error
	}{
		"district":      {prefix: "510104", want: []Code{"51010400100101", "51010400100102", "51010400100201", "51010400200101"}},
		"street":        {prefix: "510104001", want: []Code{"51010400100101", "51010400100102", "51010400100201"}},
		"community":     {prefix: "510105100001", want: []Code{"510105100001001", "510105100001002"}},
		"empty":         {prefix: "510106", err: ErrNotFound},
		"bad length":    {prefix: "5101041", err: ErrInvalidCode},
		"not digits":    {prefix: "51010400100x", err: ErrInvalidCode},
		"no prefix":     {prefix: "", err: ErrInvalidCode},
		"a grid itself": {prefix: "51010400100101", err: ErrInvalidCode},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := ix.Children(tc.prefix)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("Children(%q) = %v, %v; want %v", tc.prefix, got, err, tc.err)
				}
				return
			}
			if err != nil || !slices.Equal(got, tc.want) {
				t.Fatalf("Children(%q) = %v, %v; want %v", tc.prefix, got, err, tc.want)
			}
		})
	}
	// Children follows removals.
	if _, err := ix.Remove("51010400200101"); err != nil {
		t.Fatal(err)
	}
	if _, err := ix.Children("510104002"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Children of an emptied street = %v; want ErrNotFound", err)
	}
	if got := ix.Divisions(Street, "510104"); len(got) != 1 {
		t.Errorf("Divisions after removal = %v; want one street", got)
	}
}
