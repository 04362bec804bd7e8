package twin_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"testing"

	"citytwin/parts"
	"citytwin/store/gpkg"
	"citytwin/twin"

	"github.com/paulmach/orb"
)

// TestLoadDigest prints a digest of what Open loads from the GeoPackage
// file named by env CITYTWIN_DIGEST_GPKG (skipped when unset): the parts
// in storage order, the R-tree's answers in their order, the grids. Two
// builds that print the same digest load the same city.
func TestLoadDigest(t *testing.T) {
	path := os.Getenv("CITYTWIN_DIGEST_GPKG")
	if path == "" {
		t.Skip("CITYTWIN_DIGEST_GPKG is not set")
	}
	ctx := context.Background()
	st, err := gpkg.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tw, err := twin.Open(ctx, st, twin.Options{})
	if err != nil {
		t.Fatal(err)
	}
	reg := tw.Parts()
	h := sha256.New()
	fmt.Fprintf(h, "len %d bounds %v\n", reg.Len(), reg.Bounds())
	reg.Each(func(p parts.Part) bool {
		fmt.Fprintf(h, "%+v\n", p)
		return true
	})
	parts1 := fmt.Sprintf("%x", h.Sum(nil))
	b := reg.Bounds()
	w, hgt := b.Max[0]-b.Min[0], b.Max[1]-b.Min[1]
	for i := range 64 {
		x, y := b.Min[0]+w*float64(i%8)/8, b.Min[1]+hgt*float64(i/8)/8
		q := orb.Bound{Min: orb.Point{x, y}, Max: orb.Point{x + w/9, y + hgt/9}}
		if i == 0 {
			q = b
		}
		if err := reg.Scan(ctx, q, parts.Filter{}, func(e parts.Entry) bool {
			fmt.Fprintf(h, "%d %v;", e.Code, e.Geometry)
			return true
		}); err != nil {
			t.Fatal(err)
		}
		ns, err := reg.Nearest(ctx, orb.Point{x, y}, 20, parts.Filter{}, 0)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(h, "near %+v\n", ns)
	}
	fmt.Fprintf(h, "grids %d\n", tw.Grids().Len())
	t.Logf("parts digest %s, all %x", parts1, h.Sum(nil))
}
