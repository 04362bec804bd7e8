package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"citytwin/parts"
	"citytwin/store/gpkg"
)

// runCmd runs the command line in-process and returns its outputs.
func runCmd(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), args, &out, &errb)
	return out.String(), errb.String(), err
}

func sharedData(t *testing.T, name string) string {
	t.Helper()
	p := filepath.Join("..", "..", "..", "shared", "data", name)
	if d := os.Getenv("CITYTWIN_DATA"); d != "" {
		p = filepath.Join(d, name)
	}
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("real data not available in CI: %v", err)
		}
		t.Skipf("real data not available: %v", err)
	}
	return p
}

func countParts(t *testing.T, path string) int {
	t.Helper()
	st, err := gpkg.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	n, err := st.CountParts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestUsageErrors(t *testing.T) {
	dir := t.TempDir()
	notGpkg := filepath.Join(dir, "text.gpkg")
	if err := os.WriteFile(notGpkg, []byte("not a geopackage\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		args  []string
		usage bool   // exit code 2
		want  string // in the error
	}{
		"no command":              {nil, true, "no command"},
		"unknown command":         {[]string{"frobnicate"}, true, "unknown command"},
		"gen without out":         {[]string{"gen"}, true, "--out"},
		"gen bad count":           {[]string{"gen", "--out", filepath.Join(dir, "x.gpkg"), "--components", "-5"}, true, "Components"},
		"gen bad flag":            {[]string{"gen", "--bogus"}, true, "bogus"},
		"import no data":          {[]string{"import", "x.geojson"}, true, "--data"},
		"import bad map":          {[]string{"import", "--data", filepath.Join(dir, "y.gpkg"), "--map", "colour=red", "x.csv"}, true, "colour"},
		"import no source":        {[]string{"import", "--data", filepath.Join(dir, "y.gpkg"), "--map", "class=0113", filepath.Join(dir, "missing.csv")}, false, "missing.csv"},
		"serve foreign":           {[]string{"serve", "--data", notGpkg, "--addr", "127.0.0.1:0"}, false, "text.gpkg"},
		"token bad role":          {[]string{"token", "create", "--role", "king", "--data", notGpkg}, true, "king"},
		"token no create":         {[]string{"token"}, true, "token create"},
		"serve extra arg":         {[]string{"serve", "extra"}, true, "extra"},
		"serve empty data":        {[]string{"serve", "--data", ""}, true, "--data is empty"},
		"serve bad gc percent":    {[]string{"serve", "--data", notGpkg, "--gc-percent", "0"}, true, "--gc-percent"},
		"serve bad budget":        {[]string{"serve", "--data", notGpkg, "--tile-max-features", "0"}, true, "--tile-max-features"},
		"serve bad pprof":         {[]string{"serve", "--data", notGpkg, "--addr", "127.0.0.1:0", "--pprof", "nonsense:99999"}, false, "--pprof"},
		"serve bad start profile": {[]string{"serve", "--data", notGpkg, "--addr", "127.0.0.1:0", "--start-profile", filepath.Join(dir, "missing", "x.prof")}, false, "--start-profile"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, _, err := runCmd(t, tc.args...)
			if err == nil {
				t.Fatal("no error")
			}
			if errors.Is(err, errUsage) != tc.usage {
				t.Errorf("usage error = %v, want %v: %v", errors.Is(err, errUsage), tc.usage, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "y.gpkg")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a failed import left a store behind: %v", err)
	}
}

func TestGenImportToken(t *testing.T) {
	dir := t.TempDir()
	city := filepath.Join(dir, "city.gpkg")
	out, _, err := runCmd(t, "gen", "--components", "5000", "--grids", "50", "--seed", "9", "--out", city)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "5000 components") || countParts(t, city) != 5000 {
		t.Fatalf("gen: %q, %d parts in the file", out, countParts(t, city))
	}

	// Real open data: Cambridge hydrants into a new store.
	cam := filepath.Join(dir, "cambridge.gpkg")
	out, errOut, err := runCmd(t, "import", "--data", cam, "--map", "code=HYDRANT_ID,class=0113,owner=ContractAuthority,county=110101",
		sharedData(t, "cambridge_INFRA_Hydrants.geojson"))
	if err != nil {
		t.Fatalf("import: %v\n%s", err, errOut)
	}
	if !strings.Contains(out, "imported 1960 components") || countParts(t, cam) != 1960 {
		t.Fatalf("import: %q; %d parts in the store", out, countParts(t, cam))
	}
	// Again: every code exists now, nothing to import, store unchanged.
	_, errOut, err = runCmd(t, "import", "--data", cam, "--map", "code=HYDRANT_ID,class=0113,owner=ContractAuthority,county=110101",
		sharedData(t, "cambridge_INFRA_Hydrants.geojson"))
	if err != nil {
		t.Logf("re-import: %v", err)
	}
	if countParts(t, cam) != 1960 {
		t.Errorf("re-import changed the store: %d parts", countParts(t, cam))
	}
	_ = errOut

	// A CSV with a bad row: skipped (and reported), or fatal with --strict.
	csv := filepath.Join(dir, "lamps.csv")
	if err := os.WriteFile(csv, []byte("id,lon,lat,owner\nA1,104.061,30.661,lighting\nA2,104.062,oops,lighting\nA3,104.063,30.663,\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, err = runCmd(t, "import", "--data", city, "--map", "class=0118,owner=owner,note=id", csv)
	if err != nil || !strings.Contains(out, "imported 2 components") || !strings.Contains(errOut, "row 2") {
		t.Fatalf("csv import: %v\nstdout %q\nstderr %q", err, out, errOut)
	}
	if n := countParts(t, city); n != 5002 {
		t.Errorf("%d parts after the csv import, want 5002", n)
	}
	if _, _, err := runCmd(t, "import", "--data", city, "--strict", "--map", "class=0118,owner=owner,note=id", csv); err == nil {
		t.Error("--strict import of a bad row succeeded")
	}
	if n := countParts(t, city); n != 5002 {
		t.Errorf("a failed --strict import changed the store: %d parts", n)
	}

	out, errOut, err = runCmd(t, "token", "create", "--role", "department", "--dept", parts.DeptWater, "--data", city)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if !regexp.MustCompile(`^ct_[A-Za-z0-9_-]{43}$`).MatchString(lines[len(lines)-1]) || !strings.Contains(errOut, "department") {
		t.Errorf("token create printed %q / %q", out, errOut)
	}
}

// TestServeBinary builds the real binary, serves a generated city and asks
// it a few questions over HTTP, then stops it with SIGINT.
func TestServeBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "citytwin")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	city := filepath.Join(dir, "city.gpkg")
	if out, err := exec.Command(bin, "gen", "--components", "20000", "--grids", "200", "--out", city).CombinedOutput(); err != nil {
		t.Fatalf("gen: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "serve", "--data", city, "--addr", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "GOGC=") // the default --gc-percent applies
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	// The embedded MQTT broker's line comes first, then the serving line.
	var m []string
	sc := bufio.NewScanner(stdout)
	for m == nil && sc.Scan() {
		m = regexp.MustCompile(`serving .* on http://([0-9.:]+)/`).FindStringSubmatch(sc.Text())
	}
	if m == nil {
		t.Fatalf("no serving address on stdout; stderr %s", stderr.String())
	}
	go io.Copy(io.Discard, stdout)
	base := "http://" + m[1]
	for path, want := range map[string]int{
		"/readyz":                                 200,
		"/grids/locate?lon=104.06&lat=30.66":      200,
		"/grids/locate?lon=0&lat=0":               404,
		"/parts/nearest?lon=104.06&lat=30.66&k=5": 200,
		"/parts/12345":                            400,
		"/":                                       200,
		"/tiles/city.json":                        200,
	} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s: %d, want %d", path, resp.StatusCode, want)
		}
	}
	// The collector runs at --gc-percent once the city is loaded.
	if resp, err := http.Get(base + "/metrics"); err != nil {
		t.Fatal(err)
	} else {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !regexp.MustCompile(`(?m)^go_gc_gogc_percent 50$`).Match(b) {
			t.Errorf("/metrics does not say go_gc_gogc_percent 50 (the default --gc-percent)")
		}
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve did not exit cleanly on SIGINT: %v\n%s", err, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop within 20 s of SIGINT")
	}
	if !strings.Contains(stderr.String(), "city loaded") {
		t.Errorf("no load log: %s", stderr.String())
	}
}

// TestUseGCPercent: --gc-percent applies when given, or when GOGC is not
// set; a GOGC of the environment otherwise stays.
func TestUseGCPercent(t *testing.T) {
	for _, tc := range []struct {
		flagSet bool
		env     string
		want    bool
	}{{false, "", true}, {false, "200", false}, {true, "200", true}, {true, "", true}} {
		if got := useGCPercent(tc.flagSet, tc.env); got != tc.want {
			t.Errorf("useGCPercent(%v, %q) = %v, want %v", tc.flagSet, tc.env, got, tc.want)
		}
	}
}
