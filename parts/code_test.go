package parts_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"citytwin/parts"

	"github.com/paulmach/orb"
)

func TestParseCode(t *testing.T) {
	tests := []struct {
		in    string
		field string // "" when valid
	}{
		{"3205080101000001", ""},
		{"1100000101000001", ""},
		{"8299999999999999", ""},
		{"320508010100000", "length"},
		{"32050801010000011", "length"},
		{"32050801010000a1", "digits"},
		{"+205080101000001", "digits"},
		{"1099990101000001", "county"},
		{"8300000101000001", "county"},
		{"3205080001000001", "major"},
		{"3205080100000001", "minor"},
		{"3205080101000000", "serial"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			c, err := parts.ParseCode(tt.in)
			if tt.field == "" {
				if err != nil || c.String() != tt.in {
					t.Fatalf("ParseCode = %v, %v", c, err)
				}
				return
			}
			var ce *parts.CodeError
			if !errors.As(err, &ce) || ce.Field != tt.field || ce.Input != tt.in || !errors.Is(err, parts.ErrInvalidCode) {
				t.Fatalf("err = %v, want CodeError on %s", err, tt.field)
			}
		})
	}
	c, _ := parts.ParseCode("3205080101000001")
	if c.County() != 320508 || c.Class() != 101 || c.Serial() != 1 || c.Class().Major() != 1 {
		t.Errorf("parts of %s: %d %d %d", c, c.County(), c.Class(), c.Serial())
	}
}

func TestNewCode(t *testing.T) {
	c, err := parts.NewCode(320508, 101, 1)
	if err != nil || c.String() != "3205080101000001" {
		t.Fatalf("NewCode = %v, %v", c, err)
	}
	for _, tc := range []struct {
		name                  string
		county, class, serial uint32
	}{
		{"county too long", 1234567, 101, 1},
		{"serial too long", 320508, 101, 1000000},
		{"serial zero", 320508, 101, 0},
		{"minor zero", 320508, 100, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := parts.NewCode(tc.county, parts.Class(tc.class), tc.serial); !errors.Is(err, parts.ErrInvalidCode) {
				t.Fatalf("err = %v", err)
			}
		})
	}
	var back parts.Code
	if err := back.UnmarshalText([]byte("3205080101000001")); err != nil || back != c {
		t.Fatalf("UnmarshalText = %v, %v", back, err)
	}
	if txt, _ := c.MarshalText(); string(txt) != "3205080101000001" {
		t.Fatalf("MarshalText = %s", txt)
	}
}

func TestParseClass(t *testing.T) {
	tests := []struct {
		in   string
		want parts.Class
		ok   bool
	}{
		{"0101", 101, true},
		{"0602", 602, true},
		{"0298", 298, true},
		{"101", 0, false},
		{"0100", 0, false},
		{"0001", 0, false},
		{"01a1", 0, false},
		{"+101", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			c, err := parts.ParseClass(tt.in)
			if tt.ok != (err == nil) || c != tt.want {
				t.Fatalf("ParseClass = %v, %v", c, err)
			}
			if err != nil && !errors.Is(err, parts.ErrUnknownClass) {
				t.Fatalf("err %v does not wrap ErrUnknownClass", err)
			}
			if err == nil && c.String() != tt.in {
				t.Fatalf("String = %s", c)
			}
		})
	}
}

func TestCatalogue(t *testing.T) {
	cat := parts.DefaultCatalogue()
	if ci, ok := cat.Lookup(101); !ok || ci.Kind != parts.Point || ci.Owner != parts.DeptWater {
		t.Fatalf("Lookup(0101) = %+v, %v", ci, ok)
	}
	if err := cat.Validate(199); !errors.Is(err, parts.ErrUnknownClass) {
		t.Fatalf("Validate(0199) = %v", err)
	}
	cat.Add(parts.ClassInfo{Class: 298, Name: "其它", Kind: parts.Point})
	if ci, ok := cat.Lookup(298); !ok || ci.Owner != parts.DeptStreet || ci.Super != parts.DeptCityMgmt {
		t.Fatalf("local class defaults: %+v", ci)
	}
	all := cat.All()
	for i := 1; i < len(all); i++ {
		if all[i-1].Class >= all[i].Class {
			t.Fatalf("All not ascending at %d", i)
		}
	}
}

func TestStates(t *testing.T) {
	for _, in := range []string{"破损", "damaged", "1"} {
		if s, err := parts.ParseState(in); err != nil || s != parts.Damaged {
			t.Errorf("ParseState(%q) = %v, %v", in, s, err)
		}
	}
	if _, err := parts.ParseState("broken"); !errors.Is(err, parts.ErrInvalid) {
		t.Errorf("ParseState(broken) err = %v", err)
	}
	if s, err := parts.ParseSource("调绘"); err != nil || s != parts.Sketched || s.String() != "调绘" {
		t.Errorf("ParseSource = %v, %v", s, err)
	}
	if _, err := parts.ParseSource("x"); err == nil {
		t.Error("ParseSource(x) accepted")
	}
}

func TestPartValidate(t *testing.T) {
	cat := parts.DefaultCatalogue()
	code := func(s string) parts.Code { c, _ := parts.ParseCode(s); return c }
	sq := orb.Ring{{104, 30}, {104.01, 30}, {104.01, 30.01}, {104, 30}}
	tests := []struct {
		name  string
		p     parts.Part
		field string // "" when valid
	}{
		{"point cover", parts.Part{Code: code("5101040101000001"), Geometry: orb.Point{104, 30}}, ""},
		{"line rail", parts.Part{Code: code("5101040211000001"), Geometry: orb.LineString{{104, 30}, {104.1, 30}}}, ""},
		{"polygon green", parts.Part{Code: code("5101040405000001"), Geometry: orb.Polygon{sq}}, ""},
		{"class mismatch", parts.Part{Code: code("5101040101000001"), Class: 102, Geometry: orb.Point{104, 30}}, "class"},
		{"unknown class", parts.Part{Code: code("5101040199000001"), Geometry: orb.Point{104, 30}}, "class"},
		{"no geometry", parts.Part{Code: code("5101040101000001")}, "geometry"},
		{"line for a point class", parts.Part{Code: code("5101040101000001"), Geometry: orb.LineString{{104, 30}, {104.1, 30}}}, "geometry"},
		{"one-point line", parts.Part{Code: code("5101040211000001"), Geometry: orb.LineString{{104, 30}}}, "geometry"},
		{"open ring", parts.Part{Code: code("5101040405000001"), Geometry: orb.Polygon{sq[:3]}}, "geometry"},
		{"lat out of range", parts.Part{Code: code("5101040101000001"), Geometry: orb.Point{104, 91}}, "geometry"},
		{"bad state", parts.Part{Code: code("5101040101000001"), State: 9, Geometry: orb.Point{104, 30}}, "state"},
		{"multipoint", parts.Part{Code: code("5101040101000001"), Geometry: orb.MultiPoint{{104, 30}}}, "geometry"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.p.Validate(cat)
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate = %v", err)
				}
				if tt.p.Class != tt.p.Code.Class() {
					t.Fatalf("Validate did not fill Class: %v", tt.p.Class)
				}
				return
			}
			var fe *parts.FieldError
			if !errors.As(err, &fe) || fe.Field != tt.field {
				t.Fatalf("err = %v, want FieldError on %s", err, tt.field)
			}
		})
	}
	bad := parts.Part{Code: 12, Geometry: orb.Point{104, 30}}
	if err := bad.Validate(cat); !errors.Is(err, parts.ErrInvalidCode) {
		t.Fatalf("bad code err = %v", err)
	}
}

func FuzzParseCode(f *testing.F) {
	for _, s := range []string{"3205080101000001", "0000000000000000", "9999999999999999", "", "32050801010000a1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := parts.ParseCode(s)
		if err != nil {
			if !errors.Is(err, parts.ErrInvalidCode) {
				t.Fatalf("error %v does not wrap ErrInvalidCode", err)
			}
			return
		}
		if c.String() != s {
			t.Fatalf("round trip %q -> %s", s, c)
		}
		if _, err := parts.NewCode(c.County(), c.Class(), c.Serial()); err != nil {
			t.Fatalf("NewCode rejects the parts of valid %s: %v", s, err)
		}
	})
}

func FuzzParseClass(f *testing.F) {
	for _, s := range []string{"0101", "0100", "9999", "", "-101", "1e3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := parts.ParseClass(s)
		if err != nil {
			if !errors.Is(err, parts.ErrUnknownClass) {
				t.Fatalf("error %v does not wrap ErrUnknownClass", err)
			}
			return
		}
		if c.String() != s || c%100 == 0 {
			t.Fatalf("ParseClass(%q) = %v", s, c)
		}
	})
}

// TestDigitsRandom checks Digits, AppendDigits and String against fmt.
func TestDigitsRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 10000 {
		v := r.Uint64N(1e16)
		want := fmt.Sprintf("%016d", v)
		var b [16]byte
		parts.Code(v).Digits(&b)
		if string(b[:]) != want || parts.Code(v).String() != want || string(parts.Code(v).AppendDigits([]byte("x"))) != "x"+want {
			t.Fatalf("Digits(%d) = %s, String %s, want %s", v, b[:], parts.Code(v).String(), want)
		}
	}
}
