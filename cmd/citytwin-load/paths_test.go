package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// TestPathsEachOnce: --paths with --max-requests set to their number asks
// each path of the file exactly once, whatever the connections.
func TestPathsEachOnce(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]int{}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.URL.RequestURI()]++
		mu.Unlock()
		w.Write([]byte("ok"))
	}))
	defer hs.Close()
	var paths []string
	for i := range 300 {
		paths = append(paths, "/tiles/parts/14/"+strings.Repeat("1", 1+i%3)+"/"+string(rune('a'+i%26))+"/"+strconv.Itoa(i)+".mvt")
	}
	file := filepath.Join(t.TempDir(), "list")
	if err := os.WriteFile(file, []byte(strings.Join(paths, "\n")+"\n\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	args := []string{"--url", hs.URL, "--bbox", "104,30,104.1,30.1", "--scenario", "tile", "--paths", file,
		"--connections", "8", "--warmup", "0s", "--duration", "1m", "--max-requests", strconv.Itoa(len(paths)), "--json"}
	if err := run(context.Background(), args, &stdout, &stderr); err != nil {
		t.Fatalf("run: %v\n%s", err, stderr.String())
	}
	var rep report
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	if r := rep.Results[0]; r.Requests != uint64(len(paths)) || r.OK != r.Requests {
		t.Errorf("%d requests, %d ok; want %d", r.Requests, r.OK, len(paths))
	}
	mu.Lock()
	defer mu.Unlock()
	for _, p := range paths {
		if seen[p] < 1 {
			t.Errorf("%s never asked", p)
		}
	}
	extra := 0
	for _, n := range seen {
		extra += n - 1
	}
	if extra > 8 { // at most one request in flight per connection after the last counted
		t.Errorf("%d repeated requests", extra)
	}
}

// TestPathsRefused: a file without paths, or with a line that is not a
// path, is a usage error.
func TestPathsRefused(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{"empty": "\n\n", "not-a-path": "/a\nhttp://x/b\n"} {
		file := filepath.Join(dir, name)
		if err := os.WriteFile(file, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := readPaths(file); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := readPaths(filepath.Join(dir, "missing")); err == nil {
		t.Error("a missing file: no error")
	}
}
