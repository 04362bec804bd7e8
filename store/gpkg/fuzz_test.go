package gpkg

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"reflect"
	"testing"

	"github.com/paulmach/orb"
)

func TestGeometryRoundTrip(t *testing.T) {
	cases := map[string]orb.Geometry{
		"point":         orb.Point{120.5, 31.25},
		"negative":      orb.Point{-73.98, -40.75},
		"line":          orb.LineString{{1, 2}, {3, 4}, {5, 0}},
		"polygon":       orb.Polygon{{{0, 0}, {1, 0}, {1, 1}, {0, 0}}},
		"with hole":     orb.Polygon{{{0, 0}, {10, 0}, {10, 10}, {0, 10}, {0, 0}}, {{2, 2}, {3, 2}, {3, 3}, {2, 2}}},
		"empty line":    orb.LineString{},
		"empty polygon": orb.Polygon{},
	}
	for name, g := range cases {
		t.Run(name, func(t *testing.T) {
			blob, b, err := appendGeometry(nil, g)
			if err != nil {
				t.Fatal(err)
			}
			got, err := DecodeGeometry(blob)
			if err != nil {
				t.Fatal(err)
			}
			want := g
			switch g := g.(type) {
			case orb.LineString:
				if len(g) == 0 {
					want = orb.LineString{}
				}
			case orb.Polygon:
				if len(g) == 0 {
					want = orb.Polygon{}
				}
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("decoded %#v, want %#v", got, want)
			}
			if _, isPoint := g.(orb.Point); !isPoint && len(blob) > 8 && blob[3]&flagEmpty == 0 {
				// The envelope is [minx, maxx, miny, maxy].
				env := [4]float64{}
				for i := range env {
					env[i] = math.Float64frombits(binary.LittleEndian.Uint64(blob[8+8*i:]))
				}
				if env != [4]float64{b.Min[0], b.Max[0], b.Min[1], b.Max[1]} {
					t.Errorf("envelope %v, want bound %v", env, b)
				}
			}
		})
	}
}

// TestDecodeForeign decodes blobs as other tools write them: big-endian
// WKB, other envelopes, multi geometries.
func TestDecodeForeign(t *testing.T) {
	be := func(typ uint32, body ...float64) []byte {
		b := []byte{0}
		b = binary.BigEndian.AppendUint32(b, typ)
		for _, f := range body {
			b = binary.BigEndian.AppendUint64(b, math.Float64bits(f))
		}
		return b
	}
	header := func(flags byte, env int) []byte {
		return append([]byte{'G', 'P', 0, flags, 0xE6, 0x10, 0, 0}, make([]byte, env)...)
	}
	multi := append(header(0x03, 32), 1)
	multi = binary.LittleEndian.AppendUint32(multi, wkbMultiPoint)
	multi = binary.LittleEndian.AppendUint32(multi, 2)
	multi = append(multi, be(wkbPoint, 1, 2)...)
	multi = append(multi, be(wkbPoint, 3, 4)...)
	cases := map[string]struct {
		blob []byte
		want orb.Geometry
	}{
		"big-endian point, no envelope": {append(header(0x00, 0), be(wkbPoint, 7, 8)...), orb.Point{7, 8}},
		"point with XYZ envelope":       {append(header(0x05, 48), be(wkbPoint, 7, 8)...), orb.Point{7, 8}},
		"point with XYZM envelope":      {append(header(0x09, 64), be(wkbPoint, 7, 8)...), orb.Point{7, 8}},
		"multipoint of mixed order":     {multi, orb.MultiPoint{{1, 2}, {3, 4}}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := DecodeGeometry(tc.blob)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("decoded %#v, want %#v", got, tc.want)
			}
		})
	}
}

func TestDecodeGeometryErrors(t *testing.T) {
	good, _, _ := appendGeometry(nil, orb.LineString{{1, 2}, {3, 4}})
	huge := append([]byte(nil), good...)
	binary.LittleEndian.PutUint32(huge[8+32+5:], math.MaxUint32) // point count
	cases := map[string][]byte{
		"empty":            nil,
		"short header":     []byte("GP\x00"),
		"bad magic":        append([]byte("XY"), good[2:]...),
		"bad version":      append([]byte{'G', 'P', 1}, good[3:]...),
		"extended":         append([]byte{'G', 'P', 0, 0x21}, good[4:]...),
		"bad envelope":     append([]byte{'G', 'P', 0, 0x0F}, good[4:]...),
		"short envelope":   good[:20],
		"truncated wkb":    good[:len(good)-3],
		"trailing bytes":   append(append([]byte(nil), good...), 0),
		"huge count":       huge,
		"bad byte order":   append(append([]byte(nil), good[:40]...), append([]byte{7}, good[41:]...)...),
		"unsupported type": append(append([]byte(nil), good[:41]...), 0x11, 0, 0, 0),
	}
	for name, blob := range cases {
		t.Run(name, func(t *testing.T) {
			g, err := DecodeGeometry(blob)
			if err == nil {
				t.Fatalf("decoded %#v, want an error", g)
			}
			var ge *GeometryError
			if !errors.Is(err, ErrGeometry) || !errors.As(err, &ge) {
				t.Errorf("error %v is not a *GeometryError wrapping ErrGeometry", err)
			}
		})
	}
}

func FuzzDecodeGeometry(f *testing.F) {
	for _, g := range []orb.Geometry{
		orb.Point{1, 2},
		orb.LineString{{1, 2}, {3, 4}},
		orb.Polygon{{{0, 0}, {1, 0}, {1, 1}, {0, 0}}},
		orb.LineString{},
	} {
		b, _, _ := appendGeometry(nil, g)
		f.Add(b)
	}
	f.Add([]byte("GP\x00\x01\xe6\x10\x00\x00\x01\x04\x00\x00\x00\x01\x00\x00\x00\x01\x01\x00\x00\x00"))
	f.Add([]byte("GP"))
	f.Fuzz(func(t *testing.T, b []byte) {
		g, err := DecodeGeometry(b)
		if err != nil {
			if g != nil {
				t.Errorf("error %v with a geometry %#v", err, g)
			}
			return
		}
		if g == nil {
			t.Fatal("nil geometry without an error")
		}
		// Whatever decodes and can be encoded must survive a round trip.
		switch g.(type) {
		case orb.Point, orb.LineString, orb.Polygon:
		default:
			return
		}
		blob, _, err := appendGeometry(nil, g)
		if err != nil {
			return // NaN or infinite coordinates are refused on the way in
		}
		g2, err := DecodeGeometry(blob)
		if err != nil {
			t.Fatalf("re-decoding %x: %v", blob, err)
		}
		blob2, _, _ := appendGeometry(nil, g2)
		if !bytes.Equal(blob, blob2) {
			t.Errorf("round trip changed the blob:\n%x\n%x", blob, blob2)
		}
	})
}
