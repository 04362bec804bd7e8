package tiles

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestGDALReadsTiles writes tiles to files and reads them with GDAL's MVT
// driver (ogrinfo, from gdal-bin). It fails when ogrinfo is missing and CI
// is set, and skips otherwise.
func TestGDALReadsTiles(t *testing.T) {
	ogrinfo, err := exec.LookPath("ogrinfo")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("ogrinfo (gdal-bin) is required in CI: %v", err)
		}
		t.Skip("ogrinfo not installed")
	}
	cases := map[string]struct {
		fields map[string][]string // layer -> fields
	}{
		"city_z17":      {map[string][]string{LayerParts: {"code", "class", "state", "owner"}, LayerGrids: {"code", "name", "dept"}}},
		"parts_z16":     {map[string][]string{LayerParts: {"code", "class", "state", "owner"}}},
		"parts_z10_agg": {map[string][]string{LayerPartsAgg: {"count", "m01"}}},
	}
	countRe := regexp.MustCompile(`Layer name: (\S+)[\s\S]*?Feature Count: (\d+)`)
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			gc := goldenCases()[name]
			fx := newFixture(t, gc.opts)
			tile := mustEncode(t, fx.m, gc.layer, gc.tile, gc.filter)
			path := filepath.Join(t.TempDir(), name+".mvt")
			if err := os.WriteFile(path, gunzip(t, tile.Data), 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(ogrinfo, "-ro", "-al", "-so", path,
				"-oo", fmt.Sprint("X=", gc.tile.X), "-oo", fmt.Sprint("Y=", gc.tile.Y), "-oo", fmt.Sprint("Z=", gc.tile.Z)).CombinedOutput()
			if err != nil {
				t.Fatalf("ogrinfo: %v\n%s", err, out)
			}
			text := string(out)
			for _, block := range strings.Split(text, "\nLayer name: ")[1:] {
				m := countRe.FindStringSubmatch("Layer name: " + block)
				if m == nil {
					t.Fatalf("ogrinfo output without a feature count:\n%s", block)
				}
				want, ok := tile.Features[m[1]]
				if !ok {
					t.Errorf("GDAL reads layer %s that the tile does not count", m[1])
				}
				if m[2] != fmt.Sprint(want) {
					t.Errorf("layer %s: GDAL counts %s features, the tile %d", m[1], m[2], want)
				}
				for _, fld := range tc.fields[m[1]] {
					if !strings.Contains(block, "\n"+fld+": ") {
						t.Errorf("layer %s: GDAL does not see field %s", m[1], fld)
					}
				}
			}
			for layer := range tc.fields {
				if !strings.Contains(text, "Layer name: "+layer+"\n") {
					t.Errorf("GDAL does not see layer %s:\n%s", layer, text)
				}
			}
		})
	}
}
