package tiles

import (
	"fmt"
	"testing"
	"time"

	"citytwin/grid"
	"citytwin/parts"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
)

// latticeGrids builds n x n unit grids of about 100 m around the fixture
// centre, 100 per community (10 x 10), 10 communities per street.
func latticeGrids(t testing.TB, n int) *grid.Index {
	t.Helper()
	ix := grid.NewIndex()
	// shared vertices must be exactly equal for outlines to cancel them
	xs, ys := make([]float64, n+1), make([]float64, n+1)
	for i := range xs {
		xs[i] = fixCenter[0] + float64(i-n/2)*fixDLon
		ys[i] = fixCenter[1] + float64(i-n/2)*fixDLat
	}
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			block := (i/10)*(n/10+1) + j/10 // community number
			street, comm := 1+block/10, 1+block%10
			serial := 1 + (i%10)*10 + j%10
			code := grid.Code(fmt.Sprintf("510104%03d%03d%03d", street, comm, serial))
			ring := orb.Ring{{xs[i], ys[j]}, {xs[i+1], ys[j]}, {xs[i+1], ys[j+1]}, {xs[i], ys[j+1]}, {xs[i], ys[j]}}
			if _, _, err := ix.Put(grid.Grid{Code: code, Name: fmt.Sprintf("网格%d", serial), Dept: fmt.Sprintf("street-%03d", street), Geometry: orb.Polygon{ring}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	return ix
}

// TestGridTilesStaySmall draws 16,900 unit grids (Wuhan has 16,764) and
// checks the size of the grid tiles at every zoom over them.
func TestGridTilesStaySmall(t *testing.T) {
	if testing.Short() {
		t.Skip("16,900 grids")
	}
	ix := latticeGrids(t, 130)
	m := New(nil, ix, Options{CacheBytes: -1})
	for z := maptile.Zoom(0); z <= 16; z++ {
		tl := maptile.At(fixCenter, z)
		start := time.Now()
		tile := mustEncode(t, m, LayerGrids, tl, parts.Filter{})
		t.Logf("z%-2d %7d bytes %v in %v", z, len(tile.Data), tile.Features, time.Since(start).Round(time.Microsecond))
		if len(tile.Data) > maxTileBytes {
			t.Errorf("z%d grid tile is %d bytes gzipped", z, len(tile.Data))
		}
		// below z4 the 13 km district is smaller than a tile unit: dropped
		if n := tile.Features[LayerGrids] + tile.Features[LayerDivisions]; n == 0 && z >= 4 {
			t.Errorf("z%d grid tile is empty", z)
		}
	}
}
