package citytwin_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The dependency rule (ARCHITECTURE.md, "Which way the arrows point"): the
// core packages below import only the standard library, the geometry
// libraries (orb, rtree, go-spatial/geom) and other core packages. HTTP
// (echo, net/http), SQL (database/sql, pgx, sqlite) and MQTT (paho, mochi)
// live in the adapters (api, store/*, mqtt) and the wiring (app, cmd),
// which the core never imports, nor twin.
var (
	corePackages = []string{"spatial", "parts", "grid", "incidents", "sensors", "tiles", "synth", "ingest", "tokens"}
	forbidden    = []string{
		"net/http", "database/sql", "github.com/labstack/echo", "github.com/jackc/pgx",
		"github.com/eclipse/paho.mqtt.golang", "modernc.org/sqlite", "github.com/mochi-mqtt",
		"citytwin/api", "citytwin/store", "citytwin/twin", "citytwin/mqtt", "citytwin/app",
	}
)

// TestCoreImports fails when a core package, or anything it imports
// transitively, reaches HTTP, SQL or MQTT, and when a core package named
// by the rule is missing.
func TestCoreImports(t *testing.T) {
	for _, pkg := range corePackages {
		out, err := exec.Command("go", "list", "-deps", "./"+pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("core package %s: go list: %v\n%s", pkg, err, out)
		}
		for _, dep := range strings.Fields(string(out)) {
			for _, f := range forbidden {
				if dep == f || strings.HasPrefix(dep, f+"/") {
					t.Errorf("core package citytwin/%s depends on %s", pkg, dep)
				}
			}
		}
	}
}

// TestTwinImports keeps twin, the single write path, free of transport
// and storage: it talks to stores through interfaces it declares.
func TestTwinImports(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "./twin").CombinedOutput()
	if err != nil {
		t.Fatalf("go list twin: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, f := range forbidden {
			if f == "citytwin/twin" {
				continue
			}
			if dep == f || strings.HasPrefix(dep, f+"/") {
				t.Errorf("twin depends on %s", dep)
			}
		}
	}
}

// TestNoLargeFiles fails when a tracked file over 1 MB sits outside a
// testdata directory (binaries, generated cities, dumps).
func TestNoLargeFiles(t *testing.T) {
	out, err := exec.Command("git", "ls-files", "-z").Output()
	if err != nil {
		t.Skipf("not a git checkout: %v", err)
	}
	for _, f := range strings.Split(string(out), "\x00") {
		if f == "" || strings.Contains("/"+filepath.ToSlash(f), "/testdata/") {
			continue
		}
		st, err := os.Stat(f)
		if err != nil {
			continue // deleted in the work tree
		}
		if st.Size() > 1<<20 {
			t.Errorf("%s is %d bytes: files over 1 MB belong in testdata/ or outside the repository", f, st.Size())
		}
	}
}
