package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
)

// Sampling codes: boxes of codeBoxSide metres around centre-weighted
// points, at most codePage components from each, at most codeBoxes boxes.
const (
	codeBoxSide = 1500
	codePage    = 2000
	codeBoxes   = 200
)

// page is the part of a GeoJSON page of components the sampler reads.
type page struct {
	Features []struct {
		ID string `json:"id"`
	} `json:"features"`
}

// sampleCodes collects up to n distinct component codes from the server by
// paging GET /parts?bbox=...&limit= over boxes drawn from seed. It fails
// when it finds none.
func sampleCodes(ctx context.Context, client *http.Client, base string, c city, seed uint64, n int) ([]string, error) {
	rng := rngFor(seed, "codes")
	seen := make(map[string]bool, n)
	codes := make([]string, 0, n)
	for i := 0; i < codeBoxes && len(codes) < n; i++ {
		b := c.Box(rng, codeBoxSide, codeBoxSide)
		limit := min(codePage, n-len(codes))
		var p page
		u := base + "/parts?bbox=" + bboxParam(b) + "&limit=" + strconv.Itoa(limit)
		if err := getJSON(ctx, client, u, &p); err != nil {
			return nil, err
		}
		for _, f := range p.Features {
			if f.ID != "" && !seen[f.ID] {
				seen[f.ID] = true
				codes = append(codes, f.ID)
			}
		}
	}
	if len(codes) == 0 {
		return nil, fmt.Errorf("%w: no components in %d boxes around %v; check --bbox and --centre", errDiscovery, codeBoxes, c.Centre)
	}
	return codes, nil
}

// readPaths reads the request paths of --paths, one a line; blank lines
// are skipped. It fails on a file without paths or a line that is not a
// path.
func readPaths(name string) ([]string, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("--paths: %w", err)
	}
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if !strings.HasPrefix(line, "/") {
			return nil, fmt.Errorf("%w: --paths %s: %q is not a path", errUsage, name, line)
		}
		out = append(out, line)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: --paths %s holds no paths", errUsage, name)
	}
	return out, nil
}
