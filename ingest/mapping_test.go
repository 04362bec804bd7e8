package ingest

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"citytwin/parts"
)

func TestParseMapping(t *testing.T) {
	tests := map[string]struct {
		in     string
		want   Mapping
		errKey string // non-empty: want a *MappingError for this key
	}{
		"empty": {in: "", want: Mapping{}},
		"hydrants": {
			in:   "code=HYDRANT_ID,class=0113,owner=ContractAuthority",
			want: Mapping{Code: "HYDRANT_ID", DefaultClass: 113, Owner: "ContractAuthority"},
		},
		"class field and default": {
			in:   "class=@TYPE, default_class=0118",
			want: Mapping{Class: "TYPE", DefaultClass: 118},
		},
		"at prefix and spaces": {
			in:   " Owner = @Owner , lon=X,lat=Y,",
			want: Mapping{Owner: "Owner", Lon: "X", Lat: "Y"},
		},
		"everything": {
			in: "code=c,name=n,supervisor=s,maintainer=m,state=st,grid=g,label=l,material=ma,note=no," +
				"county=320508,default_owner=fire,owner_map=CAM:water|PRIVATE : private,gcj02",
			want: Mapping{Code: "c", Name: "n", Supervisor: "s", Maintainer: "m", State: "st", Grid: "g",
				Label: "l", Material: "ma", Note: "no", County: 320508, DefaultOwner: "fire",
				OwnerMap: map[string]string{"CAM": "water", "PRIVATE": "private"}, GCJ02: true},
		},
		"gcj02 false":         {in: "gcj02=false", want: Mapping{}},
		"field with equals":   {in: "note=a=b", want: Mapping{Note: "a=b"}},
		"unknown key":         {in: "code=A,colour=red", errKey: "colour"},
		"bad class":           {in: "class=113x", errKey: "class"},
		"class zero":          {in: "class=0100", errKey: "class"},
		"empty at":            {in: "class=@", errKey: "class"},
		"bad county":          {in: "county=12345", errKey: "county"},
		"county out of range": {in: "county=990000", errKey: "county"},
		"twice":               {in: "owner=a,owner=b", errKey: "owner"},
		"no equals":           {in: "owner", errKey: "owner"},
		"empty field":         {in: "owner=", errKey: "owner"},
		"bad owner map":       {in: "owner_map=CAM", errKey: "owner_map"},
		"dup owner map":       {in: "owner_map=a:b|a:c", errKey: "owner_map"},
		"bad bool":            {in: "gcj02=maybe", errKey: "gcj02"},
		"class and default":   {in: "class=0113,default_class=0118", errKey: "default_class"},
		"empty key":           {in: "=x", errKey: ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := ParseMapping(tc.in)
			if tc.errKey != "" || strings.HasPrefix(tc.in, "=") {
				var me *MappingError
				if !errors.As(err, &me) || me.Key != tc.errKey || !errors.Is(err, ErrMapping) {
					t.Fatalf("err = %v, want a MappingError for key %q", err, tc.errKey)
				}
				if !strings.Contains(err.Error(), `"`+tc.errKey+`"`) {
					t.Errorf("error %q does not name the key", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v\nwant %+v", got, tc.want)
			}
			back, err := ParseMapping(got.String())
			if err != nil || !reflect.DeepEqual(back, got) {
				t.Fatalf("round trip of %q: %+v, %v", got.String(), back, err)
			}
		})
	}
}

func TestMappingValidate(t *testing.T) {
	tests := map[string]struct {
		m   Mapping
		key string
	}{
		"zero":          {Mapping{}, ""},
		"good":          {Mapping{County: 510104, DefaultClass: 113}, ""},
		"bad county":    {Mapping{County: 42}, "county"},
		"bad class":     {Mapping{DefaultClass: parts.Class(100)}, "default_class"},
		"empty mapping": {Mapping{OwnerMap: map[string]string{"x": ""}}, "owner_map"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := tc.m.Validate()
			var me *MappingError
			if tc.key == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.As(err, &me) || me.Key != tc.key {
				t.Fatalf("err = %v, want key %q", err, tc.key)
			}
		})
	}
}

func FuzzParseMapping(f *testing.F) {
	for _, s := range []string{
		"", "code=HYDRANT_ID,class=0113,owner=ContractAuthority", "class=@T,default_class=0118",
		"owner_map=a:b|c:d,gcj02", "county=510104,lon=x,lat=y", "note=@@x", "=,=", "class=@",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseMapping(s)
		if err != nil {
			var me *MappingError
			if !errors.As(err, &me) {
				t.Fatalf("error %v is not a *MappingError", err)
			}
			return
		}
		if err := m.Validate(); err != nil {
			t.Fatalf("ParseMapping(%q) gave an invalid mapping: %v", s, err)
		}
		back, err := ParseMapping(m.String())
		if err != nil || !reflect.DeepEqual(back, m) {
			t.Fatalf("round trip of %q via %q: %+v, %v; want %+v", s, m.String(), back, err, m)
		}
	})
}
