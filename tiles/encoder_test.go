package tiles

import (
	"testing"

	"citytwin/parts"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
)

func TestZigzagAndVarint(t *testing.T) {
	cases := map[string]struct {
		in   int32
		want uint32
	}{
		"zero":     {0, 0},
		"minus 1":  {-1, 1},
		"plus 1":   {1, 2},
		"minus 2":  {-2, 3},
		"big":      {2147483647, 4294967294},
		"smallest": {-2147483648, 4294967295},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := zigzag(tc.in); got != tc.want {
				t.Errorf("zigzag(%d) = %d, want %d", tc.in, got, tc.want)
			}
			b := appendVarint(nil, uint64(tc.want))
			if len(b) != sizeVarint(uint64(tc.want)) {
				t.Errorf("varint of %d is %d bytes, sizeVarint says %d", tc.want, len(b), sizeVarint(uint64(tc.want)))
			}
		})
	}
	if got := command(cmdMoveTo, 1); got != 9 {
		t.Errorf("MoveTo(1) = %d, want 9", got)
	}
	if got := command(cmdClosePath, 1); got != 15 {
		t.Errorf("ClosePath(1) = %d, want 15", got)
	}
}

// TestLayerEncoderDecodes writes features of every kind by hand and reads
// them back with orb's decoder.
func TestLayerEncoderDecodes(t *testing.T) {
	l := newLayerEncoder()
	l.reset("test")
	kName, kN := l.key("name"), l.key("n")

	l.point(10, 20)
	l.tag(kName, l.strValue("a"))
	l.tag(kN, l.uintValue(7))
	l.feature(1, geomPoint)

	l.line([]ipoint{{0, 0}, {100, 0}, {100, 50}})
	l.tag(kName, l.strValue("a")) // shared value
	l.feature(2, geomLine)

	// exterior clockwise on screen (positive area), hole the other way
	ext := []ipoint{{0, 0}, {1000, 0}, {1000, 1000}, {0, 1000}}
	hole := []ipoint{{100, 100}, {100, 200}, {200, 200}, {200, 100}}
	if ringArea(ext) <= 0 || ringArea(hole) >= 0 {
		t.Fatalf("fixture rings have the wrong orientation: %d %d", ringArea(ext), ringArea(hole))
	}
	l.ring(ext)
	l.ring(hole)
	l.tag(kName, l.uniqueValue([]byte("b")))
	l.feature(3, geomPolygon)

	raw := l.appendTo(nil)
	ls, err := mvt.Unmarshal(raw)
	if err != nil {
		t.Fatalf("Unmarshal: %v", err)
	}
	if len(ls) != 1 || ls[0].Name != "test" || ls[0].Extent != Extent || ls[0].Version != 2 {
		t.Fatalf("layers = %+v", ls)
	}
	fs := ls[0].Features
	if len(fs) != 3 {
		t.Fatalf("%d features, want 3", len(fs))
	}
	if g, ok := fs[0].Geometry.(orb.Point); !ok || g != (orb.Point{10, 20}) {
		t.Errorf("point = %v", fs[0].Geometry)
	}
	if fs[0].Properties["name"] != "a" || fs[0].Properties["n"] != float64(7) {
		t.Errorf("point properties = %v", fs[0].Properties)
	}
	if fs[0].ID != float64(1) || fs[2].ID != float64(3) {
		t.Errorf("ids = %v %v", fs[0].ID, fs[2].ID)
	}
	if g, ok := fs[1].Geometry.(orb.LineString); !ok || !g.Equal(orb.LineString{{0, 0}, {100, 0}, {100, 50}}) {
		t.Errorf("line = %v", fs[1].Geometry)
	}
	pg, ok := fs[2].Geometry.(orb.Polygon)
	if !ok || len(pg) != 2 || len(pg[0]) != 5 {
		t.Fatalf("polygon = %#v", fs[2].Geometry)
	}
	if fs[2].Properties["name"] != "b" {
		t.Errorf("polygon properties = %v", fs[2].Properties)
	}
}

func TestEmptyLayerIsLeftOut(t *testing.T) {
	l := newLayerEncoder()
	l.reset("empty")
	l.key("code")
	if b := l.appendTo(nil); len(b) != 0 {
		t.Errorf("an empty layer wrote %d bytes", len(b))
	}
}

// FuzzEncodeLine writes a line of arbitrary points and checks that orb
// decodes the same points back.
func FuzzEncodeLine(f *testing.F) {
	f.Add([]byte{0, 0, 10, 10, 200, 3})
	f.Add([]byte{255, 255, 0, 0, 1, 1, 1, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		var pts []ipoint
		for i := 0; i+1 < len(data); i += 2 {
			p := ipoint{int32(data[i])*20 - 64, int32(data[i+1])*20 - 64}
			if len(pts) > 0 && pts[len(pts)-1] == p {
				continue
			}
			pts = append(pts, p)
		}
		if len(pts) < 2 {
			return
		}
		l := newLayerEncoder()
		l.reset("fuzz")
		l.line(pts)
		l.feature(42, geomLine)
		ls, err := mvt.Unmarshal(l.appendTo(nil))
		if err != nil {
			t.Fatalf("Unmarshal: %v", err)
		}
		g, ok := ls[0].Features[0].Geometry.(orb.LineString)
		if !ok || len(g) != len(pts) {
			t.Fatalf("decoded %v, wrote %v", ls[0].Features[0].Geometry, pts)
		}
		for i, p := range pts {
			if g[i] != (orb.Point{float64(p.x), float64(p.y)}) {
				t.Fatalf("point %d: decoded %v, wrote %v", i, g[i], p)
			}
		}
	})
}

func TestFormatCode(t *testing.T) {
	for _, s := range []string{"3205080101000001", "8299999999999999", "1100000101000010"} {
		c, err := parts.ParseCode(s)
		if err != nil {
			t.Fatal(err)
		}
		var b [16]byte
		c.Digits(&b)
		if string(b[:]) != s {
			t.Errorf("Digits(%s) = %s", s, b[:])
		}
	}
}
