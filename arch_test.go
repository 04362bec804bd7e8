package citytwin_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestCoreImports keeps the core free of transport and storage: the core
// packages, and everything they import transitively, must not reach HTTP,
// SQL or MQTT (see ARCHITECTURE.md, "Which way the arrows point").
func TestCoreImports(t *testing.T) {
	core := []string{"spatial", "parts", "grid", "tiles", "synth", "ingest", "tokens"}
	forbidden := []string{
		"net/http", "database/sql", "github.com/labstack/echo", "github.com/jackc/pgx",
		"github.com/eclipse/paho", "modernc.org/sqlite", "github.com/mochi-mqtt",
		"citytwin/api", "citytwin/store", "citytwin/twin", "citytwin/mqtt",
	}
	for _, pkg := range core {
		out, err := exec.Command("go", "list", "-deps", "./"+pkg).CombinedOutput()
		if err != nil {
			if strings.Contains(string(out), "directory not found") || strings.Contains(string(out), "no Go files") {
				continue
			}
			t.Fatalf("go list %s: %v\n%s", pkg, err, out)
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
