package mqtt_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"citytwin/mqtt"
)

// TestBrokerRestartLosesNothing publishes QoS 1 readings while Mosquitto is
// stopped (SIGTERM) and started again: the Subscriber reconnects by itself
// and gets every reading the broker acknowledged while its session existed
// (duplicates allowed, loss not). The slow handler keeps many messages
// received and not yet acknowledged when the connection drops: the broker
// must deliver them again, and their late acknowledgements must not
// acknowledge anything else.
func TestBrokerRestartLosesNothing(t *testing.T) {
	const n = 2000
	for _, tc := range []struct {
		name  string
		delay time.Duration // per batch handed to the handler
	}{
		{"fast handler", 0},
		{"slow handler", 5 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := startMosquitto(t, "")
			prefix := "cttest/restart"
			h := newCollector()
			h.delay = tc.delay
			s := subscribe(t, mqtt.Options{Broker: m.url(), ClientID: unique("ct-restart-sub-"), Prefix: prefix,
				MaxReconnectInterval: 500 * time.Millisecond, MaxBatch: 16}, h)
			dev := newAckedDevice(t, m.url(), unique("ct-restart-dev-"))

			var (
				mu        sync.Mutex
				published = make(map[int]bool, n)
				count     atomic.Int64
			)
			restarted := make(chan struct{})
			go func() { // the broker goes down with a quarter published, for a second
				defer close(restarted)
				for count.Load() < n/4 {
					time.Sleep(time.Millisecond)
				}
				m.stop()
				time.Sleep(time.Second)
				m.start()
			}()
			retries := dev.publishAll(n, 100,
				func(i int) string { return mqtt.SensorTopic(prefix, fmt.Sprintf("s%d", i%50)) },
				func(i int) []byte {
					time.Sleep(200 * time.Microsecond) // a device's pace: the restart falls mid-stream
					return fmt.Appendf(nil, `{"value":%d}`, i)
				},
				func(i int) {
					mu.Lock()
					published[i] = true
					mu.Unlock()
					count.Add(1)
				})
			<-restarted
			if len(published) != n {
				t.Fatalf("%d of %d readings acknowledged by the broker", len(published), n)
			}
			missing := func() []int {
				h.mu.Lock()
				defer h.mu.Unlock()
				have := make(map[int]bool, n)
				for _, r := range h.readings {
					have[int(r.Value)] = true
				}
				var ms []int
				for i := range published {
					if !have[i] {
						ms = append(ms, i)
					}
				}
				return ms
			}
			deadline := time.Now().Add(30 * time.Second)
			for len(missing()) > 0 && time.Now().Before(deadline) {
				time.Sleep(50 * time.Millisecond)
			}
			total, _ := h.totals()
			st := s.Stats()
			t.Logf("published %d (%d publications repeated), received %d readings (%d redelivered), %d connects",
				len(published), retries, total, st.Redelivered, st.Connects)
			if ms := missing(); len(ms) > 0 {
				t.Fatalf("lost %d of %d acknowledged readings, e.g. %v; rejected %v; stats %+v",
					len(ms), n, ms[:min(len(ms), 20)], st.Rejected, st)
			}
			if st.Connects < 2 || !st.Connected {
				t.Errorf("stats %+v: want a reconnection and a live connection", st)
			}
		})
	}
}
