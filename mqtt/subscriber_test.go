package mqtt_test

import (
	"bytes"
	"fmt"
	"slices"
	"testing"
	"time"

	"citytwin/mqtt"
	"citytwin/sensors"
)

func TestReadingsReachHandler(t *testing.T) {
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	type tcase struct {
		topic   string // under the prefix
		payload string
		want    []sensors.Reading
		reasons []string // rejected once, for one of these reasons
	}
	big := `{"value":1,"pad":"` + string(bytes.Repeat([]byte("x"), mqtt.MaxPayload)) + `"}`
	cases := map[string]tcase{
		"single": {"readings/s1", `{"value":12.5,"time":"2026-12-01T08:00:00Z"}`,
			[]sensors.Reading{{Sensor: "s1", Value: 12.5, Time: time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)}}, nil},
		"single without time": {"readings/s2", `{"value":-3}`,
			[]sensors.Reading{{Sensor: "s2", Value: -3, Time: now}}, nil},
		"array": {"readings", `[{"sensor":"a","value":1,"time":"2026-12-01T08:00:00Z"},{"sensor":"b","value":2,"time":"2026-12-01T08:00:01Z"}]`,
			[]sensors.Reading{{Sensor: "a", Value: 1, Time: time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)}, {Sensor: "b", Value: 2, Time: time.Date(2026, 12, 1, 8, 0, 1, 0, time.UTC)}}, nil},
		"one object on the batch topic": {"readings", `{"sensor":"c","value":3}`,
			[]sensors.Reading{{Sensor: "c", Value: 3, Time: now}}, nil},
		"bad json":       {"readings/s1", `{"value":`, nil, []string{mqtt.ReasonMalformed}},
		"bad json batch": {"readings", `[{"sensor":"a",`, nil, []string{mqtt.ReasonMalformed}},
		"NaN":            {"readings/s1", `{"value":NaN}`, nil, []string{mqtt.ReasonMalformed, mqtt.ReasonBadValue}},
		"NaN string":     {"readings/s1", `{"value":"NaN"}`, nil, []string{mqtt.ReasonMalformed, mqtt.ReasonBadValue}},
		"no value":       {"readings/s1", `{"time":"2026-12-01T08:00:00Z"}`, nil, []string{mqtt.ReasonMalformed, mqtt.ReasonBadValue}},
		"bad sensor id":  {"readings/bad*id", `{"value":1}`, nil, []string{mqtt.ReasonBadSensor}},
		"over 1 MiB":     {"readings/s1", big, nil, []string{mqtt.ReasonTooLarge}},
	}
	for name, broker := range brokers() {
		t.Run(name, func(t *testing.T) {
			url := broker(t)
			prefix := unique("cttest/r")
			h := newCollector()
			s := subscribe(t, mqtt.Options{Broker: url, ClientID: unique("ct-t-"), Prefix: prefix, Now: func() time.Time { return now }}, h)
			dev := device(t, url, unique("dev-"), true)
			names := make([]string, 0, len(cases))
			for n := range cases {
				names = append(names, n)
			}
			slices.Sort(names)
			for _, n := range names {
				tc := cases[n]
				t.Run(n, func(t *testing.T) {
					r0, j0 := h.totals()
					s0 := s.Stats()
					publish(t, dev, prefix+"/"+tc.topic, []byte(tc.payload))
					waitFor(t, 5*time.Second, "the message to be handled", func() bool {
						r, j := h.totals()
						return r-r0 >= len(tc.want) && j-j0 >= min(len(tc.reasons), 1) && (len(tc.want) > 0 || len(tc.reasons) > 0) && s.Stats().QueueDepth == 0
					})
					time.Sleep(20 * time.Millisecond) // nothing more may come
					h.mu.Lock()
					got := slices.Clone(h.readings[r0:])
					h.mu.Unlock()
					if !slices.EqualFunc(got, tc.want, func(a, b sensors.Reading) bool {
						return a.Sensor == b.Sensor && a.Value == b.Value && a.Time.Equal(b.Time)
					}) {
						t.Errorf("readings %v, want %v", got, tc.want)
					}
					s1 := s.Stats()
					if d := s1.RejectedTotal() - s0.RejectedTotal(); d != uint64(min(len(tc.reasons), 1)) {
						t.Errorf("%d rejected, want %d (%v)", d, min(len(tc.reasons), 1), s1.Rejected)
					}
					if len(tc.reasons) > 0 {
						n := uint64(0)
						for _, r := range tc.reasons {
							n += s1.Rejected[r] - s0.Rejected[r]
						}
						if n == 0 {
							t.Errorf("rejected %v, want one of %v", s1.Rejected, tc.reasons)
						}
					}
					if d := s1.Accepted - s0.Accepted; d != uint64(len(tc.want)) {
						t.Errorf("Stats.Accepted grew by %d, want %d", d, len(tc.want))
					}
				})
			}
			if st := s.Stats(); !st.Connected || st.Connects != 1 || st.Messages < uint64(len(cases)) {
				t.Errorf("stats %+v: want connected once and %d messages", st, len(cases))
			}
		})
	}
}

func TestTwoSubscribersOnOneHost(t *testing.T) {
	for name, broker := range brokers() {
		t.Run(name, func(t *testing.T) {
			url := broker(t)
			host := unique("host")
			a, b := mqtt.DefaultClientID(host, "127.0.0.1:8080"), mqtt.DefaultClientID(host, "127.0.0.1:8081")
			if a == b {
				t.Fatalf("both processes get client id %q", a)
			}
			prefix := unique("cttest/two")
			ha, hb := newCollector(), newCollector()
			sa := subscribe(t, mqtt.Options{Broker: url, ClientID: a, Prefix: prefix}, ha)
			sb := subscribe(t, mqtt.Options{Broker: url, ClientID: b, Prefix: prefix}, hb)
			dev := device(t, url, unique("dev-"), true)
			for i := range 10 {
				publish(t, dev, mqtt.SensorTopic(prefix, "s1"), fmt.Appendf(nil, `{"value":%d}`, i))
				time.Sleep(50 * time.Millisecond)
			}
			waitFor(t, 5*time.Second, "both to get all ten", func() bool {
				x, _ := ha.totals()
				y, _ := hb.totals()
				return x == 10 && y == 10
			})
			for _, s := range []*mqtt.Subscriber{sa, sb} {
				if st := s.Stats(); !st.Connected || st.Connects != 1 || st.Reconnects != 0 {
					t.Errorf("%s: %+v: want one connection, never lost", s.ClientID(), st)
				}
			}
		})
	}
}

func TestSharedSubscriptionSplits(t *testing.T) {
	for name, broker := range brokers() {
		t.Run(name, func(t *testing.T) {
			url := broker(t)
			prefix := unique("cttest/share")
			ha, hb := newCollector(), newCollector()
			subscribe(t, mqtt.Options{Broker: url, ClientID: unique("ct-a-"), Prefix: prefix, Shared: true}, ha)
			subscribe(t, mqtt.Options{Broker: url, ClientID: unique("ct-b-"), Prefix: prefix, Shared: true}, hb)
			dev := device(t, url, unique("dev-"), true)
			const n = 200
			for i := range n {
				publish(t, dev, mqtt.SensorTopic(prefix, fmt.Sprintf("s%d", i)), []byte(`{"value":1}`))
			}
			waitFor(t, 10*time.Second, "all readings", func() bool {
				x, _ := ha.totals()
				y, _ := hb.totals()
				return x+y >= n
			})
			time.Sleep(100 * time.Millisecond)
			x, _ := ha.totals()
			y, _ := hb.totals()
			if x+y != n || x == 0 || y == 0 {
				t.Errorf("split %d + %d of %d: want every reading once, to both subscribers", x, y, n)
			}
		})
	}
}

func TestFloodIsCounted(t *testing.T) {
	url := embeddedBroker(t)
	prefix := unique("cttest/flood")
	h := newCollector()
	s := subscribe(t, mqtt.Options{Broker: url, ClientID: unique("ct-f-"), Prefix: prefix, FloodLimit: 50}, h)
	dev := device(t, url, unique("dev-"), true)
	var b bytes.Buffer
	b.WriteByte('[')
	for i := range 500 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"sensor":"noisy","value":%d}`, i)
	}
	b.WriteByte(']')
	publish(t, dev, mqtt.ReadingsTopic(prefix), b.Bytes())
	waitFor(t, 5*time.Second, "the flood", func() bool { n, _ := h.totals(); return n == 500 })
	if st := s.Stats(); st.Floods == 0 {
		t.Errorf("stats %+v: want a flood counted", st)
	}
}

func TestSubscribeFailsWithoutBroker(t *testing.T) {
	start := time.Now()
	_, err := mqtt.Subscribe(t.Context(), mqtt.Options{Broker: "tcp://127.0.0.1:1", ClientID: "x", ConnectTimeout: 500 * time.Millisecond}, newCollector())
	if err == nil || time.Since(start) > 5*time.Second {
		t.Fatalf("err %v after %v: want ErrConnect within the timeout", err, time.Since(start))
	}
}

func TestOptionsValidate(t *testing.T) {
	cases := map[string]struct {
		o     mqtt.Options
		field string
	}{
		"no broker":       {mqtt.Options{ClientID: "x"}, "Broker"},
		"bad scheme":      {mqtt.Options{Broker: "http://h:1", ClientID: "x"}, "Broker"},
		"no client id":    {mqtt.Options{Broker: "tcp://h:1"}, "ClientID"},
		"wildcard prefix": {mqtt.Options{Broker: "tcp://h:1", ClientID: "x", Prefix: "a/+"}, "Prefix"},
		"ok":              {mqtt.Options{Broker: "tcp://h:1883", ClientID: "x"}, ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			err := tc.o.Validate()
			var oe *mqtt.OptionError
			switch {
			case tc.field == "" && err != nil:
				t.Fatalf("unexpected %v", err)
			case tc.field != "" && (!errorsAs(err, &oe) || oe.Field != tc.field):
				t.Fatalf("err %v, want an OptionError on %s", err, tc.field)
			}
		})
	}
}
