package app_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"citytwin/app"
	"citytwin/internal/testcity"
	"citytwin/sensors"
	"citytwin/tokens"
)

// mosquittoURL is the real broker (scripts/services.sh starts it): the test
// fails, never skips, when it does not answer.
func mosquittoURL(t *testing.T) string {
	u := os.Getenv("CITYTWIN_MQTT_URL")
	if u == "" {
		u = "tcp://127.0.0.1:1883"
	}
	c, err := net.DialTimeout("tcp", strings.TrimPrefix(u, "tcp://"), 2*time.Second)
	if err != nil {
		t.Fatalf("Mosquitto is not reachable at %s (scripts/services.sh starts it): %v", u, err)
	}
	c.Close()
	return u
}

// feed reads GET /events and hands each event (type and data) to a channel.
type event struct {
	typ  string
	data map[string]any
	at   time.Time
}

func events(t *testing.T, url string) <-chan event {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", url+"/events?types=alarm.raised,alarm.cleared", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /events: %v %v", err, resp)
	}
	ch := make(chan event, 64)
	go func() {
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		var typ string
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event:"):
				typ = strings.TrimSpace(line[len("event:"):])
			case strings.HasPrefix(line, "data:"):
				var d map[string]any
				if json.Unmarshal([]byte(strings.TrimSpace(line[len("data:"):])), &d) == nil {
					ch <- event{typ: typ, data: d, at: time.Now()}
				}
			}
		}
	}()
	return ch
}

func sensorOf(e event) string {
	p, _ := e.data["properties"].(map[string]any)
	s, _ := p["sensor"].(string)
	return s
}

// TestSensorsOverMQTT is issue 8's proof, against the real Mosquitto and
// the embedded broker: readings reach the sensor's state; a threshold
// crossing raises exactly one alarm, on /events within 100 ms; ten more
// high readings still make one alarm; falling below the clear level clears
// it; a silent sensor raises silence.
func TestSensorsOverMQTT(t *testing.T) {
	for name, broker := range map[string]func(t *testing.T) string{
		"mosquitto": mosquittoURL,
		"embedded":  func(*testing.T) string { return "" },
	} {
		t.Run(name, func(t *testing.T) {
			url := broker(t)
			prefix := fmt.Sprintf("ct-app-%d", time.Now().UnixNano())
			hs, a := testcity.ServeApp(t, testcity.File(t, 5000, 60, 9), func(c *app.Config) {
				c.MQTT.Off = false
				c.MQTT.URL = url
				c.MQTT.Prefix = prefix
				c.MQTT.ClientID = prefix
				c.Sweep = 200 * time.Millisecond
			})
			deadline := time.Now().Add(10 * time.Second)
			for !a.MQTTReady() && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			cover := firstOf(t, a, 111)
			admin := testcity.Token(t, a, tokens.Admin, "")
			bind := func(id, rules string) {
				req, _ := http.NewRequest("PUT", hs.URL+"/sensors/"+id, strings.NewReader(
					`{"kind":"cover_gas","code":"`+cover.Code.String()+`","rules":`+rules+`}`))
				req.Header.Set("Authorization", "Bearer "+admin)
				req.Header.Set("Content-Type", "application/json")
				resp, err := http.DefaultClient.Do(req)
				if err != nil || resp.StatusCode != 201 {
					t.Fatalf("PUT /sensors/%s: %v %v", id, err, resp)
				}
				resp.Body.Close()
			}
			bind("gas", `[{"kind":"threshold","above":25,"clearBelow":20}]`)
			bind("quiet", `[{"kind":"silence","after":"1s"}]`)
			feed := events(t, hs.URL)

			o := paho.NewClientOptions().AddBroker(a.BrokerURL()).SetClientID(prefix + "-dev")
			dev := paho.NewClient(o)
			if tok := dev.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
				t.Fatal(tok.Error())
			}
			defer dev.Disconnect(100)
			var published time.Time
			pub := func(topic, payload string) {
				published = time.Now()
				if tok := dev.Publish(topic, 1, false, payload); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
					t.Fatalf("publish: %v", tok.Error())
				}
			}
			readings := func(id string) uint64 {
				_, st, _ := a.Twin.Sensors().Get(sensors.ID(id))
				return st.Readings
			}
			waitReadings := func(id string, n uint64) {
				deadline := time.Now().Add(10 * time.Second)
				for readings(id) < n {
					if time.Now().After(deadline) {
						t.Fatalf("sensor %s counted %d readings, want %d", id, readings(id), n)
					}
					time.Sleep(5 * time.Millisecond)
				}
			}
			next := func(typ, sensor string) event {
				t.Helper()
				timeout := time.After(10 * time.Second)
				for {
					select {
					case e := <-feed:
						if e.typ == typ && sensorOf(e) == sensor {
							return e
						}
					case <-timeout:
						t.Fatalf("no %s of %s on /events", typ, sensor)
					}
				}
			}

			pub(prefix+"/readings/gas", `{"value":3}`)
			waitReadings("gas", 1)
			if _, st, _ := a.Twin.Sensors().Get("gas"); st.Value != 3 || !st.Online {
				t.Fatalf("state after a reading: %+v", st)
			}
			pub(prefix+"/readings/gas", `{"value":40}`)
			e := next("alarm.raised", "gas")
			if d := e.at.Sub(published); d > 100*time.Millisecond {
				t.Errorf("alarm.raised came %v after the publish, want < 100 ms", d)
			} else {
				t.Logf("alarm.raised %v after the publish", d)
			}
			// Ten more high readings, as an array on the batch topic, timed
			// after the crossing and before what follows.
			time.Sleep(30 * time.Millisecond)
			var arr []string
			for i := range 10 {
				arr = append(arr, fmt.Sprintf(`{"sensor":"gas","value":%d,"time":%q}`, 41+i, time.Now().Add(-time.Duration(10-i)*time.Millisecond).UTC().Format(time.RFC3339Nano)))
			}
			pub(prefix+"/readings", "["+strings.Join(arr, ",")+"]")
			waitReadings("gas", 12)
			if al := a.Twin.Sensors().Alarms("gas"); len(al) != 1 || al[0].Count != 11 {
				t.Fatalf("open alarms after ten more: %+v, want one with count 11", al)
			}
			pub(prefix+"/readings/gas", `{"value":22}`) // inside the band: still open
			pub(prefix+"/readings/gas", `{"value":10}`)
			next("alarm.cleared", "gas")
			if al := a.Twin.Sensors().Alarms("gas"); len(al) != 0 {
				t.Fatalf("alarms after the clear: %+v", al)
			}
			// The silent sensor: nothing published, an alarm after 1 s.
			e = next("alarm.raised", "quiet")
			if p, _ := e.data["properties"].(map[string]any); p["ruleKind"] != "silence" {
				t.Errorf("silence alarm %v", e.data)
			}
			// Bad input is counted per source and reason in /metrics.
			pub(prefix+"/readings/gas", `{"value":"high"}`)
			pub(prefix+"/readings/nobody", `{"value":1}`)
			deadline = time.Now().Add(5 * time.Second)
			for {
				body := metrics(t, hs.URL)
				ok := strings.Contains(body, `citytwin_readings_rejected_total{reason="bad_value",source="mqtt"} 1`) &&
					strings.Contains(body, `citytwin_readings_rejected_total{reason="unknown_sensor",source="mqtt"} 1`) &&
					strings.Contains(body, `citytwin_readings_accepted_total{source="mqtt"} 14`) &&
					strings.Contains(body, "citytwin_alarms_raised_total 2") && strings.Contains(body, "citytwin_alarms_cleared_total 1") &&
					strings.Contains(body, "citytwin_mqtt_floods_total 0")
				if ok {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("/metrics lacks the readings and alarm counts:\n%s", grepLines(body, "citytwin_readings_", "citytwin_alarms_"))
				}
				time.Sleep(20 * time.Millisecond)
			}
			if n := a.Twin.Cases().Len(); n != 1 {
				t.Errorf("%d cases, want 1 (both alarms are on one cover: one case per component and problem kind)", n)
			}
		})
	}
}

func metrics(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// grepLines returns the lines of s that start with one of prefixes.
func grepLines(s string, prefixes ...string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		for _, p := range prefixes {
			if strings.HasPrefix(l, p) {
				out = append(out, l)
			}
		}
	}
	return strings.Join(out, "\n")
}
