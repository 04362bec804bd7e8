package api

import (
	"fmt"
	"testing"
)

// BenchmarkCounts counts by class over a box of about 500 m, as the
// 500 m counts of scripts/bench-http.sh do.
func BenchmarkCounts(b *testing.B) {
	benchRequest(b, newCity(b), fmt.Sprintf("/parts/counts?bbox=%v,%v,%v,%v", lon0, lat0, lon0+0.005, lat0+0.0045), nil)
}
