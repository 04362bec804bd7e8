package api

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"citytwin/parts"
)

// gdalTool finds a GDAL program. Without it the test skips on a desktop
// but fails in CI (env CI set), where gdal-bin must be installed.
func gdalTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s not found and CI is set: install gdal-bin (apt-get install -y gdal-bin)", name)
		}
		t.Skipf("%s not found; install gdal-bin to run the GDAL test", name)
	}
	return p
}

// runTool runs a GDAL program and returns its output, failing the test on
// an error.
func runTool(t *testing.T, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), "GDAL_HTTP_TIMEOUT=30", "CPL_DEBUG=OFF", "GDAL_HTTP_UNSAFESSL=NO")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, out)
	}
	return string(out)
}

var featureCountRE = regexp.MustCompile(`(?m)^Feature Count: (\d+)$`)

func featureCount(t *testing.T, out string) int {
	t.Helper()
	m := featureCountRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no Feature Count in:\n%s", out)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// TestOGCWithGDAL serves a small city on a loopback port and reads it with
// GDAL's OGC API - Features driver: ogrinfo must list the parts layer with
// its fields and count, and ogr2ogr must copy exactly the components of a
// bbox (the registry's brute-force count, and the same codes) to a
// GeoPackage.
func TestOGCWithGDAL(t *testing.T) {
	ogrinfo := gdalTool(t, "ogrinfo")
	ogr2ogr := gdalTool(t, "ogr2ogr")

	c := newCity(t)
	srv := httptest.NewServer(c.srv.Handler())
	defer srv.Close()
	src := "OAPIF:" + srv.URL + "/ogc"
	live := c.twin.Parts().Len() // live components (one more is retired)

	// The layers and the parts layer's schema and count.
	layers := runTool(t, ogrinfo, "-ro", "-q", src)
	for _, l := range []string{"parts", "grids"} {
		if !strings.Contains(layers, l) {
			t.Errorf("ogrinfo does not list the layer %s:\n%s", l, layers)
		}
	}
	info := runTool(t, ogrinfo, "-ro", "-so", src, "parts")
	if !strings.Contains(info, "Layer name: parts") {
		t.Errorf("ogrinfo -so does not name the layer:\n%s", info)
	}
	if got := featureCount(t, info); got != live {
		t.Errorf("ogrinfo -so Feature Count = %d, want the %d live components", got, live)
	}
	for _, field := range []string{"code: String", "class: String", "name: String", "dept_supervisor: String",
		"dept_owner: String", "dept_maintainer: String", "grid_code: String", "state: String", "retired: Integer(Boolean)",
		"surveyed: Date", "changed: Date", "source: String", "material: String", "version: Integer"} {
		if !strings.Contains(info, field) {
			t.Errorf("ogrinfo -so lacks the field %q:\n%s", field, info)
		}
	}
	if grids := runTool(t, ogrinfo, "-ro", "-so", src, "grids"); featureCount(t, grids) != c.twin.Grids().Len() ||
		!strings.Contains(grids, "dept: String") {
		t.Errorf("ogrinfo -so grids, want %d features with a dept field:\n%s", c.twin.Grids().Len(), grids)
	}
	if !strings.Contains(info, "Extent: (120.6") {
		t.Errorf("ogrinfo -so shows no extent around the city:\n%s", info)
	}

	// A bbox over part of the city that cuts through the guard rail and the
	// green space and has the retired cover on its edge.
	b := orb.Bound{Min: orb.Point{lon0 + 0.0005, lat0 + 0.0001}, Max: orb.Point{lon0 + 0.0035, lat0 + 0.0013}}
	want := bruteCount(c.twin.Parts(), b)
	page, err := c.twin.Parts().Search(context.Background(), parts.Query{BBox: b, Limit: parts.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	if page.NumberMatched != want {
		t.Fatalf("registry bbox count %d != brute force %d", page.NumberMatched, want)
	}
	if want < 20 || want >= live {
		t.Fatalf("the test bbox holds %d of %d components; pick one that holds a real subset", want, live)
	}
	var wantCodes []string
	for _, p := range page.Parts {
		wantCodes = append(wantCodes, p.Code.String())
	}
	for _, code := range []string{codeRail, codeGreen} {
		if !slices.Contains(wantCodes, code) {
			t.Fatalf("the test bbox misses %s; it should cut through it", code)
		}
	}

	out := filepath.Join(t.TempDir(), "out.gpkg")
	spat := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	runTool(t, ogr2ogr, "-f", "GPKG", out, src, "parts",
		"-spat", spat(b.Min[0]), spat(b.Min[1]), spat(b.Max[0]), spat(b.Max[1]))

	copied := runTool(t, ogrinfo, "-ro", "-so", out, "parts")
	if got := featureCount(t, copied); got != want {
		t.Errorf("ogr2ogr -spat copied %d features, want %d (brute force)", got, want)
	}
	codes := runTool(t, ogrinfo, "-ro", "-q", out, "-sql", "SELECT code FROM parts ORDER BY code")
	var gotCodes []string
	for _, m := range regexp.MustCompile(`code \(String\) = (\d{16})`).FindAllStringSubmatch(codes, -1) {
		gotCodes = append(gotCodes, m[1])
	}
	if !slices.Equal(gotCodes, wantCodes) {
		t.Errorf("ogr2ogr copied codes\n%v\nwant\n%v", gotCodes, wantCodes)
	}
	t.Logf("GDAL copied %d of %d components in %v", len(gotCodes), live, fmt.Sprint(b))
}
