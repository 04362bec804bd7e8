package sensors_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"citytwin/parts"
	"citytwin/sensors"
)

func f(v float64) *float64 { return &v }

const code1 = parts.Code(3205080101000001) // Suzhou Gusu, water-supply cover

func TestParseID(t *testing.T) {
	tests := map[string]bool{
		"cv-320508-000001": true, "a": true, "gw.01:dev_7": true, strings.Repeat("x", 64): true,
		"": false, strings.Repeat("x", 65): false, "a b": false, "a/b": false, "a#1": false, "井盖": false,
	}
	for in, ok := range tests {
		id, err := sensors.ParseID(in)
		if ok != (err == nil) || ok && string(id) != in {
			t.Errorf("ParseID(%q) = %q, %v", in, id, err)
		}
		var fe *sensors.FieldError
		if !ok && (!errors.As(err, &fe) || fe.Field != "id" || !errors.Is(err, sensors.ErrInvalid)) {
			t.Errorf("ParseID(%q) error %v is not a *FieldError for id", in, err)
		}
	}
}

func TestValidate(t *testing.T) {
	base := func() sensors.Sensor {
		return sensors.Sensor{ID: "s1", Kind: sensors.CoverTilt, Code: code1,
			Rules: []sensors.Rule{{Kind: sensors.Threshold, Above: f(15), ClearBelow: f(10)}}}
	}
	tests := map[string]struct {
		edit  func(*sensors.Sensor)
		field string // "" valid
	}{
		"ok":            {func(*sensors.Sensor) {}, ""},
		"other unit":    {func(s *sensors.Sensor) { s.Unit = "rad" }, ""},
		"default rules": {func(s *sensors.Sensor) { s.Rules = nil }, ""},
		"band":          {func(s *sensors.Sensor) { s.Rules[0].Below, s.Rules[0].ClearAbove = f(-15), f(-10) }, ""},
		"below only":    {func(s *sensors.Sensor) { s.Rules[0] = sensors.Rule{Kind: sensors.Threshold, Below: f(0.15)} }, ""},
		"rate": {func(s *sensors.Sensor) {
			s.Rules[0] = sensors.Rule{Kind: sensors.Rate, Delta: 5, Window: sensors.Duration(time.Minute)}
		}, ""},
		"silence": {func(s *sensors.Sensor) {
			s.Rules[0] = sensors.Rule{Kind: sensors.Silence, After: sensors.Duration(10 * time.Minute)}
		}, ""},
		"bad id":              {func(s *sensors.Sensor) { s.ID = "a b" }, "id"},
		"no kind":             {func(s *sensors.Sensor) { s.Kind = "" }, "kind"},
		"unknown kind":        {func(s *sensors.Sensor) { s.Kind = "radiation" }, "kind"},
		"no code":             {func(s *sensors.Sensor) { s.Code = 0 }, "code"},
		"bad code":            {func(s *sensors.Sensor) { s.Code = 1234 }, "code"},
		"long unit":           {func(s *sensors.Sensor) { s.Unit = strings.Repeat("u", 17) }, "unit"},
		"too many rules":      {func(s *sensors.Sensor) { s.Rules = make([]sensors.Rule, 9) }, "rules"},
		"unknown rule kind":   {func(s *sensors.Sensor) { s.Rules[0].Kind = "median" }, "rules[0].kind"},
		"missing rule kind":   {func(s *sensors.Sensor) { s.Rules[0].Kind = "" }, "rules[0].kind"},
		"no thresholds":       {func(s *sensors.Sensor) { s.Rules[0].Above, s.Rules[0].ClearBelow = nil, nil }, "rules[0].above"},
		"hysteresis reversed": {func(s *sensors.Sensor) { s.Rules[0].ClearBelow = f(20) }, "rules[0].clearBelow"},
		"clearAbove reversed": {func(s *sensors.Sensor) {
			s.Rules[0] = sensors.Rule{Kind: sensors.Threshold, Below: f(1), ClearAbove: f(0.5)}
		}, "rules[0].clearAbove"},
		"clearBelow alone":     {func(s *sensors.Sensor) { s.Rules[0].Above, s.Rules[0].Below = nil, f(1) }, "rules[0].clearBelow"},
		"empty band":           {func(s *sensors.Sensor) { s.Rules[0].Below = f(20) }, "rules[0].below"},
		"band never clears":    {func(s *sensors.Sensor) { s.Rules[0].Below, s.Rules[0].ClearAbove = f(5), f(12) }, "rules[0].clearAbove"},
		"NaN above":            {func(s *sensors.Sensor) { s.Rules[0].Above = f(nan()) }, "rules[0].above"},
		"threshold with delta": {func(s *sensors.Sensor) { s.Rules[0].Delta = 3 }, "rules[0].delta"},
		"negative window": {func(s *sensors.Sensor) {
			s.Rules = append(s.Rules, sensors.Rule{Kind: sensors.Rate, Delta: 1, Window: sensors.Duration(-time.Second)})
		}, "rules[1].window"},
		"rate no delta": {func(s *sensors.Sensor) {
			s.Rules = append(s.Rules, sensors.Rule{Kind: sensors.Rate, Window: sensors.Duration(time.Minute)})
		}, "rules[1].delta"},
		"rate no window": {func(s *sensors.Sensor) { s.Rules = append(s.Rules, sensors.Rule{Kind: sensors.Rate, Delta: 1}) }, "rules[1].window"},
		"rate with above": {func(s *sensors.Sensor) {
			s.Rules = append(s.Rules, sensors.Rule{Kind: sensors.Rate, Delta: 1, Window: sensors.Duration(time.Minute), Above: f(1)})
		}, "rules[1].above"},
		"negative after": {func(s *sensors.Sensor) {
			s.Rules = append(s.Rules, sensors.Rule{Kind: sensors.Silence, After: sensors.Duration(-time.Minute)})
		}, "rules[1].after"},
		"silence no after": {func(s *sensors.Sensor) { s.Rules = append(s.Rules, sensors.Rule{Kind: sensors.Silence}) }, "rules[1].after"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			s := base()
			tt.edit(&s)
			err := s.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate = %v", err)
				}
				if s.Unit == "" || len(s.Rules) == 0 {
					t.Fatalf("defaults not filled: unit %q, %d rules", s.Unit, len(s.Rules))
				}
				return
			}
			var fe *sensors.FieldError
			if !errors.As(err, &fe) || fe.Field != tt.field || !errors.Is(err, sensors.ErrInvalid) {
				t.Fatalf("Validate = %v, want a *FieldError for %q", err, tt.field)
			}
		})
	}
}

func TestValidateDefaults(t *testing.T) {
	s := sensors.Sensor{ID: "g1", Kind: sensors.CoverGas, Code: code1}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	k, _ := sensors.LookupKind(sensors.CoverGas)
	if s.Unit != "%LEL" || len(s.Rules) != len(k.Rules) || *s.Rules[0].Above != *k.Rules[0].Above {
		t.Fatalf("defaults: %+v", s)
	}
	*s.Rules[0].Above = 99 // must not change the catalogue
	if k2, _ := sensors.LookupKind(sensors.CoverGas); *k2.Rules[0].Above == 99 {
		t.Fatal("the catalogue shares its rules")
	}
	s = sensors.Sensor{ID: "g1", Kind: sensors.CoverGas, Unit: "ppm", Code: code1}
	if err := s.Validate(); err != nil || s.Unit != "ppm" {
		t.Fatalf("unit mismatch: %v %q", err, s.Unit)
	}
}

func TestKinds(t *testing.T) {
	units := map[sensors.Kind]string{
		sensors.CoverTilt: "deg", sensors.CoverGas: "%LEL", sensors.WaterPressure: "MPa",
		sensors.BridgeStrain: "microstrain", sensors.WaterLevel: "cm", sensors.BinFill: "%", sensors.LampPower: "W",
	}
	ks := sensors.Kinds()
	if len(ks) != len(units) {
		t.Fatalf("%d kinds, want %d", len(ks), len(units))
	}
	cat := parts.DefaultCatalogue()
	for _, k := range ks {
		if units[k.Kind] != k.Unit || k.Name == "" || k.NameEN == "" || len(k.Classes) == 0 || len(k.Rules) == 0 || k.Spread <= 0 {
			t.Errorf("kind %+v", k)
		}
		for _, c := range k.Classes {
			if err := cat.Validate(c); err != nil || !k.Fits(c) {
				t.Errorf("%s: class %v: %v", k.Kind, c, err)
			}
		}
		s := sensors.Sensor{ID: "x", Kind: k.Kind, Code: code1, Rules: k.Rules}
		if err := s.Validate(); err != nil {
			t.Errorf("%s: default rules: %v", k.Kind, err)
		}
		// a normal reading raises nothing
		for _, r := range k.Rules {
			if r.Above != nil && k.Normal+3*k.Spread >= *r.Above || r.Below != nil && k.Normal-3*k.Spread <= *r.Below {
				t.Errorf("%s: normal %v±3×%v reaches a threshold", k.Kind, k.Normal, k.Spread)
			}
		}
		if got, ok := sensors.LookupKind(k.Kind); !ok || got.Kind != k.Kind {
			t.Errorf("LookupKind(%s)", k.Kind)
		}
	}
	if _, ok := sensors.LookupKind("sonar"); ok {
		t.Error("LookupKind(sonar) found")
	}
}

func TestDurationJSON(t *testing.T) {
	for in, want := range map[string]time.Duration{`"10m"`: 10 * time.Minute, `"90s"`: 90 * time.Second, `"1h30m"`: 90 * time.Minute, `600`: 10 * time.Minute} {
		var d sensors.Duration
		if err := json.Unmarshal([]byte(in), &d); err != nil || time.Duration(d) != want {
			t.Errorf("Unmarshal(%s) = %v, %v", in, time.Duration(d), err)
		}
	}
	for _, in := range []string{`"10 minutes"`, `"x"`, `true`, `1e300`} {
		var d sensors.Duration
		if err := json.Unmarshal([]byte(in), &d); err == nil {
			t.Errorf("Unmarshal(%s) = %v, want an error", in, time.Duration(d))
		}
	}
	for d, want := range map[time.Duration]string{10 * time.Minute: `"10m"`, time.Hour: `"1h"`, 90 * time.Second: `"1m30s"`, 0: `"0s"`} {
		b, _ := json.Marshal(sensors.Duration(d))
		if string(b) != want {
			t.Errorf("Marshal(%v) = %s, want %s", d, b, want)
		}
	}
	r := sensors.Rule{Kind: sensors.Silence, After: sensors.Duration(10 * time.Minute)}
	b, _ := json.Marshal(r)
	if string(b) != `{"kind":"silence","after":"10m"}` {
		t.Errorf("rule JSON %s", b)
	}
}

func TestReason(t *testing.T) {
	tests := map[string]error{
		"":                 nil,
		"unknown_sensor":   sensors.ErrUnknownSensor,
		"bad_value":        &sensors.PayloadError{Err: sensors.ErrBadValue},
		"future":           sensors.ErrFuture,
		"too_old":          sensors.ErrTooOld,
		"duplicate":        sensors.ErrDuplicate,
		"out_of_order":     sensors.ErrOutOfOrder,
		"too_large":        sensors.ErrTooLarge,
		"malformed":        sensors.ErrMalformed,
		"invalid":          &sensors.FieldError{Field: "id", Reason: "empty"},
		"not_found":        sensors.ErrNotFound,
		"exists":           sensors.ErrExists,
		"version_mismatch": sensors.ErrVersionMismatch,
		"other":            errors.New("boom"),
	}
	for want, err := range tests {
		if got := sensors.Reason(err); got != want {
			t.Errorf("Reason(%v) = %q, want %q", err, got, want)
		}
		if err != nil && want != "other" && !strings.HasPrefix(err.Error(), "sensors: ") {
			t.Errorf("%q lacks the package prefix", err)
		}
	}
}
