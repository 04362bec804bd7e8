package sensors_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"citytwin/sensors"
)

func TestParseValue(t *testing.T) {
	now := t0
	tests := map[string]struct {
		in    string
		value float64
		time  time.Time
		err   error
		field string
	}{
		"object":          {`{"value":12.5,"time":"2026-12-01T08:00:00Z"}`, 12.5, t0, nil, ""},
		"no time":         {`{"value":-3e2}`, -300, now, nil, ""},
		"null time":       {`{"value":1,"time":null}`, 1, now, nil, ""},
		"offset":          {`{"time":"2026-12-01T16:00:00.250+08:00","value":0}`, 0, t0.Add(250 * time.Millisecond), nil, ""},
		"unix seconds":    {`{"value":1,"time":1795939200}`, 1, time.Unix(1795939200, 0), nil, ""},
		"unix ms":         {`{"value":1,"time":1795939200500}`, 1, time.Unix(1795939200, 5e8), nil, ""},
		"bare":            {` 12.5 `, 12.5, now, nil, ""},
		"bare int":        {`7`, 7, now, nil, ""},
		"unknown fields":  {`{"rssi":-70,"meta":{"a":[1,{"b":null}],"c":"x\"y"},"value":2,"ok":true}`, 2, now, nil, ""},
		"sensor ignored":  {`{"sensor":"other","value":2}`, 2, now, nil, ""},
		"null":            {`{"value":null}`, 0, now, sensors.ErrBadValue, "value"},
		"string":          {`{"value":"12.5"}`, 0, now, sensors.ErrBadValue, "value"},
		"bool":            {`{"value":true}`, 0, now, sensors.ErrBadValue, "value"},
		"missing":         {`{"time":"2026-12-01T08:00:00Z"}`, 0, now, sensors.ErrBadValue, "value"},
		"huge":            {`{"value":1e999}`, 0, now, sensors.ErrBadValue, "value"},
		"bare null":       {`null`, 0, now, sensors.ErrBadValue, "value"},
		"bare string":     {`"12"`, 0, now, sensors.ErrBadValue, "value"},
		"bad time":        {`{"value":1,"time":"yesterday"}`, 0, now, sensors.ErrMalformed, "time"},
		"bad date":        {`{"value":1,"time":"2026-02-30T08:00:00Z"}`, 0, now, sensors.ErrMalformed, "time"},
		"no zone":         {`{"value":1,"time":"2026-12-01T08:00:00"}`, 0, now, sensors.ErrMalformed, "time"},
		"empty":           {``, 0, now, sensors.ErrMalformed, ""},
		"truncated":       {`{"value":1`, 0, now, sensors.ErrMalformed, ""},
		"trailing":        {`{"value":1} x`, 0, now, sensors.ErrMalformed, ""},
		"leading zero":    {`{"value":01}`, 0, now, sensors.ErrMalformed, ""},
		"NaN literal":     {`{"value":NaN}`, 0, now, sensors.ErrMalformed, ""},
		"bad key":         {`{value:1}`, 0, now, sensors.ErrMalformed, ""},
		"deep":            {`{"x":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `,"value":1}`, 0, now, sensors.ErrMalformed, ""},
		"mismatched":      {`{"x":[1},"value":1}`, 0, now, sensors.ErrMalformed, ""},
		"control in str":  {"{\"x\":\"a\nb\",\"value\":1}", 0, now, sensors.ErrMalformed, ""},
		"array not value": {`[1]`, 0, now, sensors.ErrBadValue, "value"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			r, err := sensors.ParseValue("dev-1", []byte(tt.in), now)
			if tt.err == nil {
				if err != nil || r.Sensor != "dev-1" || r.Value != tt.value || !r.Time.Equal(tt.time) {
					t.Fatalf("ParseValue = %+v, %v", r, err)
				}
				return
			}
			var pe *sensors.PayloadError
			if !errors.Is(err, tt.err) || !errors.As(err, &pe) || pe.Field != tt.field {
				t.Fatalf("ParseValue = %+v, %v; want %v on %q", r, err, tt.err, tt.field)
			}
		})
	}
	if _, err := sensors.ParseValue("bad id", []byte(`1`), now); !errors.Is(err, sensors.ErrInvalid) {
		t.Fatalf("bad topic id: %v", err)
	}
	big := []byte(`{"value":1,"pad":"` + strings.Repeat("x", sensors.MaxPayload) + `"}`)
	if _, err := sensors.ParseValue("dev-1", big, now); !errors.Is(err, sensors.ErrTooLarge) {
		t.Fatalf("1 MiB: %v", err)
	}
}

func TestAppendReadings(t *testing.T) {
	now := t0
	dst := []sensors.Reading{{Sensor: "keep"}}
	rs, err := sensors.AppendReadings(dst, []byte(` [ {"sensor":"a","value":1,"time":"2026-12-01T08:00:00Z"},
		{"value":2,"sensor":"b","extra":[1,2,{"x":"y"}]} , {"sensor":"c\u002d1","value":3} ] `), now)
	if err != nil || len(rs) != 4 || rs[0].Sensor != "keep" || rs[1] != (sensors.Reading{Sensor: "a", Value: 1, Time: t0}) ||
		rs[2].Sensor != "b" || !rs[2].Time.Equal(now) || rs[3].Sensor != "c-1" {
		t.Fatalf("AppendReadings = %+v, %v", rs, err)
	}
	rs, err = sensors.AppendReadings(nil, []byte(`{"sensor":"a","value":1}`), now)
	if err != nil || len(rs) != 1 || rs[0].Sensor != "a" {
		t.Fatalf("one object: %+v, %v", rs, err)
	}
	if rs, err = sensors.AppendReadings(nil, []byte(`[]`), now); err != nil || len(rs) != 0 {
		t.Fatalf("empty array: %v, %v", rs, err)
	}
	// bad elements are skipped, the first is reported
	rs, err = sensors.AppendReadings(nil, []byte(`[{"sensor":"a","value":1},{"sensor":"b","value":null},{"value":3},{"sensor":"d","value":"4"},{"sensor":"e","value":5}]`), now)
	var pe *sensors.PayloadError
	if len(rs) != 2 || rs[1].Sensor != "e" || !errors.As(err, &pe) || pe.Index != 1 || pe.Field != "value" || pe.Skipped != 3 ||
		!errors.Is(err, sensors.ErrBadValue) || !strings.Contains(err.Error(), "null") {
		t.Fatalf("bad elements: %+v, %v", rs, err)
	}
	// malformed: nothing appended
	for _, in := range []string{`[{"sensor":"a","value":1},]`, `[{"sensor":"a","value":1}`, `[1,2]`, `"x"`, `[{"sensor":"a","value":1}] [`, ``} {
		rs, err := sensors.AppendReadings(dst, []byte(in), now)
		if !errors.Is(err, sensors.ErrMalformed) || len(rs) != 1 {
			t.Errorf("AppendReadings(%q) = %d readings, %v", in, len(rs), err)
		}
	}
	for _, in := range []string{`[{"sensor":7,"value":1}]`, `[{"sensor":"a b","value":1}]`, `[{"value":1}]`} {
		if _, err := sensors.AppendReadings(nil, []byte(in), now); !errors.Is(err, sensors.ErrInvalid) {
			t.Errorf("AppendReadings(%q): %v, want ErrInvalid", in, err)
		}
	}
	// bounds
	var b strings.Builder
	b.WriteString("[")
	for i := range sensors.MaxBatch + 1 {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`{"sensor":"a","value":1}`)
	}
	b.WriteString("]")
	if rs, err := sensors.AppendReadings(dst, []byte(b.String()), now); !errors.Is(err, sensors.ErrTooLarge) || len(rs) != 1 {
		t.Fatalf("MaxBatch+1: %d, %v", len(rs), err)
	}
	if _, err := sensors.AppendReadings(nil, make([]byte, sensors.MaxPayload+1), now); !errors.Is(err, sensors.ErrTooLarge) {
		t.Fatalf("over 1 MiB: %v", err)
	}
}

func TestAppendReadingsAllocs(t *testing.T) {
	payload := batch(100)
	dst := make([]sensors.Reading, 0, 100)
	allocs := testing.AllocsPerRun(20, func() {
		dst, _ = sensors.AppendReadings(dst[:0], payload, t0)
	})
	if allocs > 100 { // the sensor ids
		t.Fatalf("%v allocations for 100 readings", allocs)
	}
}
