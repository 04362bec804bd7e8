package mqtt_test

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"citytwin/mqtt"
)

// BenchmarkThroughput measures readings per second end to end: a device
// publishes QoS 1 (a window of 512 unacknowledged messages) to a Mosquitto
// of the benchmark's own (max_inflight_messages 1000), the Subscriber
// decodes and hands them to a Handler. One iteration is one message.
func BenchmarkThroughput(b *testing.B) {
	for _, per := range []int{100, 1} {
		b.Run(fmt.Sprintf("readings-per-message=%d", per), func(b *testing.B) {
			m := startMosquitto(b, "")
			prefix := "ctbench"
			h := newCollector()
			subscribe(b, mqtt.Options{Broker: m.url(), ClientID: unique("ct-bench-"), Prefix: prefix}, h)
			dev := device(b, m.url(), unique("dev-"), true)
			payloads := make([][]byte, 64)
			topics := make([]string, 64)
			for i := range payloads {
				var buf bytes.Buffer
				if per == 1 {
					topics[i] = mqtt.SensorTopic(prefix, fmt.Sprintf("s%d", i))
					fmt.Fprintf(&buf, `{"value":%d.5}`, i)
				} else {
					topics[i] = mqtt.ReadingsTopic(prefix)
					buf.WriteByte('[')
					for j := range per {
						if j > 0 {
							buf.WriteByte(',')
						}
						fmt.Fprintf(&buf, `{"sensor":"s%d","value":%d.5}`, i*per+j, j)
					}
					buf.WriteByte(']')
				}
				payloads[i] = buf.Bytes()
			}
			window := make([]paho.Token, 0, 512)
			sent := 0
			b.ReportAllocs()
			start := time.Now()
			for b.Loop() {
				if len(window) == cap(window) {
					window[0].Wait()
					window = window[1:]
				}
				window = append(window, dev.Publish(topics[sent%64], 1, false, payloads[sent%64]))
				sent++
			}
			want := sent * per
			deadline := time.Now().Add(2 * time.Minute)
			for {
				n, _ := h.totals()
				if n >= want {
					break
				}
				if time.Now().After(deadline) {
					b.Fatalf("handled %d of %d readings", n, want)
				}
				time.Sleep(time.Millisecond)
			}
			el := time.Since(start)
			b.ReportMetric(float64(want)/el.Seconds(), "readings/s")
		})
	}
}
