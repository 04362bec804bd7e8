package tiles

import (
	"context"
	"errors"
	"strings"
	"testing"

	"citytwin/parts"

	"github.com/paulmach/orb/maptile"
)

func TestEncodeErrors(t *testing.T) {
	f := newFixture(t, Options{AggregateScanLimit: 10})
	cases := map[string]struct {
		layer  string
		tile   maptile.Tile
		filter parts.Filter
		is     error
		says   string
	}{
		"zoom 25":                    {LayerParts, maptile.New(0, 0, 25), parts.Filter{}, ErrTileRange, "25/0/0"},
		"x beyond 2^z":               {LayerParts, maptile.New(8, 0, 3), parts.Filter{}, ErrTileRange, "x and y must be 0..7"},
		"y beyond 2^z":               {LayerGrids, maptile.New(0, 2, 1), parts.Filter{}, ErrTileRange, "1/0/2"},
		"x at zoom 0":                {LayerCity, maptile.New(1, 0, 0), parts.Filter{}, ErrTileRange, "0/1/0"},
		"unknown layer":              {"roads", maptile.New(0, 0, 0), parts.Filter{}, ErrUnknownLayer, `"roads"`},
		"empty layer name":           {"", maptile.New(0, 0, 0), parts.Filter{}, ErrUnknownLayer, "known: parts, grids, city"},
		"owner filter on big tile":   {LayerParts, maptile.At(fixCenter, 9), parts.Filter{Owner: "water"}, ErrFilterUnsupported, "owner"},
		"changed filter on big tile": {LayerCity, maptile.At(fixCenter, 4), parts.Filter{ChangedSince: fixDay}, ErrFilterUnsupported, "changed_since"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := f.m.Encode(context.Background(), tc.layer, tc.tile, tc.filter)
			if !errors.Is(err, tc.is) {
				t.Fatalf("err = %v, want %v", err, tc.is)
			}
			if !strings.Contains(err.Error(), tc.says) {
				t.Errorf("error %q does not say %q", err, tc.says)
			}
		})
	}
	var re *RangeError
	_, err := f.m.Encode(context.Background(), LayerParts, maptile.New(5, 9, 2), parts.Filter{})
	if !errors.As(err, &re) || re.Z != 2 || re.X != 5 || re.Y != 9 {
		t.Errorf("RangeError = %#v", err)
	}
	var le *LayerError
	_, err = f.m.Encode(context.Background(), "x", maptile.New(0, 0, 0), parts.Filter{})
	if !errors.As(err, &le) || le.Layer != "x" {
		t.Errorf("LayerError = %#v", err)
	}
}

func TestEncodeCancelled(t *testing.T) {
	f := newFixture(t, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := f.m.Encode(ctx, LayerCity, maptile.At(fixCenter, 16), parts.Filter{})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}
