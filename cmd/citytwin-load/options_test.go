package main

import (
	"errors"
	"io"
	"slices"
	"testing"

	"github.com/paulmach/orb"
)

func TestParseOptions(t *testing.T) {
	cases := map[string]struct {
		args    []string
		badFlag string // "" when the flags are good
		check   func(t *testing.T, o options)
	}{
		"defaults": {args: nil, check: func(t *testing.T, o options) {
			if o.URL.String() != "http://127.0.0.1:8080" || !slices.Equal(o.Scenarios, []string{"nearest", "bbox", "code", "tile"}) ||
				!slices.Equal(o.Connections, []int{32}) || o.Seed != 1 || o.BBox != (orb.Bound{}) {
				t.Errorf("defaults: %+v", o)
			}
		}},
		"lists": {args: []string{"--scenario", "code,nearest,code", "--connections", "8,32,64", "--url", "http://localhost:9/"}, check: func(t *testing.T, o options) {
			if !slices.Equal(o.Scenarios, []string{"code", "nearest"}) || !slices.Equal(o.Connections, []int{8, 32, 64}) || o.URL.String() != "http://localhost:9" {
				t.Errorf("lists: %v %v %v", o.Scenarios, o.Connections, o.URL)
			}
		}},
		"bbox": {args: []string{"--bbox", "103.8, 30.4,104.3,30.9"}, check: func(t *testing.T, o options) {
			if o.BBox != (orb.Bound{Min: orb.Point{103.8, 30.4}, Max: orb.Point{104.3, 30.9}}) {
				t.Errorf("bbox: %v", o.BBox)
			}
		}},
		"ipv6 loopback":    {args: []string{"--url", "http://[::1]:8080"}},
		"remote allowed":   {args: []string{"--url", "http://10.0.0.1:8080", "--allow-remote"}},
		"remote host":      {args: []string{"--url", "http://example.com:8080"}, badFlag: "url"},
		"remote ip":        {args: []string{"--url", "http://10.0.0.1:8080"}, badFlag: "url"},
		"no scheme":        {args: []string{"--url", "127.0.0.1:8080"}, badFlag: "url"},
		"query in url":     {args: []string{"--url", "http://127.0.0.1:8080/?x=1"}, badFlag: "url"},
		"unknown scenario": {args: []string{"--scenario", "nearest,grids"}, badFlag: "scenario"},
		"zero connections": {args: []string{"--connections", "0"}, badFlag: "connections"},
		"too many conns":   {args: []string{"--connections", "8,5000"}, badFlag: "connections"},
		"long duration":    {args: []string{"--duration", "1h"}, badFlag: "duration"},
		"zero duration":    {args: []string{"--duration", "0s"}, badFlag: "duration"},
		"bad bbox":         {args: []string{"--bbox", "104.3,30.4,103.8,30.9"}, badFlag: "bbox"},
		"bbox of three":    {args: []string{"--bbox", "1,2,3"}, badFlag: "bbox"},
		"bad centre":       {args: []string{"--centre", "104"}, badFlag: "centre"},
		"sides reversed":   {args: []string{"--min-side", "600", "--max-side", "500"}, badFlag: "min-side"},
		"k too large":      {args: []string{"--k", "5000"}, badFlag: "k"},
		"no max requests":  {args: []string{"--max-requests", "0"}, badFlag: "max-requests"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			o, err := parseOptions(tc.args, io.Discard)
			if tc.badFlag == "" {
				if err != nil {
					t.Fatalf("parseOptions(%q): %v", tc.args, err)
				}
				if tc.check != nil {
					tc.check(t, o)
				}
				return
			}
			var fe *flagError
			if !errors.As(err, &fe) || fe.Flag != tc.badFlag || !errors.Is(err, errUsage) {
				t.Fatalf("parseOptions(%q) = %v, want a usage error naming --%s", tc.args, err, tc.badFlag)
			}
		})
	}
}

// FuzzParseBBox checks that any text gives a valid box or an error naming
// --bbox, never a panic.
func FuzzParseBBox(f *testing.F) {
	for _, s := range []string{"103.8,30.4,104.3,30.9", "1,2,3", "NaN,0,1,1", "-180,-85,180,85", ",,,", "1e400,0,1,1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, err := parseBBox(s)
		if err != nil {
			var fe *flagError
			if !errors.As(err, &fe) || fe.Flag != "bbox" {
				t.Fatalf("parseBBox(%q): %v does not name --bbox", s, err)
			}
			return
		}
		if checkBound(b) != nil {
			t.Fatalf("parseBBox(%q) = %v, not a valid box", s, b)
		}
	})
}
