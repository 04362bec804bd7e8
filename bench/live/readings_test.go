package live_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"citytwin/incidents"
	"citytwin/parts"
	"citytwin/sensors"
	"citytwin/twin"
)

// threshold is the alarm level of the benchmark's sensors; readings are
// drawn below it unless a crossing is wanted.
const threshold = 1000

// bind binds n sensors to components spread over the city, 10,000 per
// transaction, each with one threshold rule, and returns their ids.
func bind(tb testing.TB, tw *twin.Twin, n int) []sensors.ID {
	tb.Helper()
	ctx := context.Background()
	total := tw.Parts().Len()
	stride := max(1, total/n)
	var codes []parts.Code
	i := 0
	tw.Parts().Each(func(p parts.Part) bool {
		if i%stride == 0 && !p.Retired && len(codes) < n {
			codes = append(codes, p.Code)
		}
		i++
		return len(codes) < n
	})
	above, clear := float64(threshold), float64(threshold-100)
	rule := []sensors.Rule{{Kind: sensors.Threshold, Above: &above, ClearBelow: &clear}}
	admin := incidents.Actor{Name: "bench", Role: incidents.RoleAdmin}
	ids := make([]sensors.ID, len(codes))
	for lo := 0; lo < len(codes); lo += 10000 {
		hi := min(lo+10000, len(codes))
		batch := make([]sensors.Sensor, 0, hi-lo)
		for j := lo; j < hi; j++ {
			ids[j] = sensors.ID(fmt.Sprintf("b%07d", j))
			batch = append(batch, sensors.Sensor{ID: ids[j], Kind: sensors.WaterLevel, Code: codes[j], Rules: rule})
		}
		if _, err := tw.PutSensors(ctx, batch, nil, admin); err != nil {
			tb.Fatal(err)
		}
	}
	return ids
}

func heap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

func connect(tb testing.TB, url string) paho.Client {
	tb.Helper()
	o := paho.NewClientOptions().AddBroker(url).SetClientID(randomName("ct-pub-")).SetCleanSession(true).
		SetMaxResumePubInFlight(1000).SetWriteTimeout(10 * time.Second)
	c := paho.NewClient(o)
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		tb.Fatalf("connect: %v", tok.Error())
	}
	tb.Cleanup(func() { c.Disconnect(100) })
	return c
}

// batchPayload is an array of readings of ids[from:from+n] (wrapping).
func batchPayload(buf []byte, ids []sensors.ID, from, n int, value float64, now time.Time) []byte {
	buf = append(buf[:0], '[')
	ts := now.UTC().Format(time.RFC3339Nano)
	for k := range n {
		if k > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, `{"sensor":"`...)
		buf = append(buf, ids[(from+k)%len(ids)]...)
		buf = append(buf, `","value":`...)
		buf = strconv.AppendFloat(buf, value+float64(k%7), 'f', 1, 64)
		buf = append(buf, `,"time":"`...)
		buf = append(buf, ts...)
		buf = append(buf, `"}`...)
	}
	return append(buf, ']')
}

// BenchmarkReadings: heap per bound sensor, readings per second end to end
// through Mosquitto, and publish-to-alarm-event latency on /events.
func BenchmarkReadings(b *testing.B) {
	n := envInt(b, "CITYTWIN_BENCH_N", 2_000_000)
	nSensors := envInt(b, "CITYTWIN_BENCH_SENSORS", 100_000)
	total := envInt(b, "CITYTWIN_BENCH_READINGS", 1_000_000)
	batch := envInt(b, "CITYTWIN_BENCH_BATCH", 100)
	s := start(b, cityFile(b, n), "")
	tw := s.app.Twin

	h0 := heap()
	t0 := time.Now()
	ids := bind(b, tw, nSensors)
	bindSeconds := time.Since(t0).Seconds()
	perSensor := float64(heap()-h0) / float64(len(ids))
	b.Logf("bound %d sensors in %.1f s; heap %.0f B/sensor", len(ids), bindSeconds, perSensor)

	url := mosquitto(b)
	pub := connect(b, url)
	topic := s.prefix + "/readings"
	for b.Loop() {
		// Throughput: total readings in arrays of batch, 256 messages in
		// flight, all below the threshold.
		base := tw.Sensors().Counts().Evaluated
		msgs := total / batch
		window := make(chan paho.Token, 256)
		var werr error
		var wg sync.WaitGroup
		wg.Go(func() {
			for tok := range window {
				if !tok.WaitTimeout(30*time.Second) || tok.Error() != nil {
					werr = fmt.Errorf("publish: %v", tok.Error())
				}
			}
		})
		start := time.Now()
		var buf []byte
		for m := range msgs {
			// Closed loop: at most 500 messages ahead of the evaluation, so
			// the broker's queue for the subscriber (max_queued_messages,
			// 1,000 by default) never overflows and drops.
			for uint64(m*batch) > tw.Sensors().Counts().Evaluated-base+500*uint64(batch) {
				time.Sleep(100 * time.Microsecond)
			}
			now := time.Now() // a sensor comes round every nSensors/batch messages: increasing times
			buf = batchPayload(buf, ids, m*batch, batch, 10, now)
			window <- pub.Publish(topic, 1, false, slices.Clone(buf))
		}
		close(window)
		wg.Wait()
		if werr != nil {
			b.Fatal(werr)
		}
		want := base + uint64(msgs*batch)
		deadline := time.Now().Add(5 * time.Minute)
		for tw.Sensors().Counts().Evaluated < want {
			if time.Now().After(deadline) {
				b.Fatalf("evaluated %d of %d readings", tw.Sensors().Counts().Evaluated-base, msgs*batch)
			}
			time.Sleep(time.Millisecond)
		}
		rate := float64(msgs*batch) / time.Since(start).Seconds()
		b.ReportMetric(rate, "readings/s")
		b.Logf("%d readings in arrays of %d: %.0f readings/s end to end", msgs*batch, batch, rate)
	}
	b.ReportMetric(perSensor, "B/sensor")

	// Latency: 10,000 readings a second in the background, and a crossing
	// every 20 ms on a sensor of its own; the alarm.raised events are read
	// from /events.
	p50, p99, got := alarmLatency(b, s, ids, pub, 10000, batch)
	b.ReportMetric(p50, "alarm-p50-ms")
	b.ReportMetric(p99, "alarm-p99-ms")
	b.Logf("publish to alarm.raised on /events at 10,000 readings/s: p50 %.1f ms, p99 %.1f ms over %d alarms", p50, p99, got)
}

func alarmLatency(b *testing.B, s *service, ids []sensors.ID, pub paho.Client, rate, batch int) (p50, p99 float64, n int) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", s.base+"/events?types=alarm.raised", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	var mu sync.Mutex
	sent := map[string]time.Time{}
	var lat []float64
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			line := sc.Text()
			data, ok := strings.CutPrefix(line, "data:")
			if !ok {
				continue
			}
			var ev struct {
				Properties struct {
					Sensor string `json:"sensor"`
				} `json:"properties"`
			}
			if json.Unmarshal([]byte(strings.TrimSpace(data)), &ev) != nil {
				continue
			}
			now := time.Now()
			mu.Lock()
			if t, ok := sent[ev.Properties.Sensor]; ok {
				lat = append(lat, float64(now.Sub(t).Microseconds())/1000)
				delete(sent, ev.Properties.Sensor)
			}
			mu.Unlock()
		}
	}()
	// The first half of the sensors carry the background flow; crossings
	// go to the second half, each sensor once.
	half := len(ids) / 2
	bg := ids[:half]
	topic := s.prefix + "/readings"
	stop := time.Now().Add(6 * time.Second)
	tick := time.NewTicker(time.Second * time.Duration(batch) / time.Duration(rate))
	defer tick.Stop()
	cross := time.NewTicker(20 * time.Millisecond)
	defer cross.Stop()
	var buf []byte
	m, c := 0, 0
	for time.Now().Before(stop) {
		select {
		case now := <-tick.C:
			buf = batchPayload(buf, bg, m*batch, batch, 10, now)
			pub.Publish(topic, 1, false, slices.Clone(buf))
			m++
		case now := <-cross.C:
			id := ids[half+c%(len(ids)-half)]
			c++
			mu.Lock()
			sent[string(id)] = now
			mu.Unlock()
			pub.Publish(s.prefix+"/readings/"+string(id), 1, false, fmt.Sprintf(`{"value":%d}`, threshold+50))
		}
	}
	time.Sleep(time.Second)
	mu.Lock()
	defer mu.Unlock()
	if len(lat) == 0 {
		b.Fatal("no alarm.raised event arrived")
	}
	slices.Sort(lat)
	return lat[len(lat)/2], lat[min(len(lat)-1, len(lat)*99/100)], len(lat)
}
