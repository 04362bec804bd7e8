package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

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

// mapResult is what e2e/map.mjs prints.
type mapResult struct {
	Features      int      `json:"features"`
	Status        string   `json:"status"`
	Legend        string   `json:"legend"`
	Search        string   `json:"search"`
	GridSearch    string   `json:"gridSearch"`
	ReadingStatus int      `json:"readingStatus"`
	AlarmMs       int      `json:"alarmMs"`
	Events        int      `json:"events"`
	NoWebGL       string   `json:"noWebGL"`
	NoWebGLState  string   `json:"noWebGLState"`
	Errors        []string `json:"errors"`
}

// TestMapPage serves a generated city with the citytwin binary (so the page
// is the one embedded by go build) and opens the map page in headless
// Chromium: MapLibre must render features from citytwin's tiles; the legend
// must explain sensors and cases; searching a component code and a grid
// code must fly there and show names, not raw keys; a reading posted to
// /readings that raises an alarm must show in the alarms layer through the
// live feed; and without WebGL the page must say so. The screenshot is kept
// for people to look at.
func TestMapPage(t *testing.T) {
	node := need(t, "node")
	need(t, "chromium")
	if !web.HasMapLibre() {
		t.Fatal("the map page has no MapLibre GL JS embedded: run scripts/web.sh before go test")
	}
	if _, err := os.Stat("../web/node_modules/playwright-core"); err != nil {
		t.Fatalf("playwright-core is missing: run scripts/web.sh: %v", err)
	}
	city := genCity(t, 30000, 300)
	admin := token(t, city, "admin", "")
	s := serve(t, "--data", city)

	// A gas cover near the centre with a gas sensor on it.
	var near struct {
		Features []struct {
			Geometry struct {
				Coordinates []float64 `json:"coordinates"`
			} `json:"geometry"`
			Properties map[string]any `json:"properties"`
		} `json:"features"`
	}
	if st := s.call(t, "GET", "/parts/nearest?lon=104.06&lat=30.66&k=1&class=0111", "", nil, &near); st != 200 || len(near.Features) == 0 {
		t.Fatalf("no gas cover near the centre: %d", st)
	}
	part := near.Features[0]
	code := part.Properties["code"].(string)
	className := part.Properties["name"].(string)
	gridCode := part.Properties["grid_code"].(string)
	var grid struct {
		Properties struct {
			Name string `json:"name"`
		} `json:"properties"`
	}
	if st := s.call(t, "GET", "/grids/"+gridCode, "", nil, &grid); st != 200 || grid.Properties.Name == "" {
		t.Fatalf("grid %s: %d", gridCode, st)
	}
	sensor := map[string]any{"kind": "cover_gas", "unit": "%LEL", "code": code,
		"rules": []map[string]any{{"kind": "threshold", "above": 25, "clearBelow": 20}}}
	if st := s.call(t, "PUT", "/sensors/map-gas-1", admin, sensor, nil); st != 201 {
		t.Fatalf("PUT /sensors/map-gas-1: %d", st)
	}

	shot := os.Getenv("CITYTWIN_SCREENSHOT")
	if shot == "" {
		shot = filepath.Join(os.TempDir(), "citytwin-map.png")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	lon, lat := part.Geometry.Coordinates[0], part.Geometry.Coordinates[1]
	cmd := exec.CommandContext(ctx, node, "map.mjs", fmt.Sprintf("%s/#15/%.5f/%.5f", s.base, lat, lon), shot)
	cmd.Env = append(os.Environ(), "CITYTWIN_CODE="+code, "CITYTWIN_GRID="+gridCode, "CITYTWIN_TOKEN="+admin,
		`CITYTWIN_READING={"sensor":"map-gas-1","value":41}`, "CITYTWIN_ALARM=map-gas-1#0")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var res mapResult
	if jerr := json.Unmarshal(out, &res); jerr != nil {
		t.Fatalf("map.mjs: %v (%v)\nstdout: %s\nstderr: %s", err, jerr, out, stderr.String())
	}
	t.Logf("map page: %s; alarm on the map %d ms after the reading; screenshot %s", res.Status, res.AlarmMs, shot)
	if err != nil {
		t.Fatalf("map.mjs failed: %v: %+v\n%s", err, res, stderr.String())
	}
	if res.Features <= 0 {
		t.Errorf("the page rendered no features from the tile source: %+v", res)
	}
	if len(res.Errors) > 0 {
		t.Errorf("the page logged errors: %q", res.Errors)
	}
	for _, want := range []string{"感知设备 Sensors", "告警 alarm", "离线 offline", "正常 normal", "案卷 Open cases", "超期 overdue", "单元网格 unit grid"} {
		if !strings.Contains(res.Legend, want) {
			t.Errorf("the legend lacks %q: %q", want, res.Legend)
		}
	}
	// The popup of a component names its class and grid; no raw keys.
	for _, want := range []string{code, "类别 class" + className, grid.Properties.Name, "所在网格 grid", "权属单位 owner"} {
		if !strings.Contains(res.Search, want) {
			t.Errorf("the popup of %s lacks %q: %q", code, want, res.Search)
		}
	}
	for _, raw := range []string{"dept_owner", "grid_code", "dept_maintainer"} {
		if strings.Contains(res.Search, raw) {
			t.Errorf("the popup of %s shows the raw key %q: %q", code, raw, res.Search)
		}
	}
	if !strings.Contains(res.GridSearch, grid.Properties.Name) || !strings.Contains(res.GridSearch, gridCode) {
		t.Errorf("searching grid %s did not show it (%s): %q", gridCode, grid.Properties.Name, res.GridSearch)
	}
	if res.ReadingStatus/100 != 2 {
		t.Errorf("POST /readings: %d", res.ReadingStatus)
	}
	if res.Events < 1 {
		t.Errorf("the page counted no live event after the alarm: %+v", res)
	}
	if res.NoWebGLState != "error" || !strings.Contains(res.NoWebGL, "WebGL") {
		t.Errorf("without WebGL the page says %q (state %q), want a message naming WebGL", res.NoWebGL, res.NoWebGLState)
	}
	if fi, err := os.Stat(shot); err != nil || fi.Size() < 10000 {
		t.Errorf("screenshot %s missing or empty: %v", shot, err)
	}
}
