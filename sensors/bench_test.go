package sensors_test

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"citytwin/parts"
	"citytwin/sensors"
)

const benchSensors = 100_000

// benchEngine registers n sensors of every kind with their default rules,
// bound to distinct codes; ids look like a platform's ("cv-0000042").
func benchEngine(tb testing.TB, n int, o sensors.Options) (*sensors.Engine, []sensors.Sensor) {
	e := sensors.NewEngine(o)
	kinds := sensors.Kinds()
	ss := make([]sensors.Sensor, n)
	for i := range ss {
		k := kinds[i%len(kinds)]
		code, err := parts.NewCode(320508, k.Classes[0], uint32(i%999_999+1))
		if err != nil {
			tb.Fatal(err)
		}
		ss[i] = sensors.Sensor{ID: sensors.ID(fmt.Sprintf("cv-%07d", i)), Kind: k.Kind, Code: code}
		if err := ss[i].Validate(); err != nil {
			tb.Fatal(err)
		}
		e.Put(ss[i])
	}
	return e, ss
}

// BenchmarkEvaluate evaluates readings of 100,000 sensors in random order,
// values mostly in range (1 in 200 a spike), committing what is proposed as
// the caller does.
func BenchmarkEvaluate(b *testing.B) {
	for _, n := range []int{1000, benchSensors} {
		b.Run("sensors="+strconv.Itoa(n), func(b *testing.B) { benchEvaluate(b, n) })
	}
	b.Run("floor=map-lookup-100000", benchFloor)
}

// benchFloor is the memory-latency floor of the 100,000-sensor case: a bare
// map[string]*T lookup and one write per reading, random order, with
// entries the size of the engine's.
func benchFloor(b *testing.B) {
	type ent struct{ a [40]uint64 }
	m := make(map[sensors.ID]*ent)
	ids := make([]sensors.ID, benchSensors)
	for i := range ids {
		ids[i] = sensors.ID(fmt.Sprintf("cv-%07d", i))
		m[ids[i]] = &ent{}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	seq := make([]sensors.ID, 1<<20)
	for i := range seq {
		seq[i] = sensors.ID(strings.Clone(string(ids[rng.IntN(len(ids))])))
	}
	i := 0
	cpu0 := cpuTime()
	for b.Loop() {
		m[seq[i&(1<<20-1)]].a[i&7]++
		i++
	}
	b.ReportMetric(float64(i)/b.Elapsed().Seconds(), "evals/s")
	b.ReportMetric(float64(i)/(cpuTime()-cpu0).Seconds(), "evals/cpu-s")
}

func benchEvaluate(b *testing.B, n int) {
	var now time.Time
	e, ss := benchEngine(b, n, sensors.Options{Now: func() time.Time { return now }})
	rng := rand.New(rand.NewPCG(1, 2))
	kinds := map[sensors.Kind]sensors.KindInfo{}
	for _, k := range sensors.Kinds() {
		kinds[k.Kind] = k
	}
	const nr = 1 << 20
	rs := make([]sensors.Reading, nr)
	for i := range rs {
		s := ss[rng.IntN(len(ss))]
		k := kinds[s.Kind]
		v := k.Normal + rng.NormFloat64()*k.Spread
		if rng.IntN(200) == 0 {
			v = k.Normal + 40*k.Spread
		}
		// the id as a decoder makes it: a fresh string, not the registered one
		rs[i] = sensors.Reading{Sensor: sensors.ID(strings.Clone(string(s.ID))), Value: v}
	}
	out := make([]sensors.Transition, 0, 16)
	base := t0
	var i, errs, transitions int
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for b.Loop() {
		r := rs[i&(nr-1)]
		now = base.Add(time.Duration(i) * time.Millisecond)
		r.Time = now
		var err error
		out, err = e.Evaluate(r, out[:0])
		if err != nil {
			errs++
		}
		if len(out) > 0 {
			transitions += len(out)
			e.Commit(out)
		}
		i++
	}
	if errs > i/100 {
		b.Fatalf("%d of %d readings rejected", errs, i)
	}
	cpu := cpuTime() - cpu0
	b.ReportMetric(float64(i)/b.Elapsed().Seconds(), "evals/s")
	b.ReportMetric(float64(i)/cpu.Seconds(), "evals/cpu-s")
	b.ReportMetric(float64(transitions)/float64(i), "transitions/op")
}

// cpuTime is the process's user+system CPU time: on a busy machine
// evals/cpu-s is steadier than the wall-clock evals/s.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkEvaluateParallel is BenchmarkEvaluate from GOMAXPROCS goroutines.
func BenchmarkEvaluateParallel(b *testing.B) {
	clk := newClock(t0)
	e, ss := benchEngine(b, benchSensors, sensors.Options{Now: clk.Now, MaxPast: 1000 * time.Hour})
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		rng := rand.New(rand.NewPCG(rand.Uint64(), 2))
		out := make([]sensors.Transition, 0, 16)
		for pb.Next() {
			s := &ss[rng.IntN(len(ss))]
			clk.Advance(time.Millisecond)
			out, _ = e.Evaluate(sensors.Reading{Sensor: s.ID, Value: 1, Time: clk.Now()}, out[:0])
			if len(out) > 0 {
				e.Commit(out)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "evals/s")
}

// BenchmarkMemoryPerSensor measures the heap of 100,000 sensors with two
// rules each (threshold and silence, shared), ids and code index included.
// The window ring (16 readings of 8 bytes) lives in the sensor's own
// allocation: B/sensor is the measured B/sensor-with-window less those 128
// bytes. Readings allocate nothing more (checked).
func BenchmarkMemoryPerSensor(b *testing.B) {
	rules := []sensors.Rule{above25, silence10}
	var withWin, after float64
	for b.Loop() {
		var m0, m1, m2 runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m0)
		e := sensors.NewEngine(sensors.Options{Now: func() time.Time { return t0 }})
		for i := range benchSensors {
			id := sensors.ID("cv-" + strconv.Itoa(1_000_000+i))
			code := parts.Code(3205080101000001 + uint64(i))
			e.Put(sensors.Sensor{ID: id, Kind: sensors.CoverTilt, Unit: "deg", Code: code, Rules: rules, Version: 1, Updated: t0})
		}
		runtime.GC()
		runtime.ReadMemStats(&m1)
		var out []sensors.Transition
		for i := range benchSensors {
			id := sensors.ID("cv-" + strconv.Itoa(1_000_000+i))
			out, _ = e.Evaluate(sensors.Reading{Sensor: id, Value: 1, Time: t0}, out[:0])
		}
		runtime.GC()
		runtime.ReadMemStats(&m2)
		withWin = float64(m1.HeapAlloc-m0.HeapAlloc) / benchSensors
		after = float64(m2.HeapAlloc-m0.HeapAlloc) / benchSensors
		runtime.KeepAlive(e)
	}
	if after > withWin+1 {
		b.Fatalf("readings grew the heap: %.0f -> %.0f B/sensor", withWin, after)
	}
	b.ReportMetric(withWin-sensors.DefaultWindow*8, "B/sensor")
	b.ReportMetric(withWin, "B/sensor-with-window")
}

// batch returns a JSON array of n readings as a gateway publishes them.
func batch(n int) []byte {
	b := []byte{'['}
	for i := range n {
		if i > 0 {
			b = append(b, ',')
		}
		b = fmt.Appendf(b, `{"sensor":"cv-%07d","value":%.3f,"time":"2026-12-01T08:%02d:%02d.%03dZ","rssi":-71}`, i, float64(i%1000)/7, i/60%60, i%60, i%1000)
	}
	return append(b, ']')
}

func BenchmarkAppendReadings(b *testing.B) {
	payload := batch(1000)
	dst := make([]sensors.Reading, 0, 1000)
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	for b.Loop() {
		var err error
		dst, err = sensors.AppendReadings(dst[:0], payload, t0)
		if err != nil || len(dst) != 1000 {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)*1000/b.Elapsed().Seconds(), "readings/s")
}

func BenchmarkParseValue(b *testing.B) {
	payload := []byte(`{"value":12.5,"time":"2026-12-01T08:00:00Z"}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := sensors.ParseValue("cv-0000001", payload, t0); err != nil {
			b.Fatal(err)
		}
	}
}
