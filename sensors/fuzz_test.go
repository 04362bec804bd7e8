package sensors_test

import (
	"encoding/json"
	"errors"
	"math"
	"testing"

	"citytwin/sensors"
)

var fuzzSeeds = []string{
	`{"value":12.5,"time":"2026-12-01T08:00:00Z"}`,
	`{"value":12.5}`, `12.5`, `-0.0`, `1e308`, `null`, `"x"`, `{"value":null}`, `{"value":"1"}`,
	`[{"sensor":"a","value":1,"time":"2026-12-01T08:00:00.123+08:00"},{"sensor":"b","value":2}]`,
	`{"sensor":"a","value":1,"time":1795939200}`, `[{"sensor":"a\u0041","value":1,"x":{"y":[1,2,{"z":"\ud83d\ude00"}]}}]`,
	`[`, `{`, `{"value":1,}`, `[{"sensor":"a","value":1}]]`, `{"value":1e-999}`, `{"time":"2026-13-01T00:00:00Z","value":1}`,
}

func FuzzParseValue(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := sensors.ParseValue("dev-1", b, t0)
		if err != nil {
			var pe *sensors.PayloadError
			if !errors.As(err, &pe) || sensors.Reason(err) == "other" {
				t.Fatalf("error %v is not a *PayloadError with a reason", err)
			}
			return
		}
		if math.IsNaN(r.Value) || math.IsInf(r.Value, 0) || r.Sensor != "dev-1" || r.Time.IsZero() {
			t.Fatalf("ParseValue(%q) = %+v", b, r)
		}
		// what ParseValue accepts is valid JSON
		if !json.Valid(b) {
			t.Fatalf("ParseValue accepted invalid JSON %q", b)
		}
	})
}

func FuzzAppendReadings(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		dst := []sensors.Reading{{Sensor: "keep"}}
		rs, err := sensors.AppendReadings(dst, b, t0)
		if len(rs) < 1 || rs[0].Sensor != "keep" || len(rs) > 1+sensors.MaxBatch {
			t.Fatalf("AppendReadings(%q) broke dst: %d", b, len(rs))
		}
		var pe *sensors.PayloadError
		if err != nil && (!errors.As(err, &pe) || sensors.Reason(err) == "other") {
			t.Fatalf("error %v is not a *PayloadError with a reason", err)
		}
		for _, r := range rs[1:] {
			if _, err := sensors.ParseID(string(r.Sensor)); err != nil || math.IsNaN(r.Value) || math.IsInf(r.Value, 0) || r.Time.IsZero() {
				t.Fatalf("AppendReadings(%q) returned %+v", b, r)
			}
		}
		if len(rs) > 1 || err == nil || pe.Skipped > 0 {
			if !json.Valid(b) {
				t.Fatalf("AppendReadings accepted invalid JSON %q", b)
			}
		}
	})
}
