package grid

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestParseCode(t *testing.T) {
	tests := map[string]struct {
		in        string
		field     string // "" when valid
		district  string
		street    string
		community string
	}{
		"jilin 14 digits":          {in: "22020600100109", district: "220206", street: "220206001", community: "220206001001"},
		"beijing 15 digits":        {in: "110105001002003", district: "110105", street: "110105001", community: "110105001002"},
		"15 digits serial 100":     {in: "110105001002100", district: "110105", street: "110105001", community: "110105001002"},
		"town street 100":          {in: "51010410000101", district: "510104", street: "510104100", community: "510104100001"},
		"highest county":           {in: "82999900100101", district: "829999", street: "829999001", community: "829999001001"},
		"empty":                    {in: "", field: "length"},
		"13 digits":                {in: "2202060010010", field: "length"},
		"16 digits":                {in: "2202060010010901", field: "length"},
		"letter":                   {in: "2202060010010A", field: "digits"},
		"space":                    {in: "22020600100 09", field: "digits"},
		"unicode digit":            {in: "22020600100１", field: "digits"},
		"county too low":           {in: "10999900100101", field: "county"},
		"county too high":          {in: "83000000100101", field: "county"},
		"street 000":               {in: "22020600000109", field: "street"},
		"community 000":            {in: "22020600100009", field: "community"},
		"serial 00 names a commun": {in: "22020600100100", field: "serial"},
		"15 digits serial 000":     {in: "110105001002000", field: "serial"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			c, err := ParseCode(tc.in)
			if tc.field != "" {
				var ce *CodeError
				if !errors.As(err, &ce) {
					t.Fatalf("ParseCode(%q) = %q, %v; want a *CodeError", tc.in, c, err)
				}
				if ce.Field != tc.field || ce.Input != tc.in {
					t.Errorf("CodeError = %+v; want Field %q, Input %q", ce, tc.field, tc.in)
				}
				if !errors.Is(err, ErrInvalidCode) {
					t.Errorf("errors.Is(%v, ErrInvalidCode) = false", err)
				}
				if msg := err.Error(); !strings.HasPrefix(msg, "grid: ") || !strings.Contains(msg, fmt.Sprintf("%q", tc.in)) || !strings.Contains(msg, tc.field) {
					t.Errorf("error %q does not name the input and the field", msg)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseCode(%q): %v", tc.in, err)
			}
			if string(c) != tc.in || c.District() != tc.district || c.Street() != tc.street || c.Community() != tc.community {
				t.Errorf("ParseCode(%q) = %q (%s, %s, %s); want %s, %s, %s", tc.in, c, c.District(), c.Street(), c.Community(), tc.district, tc.street, tc.community)
			}
			if LevelOf(string(c)) != Cell {
				t.Errorf("LevelOf(%q) = %v; want grid", c, LevelOf(string(c)))
			}
		})
	}
}

func TestLevelOf(t *testing.T) {
	tests := map[string]struct {
		in   string
		want Level
		name string
	}{
		"district":  {"510104", District, "district"},
		"street":    {"510104001", Street, "street"},
		"community": {"510104001001", Community, "community"},
		"grid 14":   {"51010400100101", Cell, "grid"},
		"grid 15":   {"510104001001001", Cell, "grid"},
		"empty":     {"", 0, "Level(0)"},
		"7 digits":  {"5101040", 0, "Level(0)"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := LevelOf(tc.in); got != tc.want || got.String() != tc.name {
				t.Errorf("LevelOf(%q) = %v (%d); want %v", tc.in, got, got, tc.want)
			}
		})
	}
}

func FuzzParseCode(f *testing.F) {
	for _, s := range []string{"22020600100109", "110105001002003", "", "2202060010010A", "22020600000109", "110105001002000", "83000000100101"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCode(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidCode) {
				t.Fatalf("ParseCode(%q) error %v does not wrap ErrInvalidCode", s, err)
			}
			var ce *CodeError
			if !errors.As(err, &ce) || ce.Input != s || ce.Field == "" || ce.Reason == "" {
				t.Fatalf("ParseCode(%q) error %#v does not carry the input, field and reason", s, err)
			}
			if c != "" {
				t.Fatalf("ParseCode(%q) = %q with an error", s, c)
			}
			return
		}
		if string(c) != s || (len(s) != 14 && len(s) != 15) {
			t.Fatalf("ParseCode(%q) = %q", s, c)
		}
		for i := 0; i < len(s); i++ {
			if s[i] < '0' || s[i] > '9' {
				t.Fatalf("ParseCode accepted %q with a non-digit", s)
			}
		}
		if !strings.HasPrefix(string(c), c.Community()) || !strings.HasPrefix(c.Community(), c.Street()) || !strings.HasPrefix(c.Street(), c.District()) {
			t.Fatalf("prefixes of %q do not nest: %s %s %s", c, c.District(), c.Street(), c.Community())
		}
		if c.Street()[6:] == "000" || c.Community()[9:] == "000" || strings.Trim(string(c[12:]), "0") == "" {
			t.Fatalf("ParseCode accepted %q with a zero part", s)
		}
		if c2, err := ParseCode(string(c)); err != nil || c2 != c {
			t.Fatalf("ParseCode(ParseCode(%q)) = %q, %v", s, c2, err)
		}
	})
}
