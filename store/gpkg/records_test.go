package gpkg

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"citytwin/incidents"
	"citytwin/sensors"
	"citytwin/twin"
)

// TestRecordsAreFeatures checks that sensors sit at their component's
// representative point and cases at their location, in feature tables
// that GDAL reads.
func TestRecordsAreFeatures(t *testing.T) {
	path := writeSample(t)
	s := openT(t, path)
	ctx := context.Background()
	line := sampleParts(t)[1] // a line: its first vertex
	sen := sensors.Sensor{ID: "strain-1", Kind: "bridge_strain", Code: line.Code, Version: 1}
	c := incidents.Case{ID: "C20261123-ABCDEFGHJK", Version: 1, State: "reported", Location: orb.Point{120.611, 31.311},
		Reported: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)}
	if err := s.Write(ctx, twin.Batch{
		Sensors: []twin.Versioned[sensors.Sensor]{{Value: sen}},
		Cases:   []twin.Versioned[incidents.Case]{{Value: c}},
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for layer, want := range map[string]string{
		"sensors": "POINT (120.61 31.31)",
		"cases":   "POINT (120.611 31.311)",
	} {
		if out := ogrinfo(t, "-ro", path, layer); !strings.Contains(out, want) || !strings.Contains(out, "Feature Count: 1") {
			t.Errorf("ogrinfo %s: no %q in\n%s", layer, want, out)
		}
	}
}
