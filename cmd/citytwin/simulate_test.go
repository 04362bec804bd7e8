package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"citytwin/sensors"
)

func simSensors(n int) []simSensor {
	kinds := sensors.Kinds()
	ss := make([]simSensor, n)
	for i := range ss {
		k := kinds[i%len(kinds)]
		ss[i] = simSensor{ID: sensors.ID(fmt.Sprintf("sim-%s-%d", k.Kind, i)), Kind: k.Kind}
	}
	return ss
}

func TestSimValuesDeterministic(t *testing.T) {
	a, b, c := newSimValues(7, simSensors(500)), newSimValues(7, simSensors(500)), newSimValues(8, simSensors(500))
	same, differ := true, false
	for range 10000 {
		ra, _ := a.Next()
		rb, _ := b.Next()
		rc, _ := c.Next()
		same = same && ra == rb
		differ = differ || ra != rc
	}
	if !same || !differ {
		t.Errorf("same seed same readings %v (want true), another seed other readings %v (want true)", same, differ)
	}
}

func TestSimValuesFaultsSpikesSilence(t *testing.T) {
	const n, readings = 10000, 2_000_000
	v := newSimValues(42, simSensors(n))
	if s := v.Silent(); s < n/200 || s > n*2/100 {
		t.Errorf("%d of %d devices silent, want about 1 %%", s, n)
	}
	thresholds := make(map[sensors.ID]float64)
	for _, s := range simSensors(n) {
		ki, _ := sensors.LookupKind(s.Kind)
		for _, r := range ki.Rules {
			if r.Kind == sensors.Threshold && r.Above != nil {
				thresholds[s.ID] = *r.Above
				break
			}
			if r.Kind == sensors.Threshold && r.Below != nil {
				thresholds[s.ID] = -*r.Below // below: negated
				break
			}
		}
	}
	var faults, spikes, spikeRuns, maxRun, run int
	spiking := make(map[sensors.ID]int)
	for range readings {
		r, ok := v.Next()
		if !ok {
			t.Fatal("no reading")
		}
		if r.Fault != faultNone {
			faults++
		}
		if r.Spike {
			spikes++
			if spiking[r.Sensor] == 0 {
				spikeRuns++
			}
			spiking[r.Sensor]++
			th := thresholds[r.Sensor]
			if (th >= 0 && !(r.Value > th)) || (th < 0 && !(r.Value < -th)) {
				t.Fatalf("spike %v of %s does not cross its threshold %v", r.Value, r.Sensor, th)
			}
			continue
		}
		if run = spiking[r.Sensor]; run > 0 {
			maxRun = max(maxRun, run)
			if run < simSpikeMin {
				t.Fatalf("a spike of %s lasted %d readings, want at least %d", r.Sensor, run, simSpikeMin)
			}
			delete(spiking, r.Sensor)
		}
		if math.IsNaN(r.Value) || math.IsInf(r.Value, 0) {
			t.Fatalf("value %v", r.Value)
		}
	}
	if rate := float64(faults) / readings; rate < 0.0007 || rate > 0.0013 {
		t.Errorf("fault rate %.4f %%, want about 0.1 %%", rate*100)
	}
	if share := float64(spikes) / readings; share < 0.003 || share > 0.008 {
		t.Errorf("%.3f %% of readings spiking, want about 0.5 %%", share*100)
	}
	if spikeRuns < 100 || maxRun > simSpikeMax {
		t.Errorf("%d spikes, longest %d readings: want many, at most %d long", spikeRuns, maxRun, simSpikeMax)
	}
}

func TestSimPayloads(t *testing.T) {
	now := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	r := simReading{Sensor: "s1", Value: 12.5}
	got, err := sensors.ParseValue("s1", appendValue(nil, r, now), now)
	if err != nil || got.Value != 12.5 || !got.Time.Equal(now) {
		t.Errorf("single payload: %+v, %v", got, err)
	}
	for _, f := range []simFault{faultNaN, faultMalformed} {
		r.Fault = f
		if _, err := sensors.ParseValue("s1", appendValue(nil, r, now), now); err == nil {
			t.Errorf("fault %d parsed", f)
		}
	}
	batch := []byte("[")
	batch = appendBatchElem(batch, simReading{Sensor: "a", Value: 1}, now)
	batch = append(batch, ',')
	batch = appendBatchElem(batch, simReading{Sensor: "b", Value: 2, Fault: faultNaN}, now)
	batch = append(batch, ']')
	rs, err := sensors.AppendReadings(nil, batch, now)
	if len(rs) != 1 || rs[0].Sensor != "a" || err == nil {
		t.Errorf("batch with a fault: %+v, %v: want the good reading and an error", rs, err)
	}
}

func TestParseSimulate(t *testing.T) {
	if cfg, err := parseSimulate(nil, io.Discard); err != nil || cfg.Sensors != 1000 || cfg.Rate != 100 || cfg.Batch != 1 || cfg.Prefix != "citytwin" {
		t.Errorf("defaults: %+v, %v", cfg, err)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"zero sensors", []string{"--sensors", "0"}, "--sensors"},
		{"negative rate", []string{"--rate", "-1"}, "--rate"},
		{"NaN rate", []string{"--rate", "NaN"}, "--rate"},
		{"zero batch", []string{"--batch", "0"}, "--batch"},
		{"huge batch", []string{"--batch", "10001"}, "--batch"},
		{"negative duration", []string{"--duration", "-1s"}, "--duration"},
		{"wildcard prefix", []string{"--prefix", "a/#"}, "--prefix"},
		{"bad mqtt", []string{"--mqtt", "http://x:1883"}, "--mqtt"},
		{"mqtt without host", []string{"--mqtt", "tcp://"}, "--mqtt"},
		{"bad api", []string{"--api", "ftp://x"}, "--api"},
		{"unknown flag", []string{"--nope"}, "nope"},
		{"argument", []string{"extra"}, "extra"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseSimulate(tc.args, io.Discard)
			if !errors.Is(err, errUsage) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%v: want a usage error naming %s", err, tc.want)
			}
		})
	}
}

// fakePublisher counts what simulate publishes.
type fakePublisher struct {
	mu     sync.Mutex
	topics map[string]int
	n      int
}

func (p *fakePublisher) Publish(_ context.Context, topic string, _ []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.topics[topic]++
	p.n++
	return nil
}

func TestSimulateRate(t *testing.T) {
	for _, batch := range []int{1, 10} {
		t.Run(fmt.Sprint("batch=", batch), func(t *testing.T) {
			cfg := simConfig{Rate: 1000, Batch: batch, Prefix: "p"}
			p := &fakePublisher{topics: make(map[string]int)}
			ctx, cancel := context.WithTimeout(t.Context(), time.Second)
			defer cancel()
			var out strings.Builder
			if err := simulate(ctx, cfg, newSimValues(1, simSensors(100)), p, &out); err != nil {
				t.Fatal(err)
			}
			readings := p.n * batch
			if readings < 800 || readings > 1100 {
				t.Errorf("%d readings in 1 s at 1000/s", readings)
			}
			if batch > 1 && (len(p.topics) != 1 || p.topics["p/readings"] != p.n) {
				t.Errorf("topics %v: want p/readings only", p.topics)
			}
			if !strings.Contains(out.String(), "in all") {
				t.Errorf("no final summary: %q", out.String())
			}
		})
	}
}
