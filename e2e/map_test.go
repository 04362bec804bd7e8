package e2e_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"citytwin/internal/testcity"
	"citytwin/parts"
	"citytwin/web"
)

// need returns the path of a program the test needs; it fails in CI and
// skips elsewhere when the program is missing.
func need(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is required in CI (scripts/deps.sh installs it): %v", name, err)
		}
		t.Skipf("%s not installed: %v", name, err)
	}
	return p
}

// TestMapPage opens the map page in headless Chromium: MapLibre must render
// features from citytwin's tiles, and searching a code must fly to it and
// show its attributes. The screenshot is kept for people to look at.
func TestMapPage(t *testing.T) {
	node := need(t, "node")
	need(t, "chromium")
	if !web.HasMapLibre() {
		t.Fatal("the map page has no MapLibre GL JS embedded: run scripts/web.sh before go test")
	}
	if _, err := os.Stat("../web/node_modules/playwright-core"); err != nil {
		t.Fatalf("playwright-core is missing: run scripts/web.sh: %v", err)
	}
	hs, tw := testcity.Serve(t, 30000, 300, 3)

	// A damaged component near the centre, to search for.
	var code string
	ns, err := tw.Parts().Nearest(context.Background(), [2]float64{104.06, 30.66}, 1, parts.Filter{}, 0)
	if err != nil || len(ns) == 0 {
		t.Fatalf("no component near the centre: %v", err)
	}
	code = ns[0].Part.Code.String()

	shot := os.Getenv("CITYTWIN_SCREENSHOT")
	if shot == "" {
		shot = filepath.Join(os.TempDir(), "citytwin-map.png")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "map.mjs", hs.URL+"/#14/30.66/104.06", shot)
	cmd.Env = append(os.Environ(), "CITYTWIN_CODE="+code)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var res struct {
		Features int      `json:"features"`
		Status   string   `json:"status"`
		Errors   []string `json:"errors"`
		Search   string   `json:"search"`
	}
	if jerr := json.Unmarshal(out, &res); jerr != nil {
		t.Fatalf("map.mjs: %v (%v)\nstdout: %s\nstderr: %s", err, jerr, out, stderr.String())
	}
	t.Logf("map page: %s; screenshot %s", res.Status, shot)
	if err != nil {
		t.Fatalf("map.mjs failed: %v: %+v\n%s", err, res, stderr.String())
	}
	if res.Features <= 0 {
		t.Errorf("the page rendered no features from the tile source: %+v", res)
	}
	if len(res.Errors) > 0 {
		t.Errorf("the page logged errors: %q", res.Errors)
	}
	if !strings.Contains(res.Search, code) {
		t.Errorf("searching %s did not show its attributes; popup: %q", code, res.Search)
	}
	if fi, err := os.Stat(shot); err != nil || fi.Size() < 10000 {
		t.Errorf("screenshot %s missing or empty: %v", shot, err)
	}
}
