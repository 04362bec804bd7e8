package api

import (
	"context"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"citytwin/parts"
)

// TestOGCMixedGeometryWithGDAL: the parts collection holds points, lines
// and polygons, and GDAL must see it so: ogrinfo reports the layer's
// geometry as Unknown (any), not Point, and ogr2ogr copies the whole
// collection into a GeoPackage with no warning and the same count.
func TestOGCMixedGeometryWithGDAL(t *testing.T) {
	ogrinfo := gdalTool(t, "ogrinfo")
	ogr2ogr := gdalTool(t, "ogr2ogr")
	c := newCity(t)
	srv := httptest.NewServer(c.srv.Handler())
	defer srv.Close()
	src := "OAPIF:" + srv.URL + "/ogc"
	live := c.twin.Parts().Len()
	kinds := map[int]bool{}
	c.twin.Parts().Each(func(p parts.Part) bool {
		if !p.Retired {
			kinds[geometryKind(p.Geometry)] = true
		}
		return true
	})
	if len(kinds) != 3 {
		t.Fatalf("the test city has geometry kinds %v; it needs points, lines and polygons", kinds)
	}

	info := runTool(t, ogrinfo, "-ro", "-so", src, "parts")
	if !strings.Contains(info, "Geometry: Unknown (any)") {
		t.Errorf("ogrinfo -so does not report the parts layer as mixed (Unknown):\n%s", info)
	}

	out := filepath.Join(t.TempDir(), "out.gpkg")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, ogr2ogr, "-f", "GPKG", out, src, "parts")
	cmd.Env = append(os.Environ(), "GDAL_HTTP_TIMEOUT=30", "CPL_DEBUG=OFF")
	msgs, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("ogr2ogr: %v\n%s", err, msgs)
	}
	if s := strings.TrimSpace(string(msgs)); s != "" {
		t.Errorf("ogr2ogr of the parts collection printed warnings:\n%s", s)
	}
	copied := runTool(t, ogrinfo, "-ro", "-so", out, "parts")
	if got := featureCount(t, copied); got != live {
		t.Errorf("ogr2ogr copied %d features, want the %d live components", got, live)
	}
	if !strings.Contains(copied, "Geometry: Unknown (any)") {
		t.Errorf("the GeoPackage layer is not of mixed geometry:\n%s", copied)
	}
}
