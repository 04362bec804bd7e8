package twin_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"testing"

	"citytwin/internal/testcity"
	"citytwin/parts"
	"citytwin/store/gpkg"
	"citytwin/twin"

	"github.com/paulmach/orb"
)

// perPart is a store that loads its parts one by one: it hides the
// gpkg store's LoadPartBatches, so that twin.Open takes its other path.
type perPart struct{ twin.Store }

// TestOpenBatchesAsPerPart: Open loads the same city through the store's
// batches as through its part-by-part load: the parts in storage order,
// the R-tree's answers in their order, nearest answers and the grids (a
// digest of them). The city is a generated one of 15,000 parts, or the GeoPackage
// file named by env CITYTWIN_DIGEST_GPKG.
func TestOpenBatchesAsPerPart(t *testing.T) {
	path := os.Getenv("CITYTWIN_DIGEST_GPKG")
	if path == "" {
		// More rows than the store's pool of row chunks holds (at most
		// 10 of 1,024), so that chunks are reused during the load: a
		// builder keeping a batch's memory would be caught.
		path = testcity.File(t, 15000, 100, 11)
	}
	ctx := context.Background()
	st, err := gpkg.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	batched, err := loadDigest(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	single, err := loadDigest(ctx, perPart{st})
	if err != nil {
		t.Fatal(err)
	}
	if batched != single {
		t.Fatalf("digest of the batched load %s, of the per-part load %s", batched, single)
	}
}

// loadDigest opens st into a twin and returns a digest of what it holds.
func loadDigest(ctx context.Context, st twin.Store) (string, error) {
	tw, err := twin.Open(ctx, st, twin.Options{})
	if err != nil {
		return "", err
	}
	reg := tw.Parts()
	h := sha256.New()
	fmt.Fprintf(h, "len %d bounds %v\n", reg.Len(), reg.Bounds())
	reg.Each(func(p parts.Part) bool {
		fmt.Fprintf(h, "%+v\n", p)
		return true
	})
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
			return "", err
		}
		ns, err := reg.Nearest(ctx, orb.Point{x, y}, 20, parts.Filter{}, 0)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "near %+v\n", ns)
	}
	fmt.Fprintf(h, "grids %d\n", tw.Grids().Len())
	return fmt.Sprintf("%x", h.Sum(nil)), nil
}
