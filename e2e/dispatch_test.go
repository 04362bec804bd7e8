package e2e_test

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// mosquittoURL is the real broker the tests use (scripts/services.sh
// starts it); CITYTWIN_MQTT_URL overrides it.
func mosquittoURL(t *testing.T) string {
	t.Helper()
	u := os.Getenv("CITYTWIN_MQTT_URL")
	if u == "" {
		u = "tcp://127.0.0.1:1883"
	}
	c, err := net.DialTimeout("tcp", u[len("tcp://"):], 2*time.Second)
	if err != nil {
		t.Fatalf("Mosquitto is not reachable at %s (scripts/services.sh starts it): %v", u, err)
	}
	c.Close()
	return u
}

func randomName(prefix string) string {
	var b [5]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// mqttClient connects a paho client; persistent sessions when clean is
// false.
func mqttClient(t *testing.T, url, id string, clean bool) paho.Client {
	t.Helper()
	o := paho.NewClientOptions().AddBroker(url).SetClientID(id).SetCleanSession(clean).
		SetAutoReconnect(true).SetConnectTimeout(5 * time.Second)
	c := paho.NewClient(o)
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("connect to %s: %v", url, tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(100) })
	return c
}

// dispatchMsg is the part of a dispatch notification the tests read.
type dispatchMsg struct {
	Case struct {
		ID    string `json:"id"`
		Dept  string `json:"dept"`
		State string `json:"state"`
		Code  string `json:"code"`
		Route struct {
			Rule     string         `json:"rule"`
			Evidence map[string]any `json:"evidence"`
		} `json:"route"`
	} `json:"case"`
	Link string `json:"link"`
}

func subscribeDispatch(t *testing.T, c paho.Client, topic string) chan dispatchMsg {
	t.Helper()
	ch := make(chan dispatchMsg, 64)
	tok := c.Subscribe(topic, 1, func(_ paho.Client, m paho.Message) {
		var d dispatchMsg
		if err := json.Unmarshal(m.Payload(), &d); err != nil {
			t.Errorf("dispatch on %s is not JSON: %v: %s", m.Topic(), err, m.Payload())
			return
		}
		ch <- d
	})
	if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe %s: %v", topic, tok.Error())
	}
	return ch
}

// TestSensorAlarmDispatch is issue 9's end-to-end proof with the real
// Mosquitto: a gas reading above threshold on a sensor bound to a gas
// manhole cover opens one case routed to the cover's owner by rule
// component-owner, and a subscriber on that department's dispatch topic
// receives it; ten more readings open no more cases.
func TestSensorAlarmDispatch(t *testing.T) {
	url := mosquittoURL(t)
	city := genCity(t, 20000, 200)
	admin := token(t, city, "admin", "")
	prefix := randomName("ct-e2e-")
	s := serve(t, "--data", city, "--mqtt", url, "--mqtt-prefix", prefix, "--mqtt-client-id", randomName("ct-"))

	var page struct {
		Features []struct {
			Properties map[string]any `json:"properties"`
		} `json:"features"`
	}
	if st := s.call(t, "GET", "/parts?class=0111&limit=1", "", nil, &page); st != 200 || len(page.Features) == 0 {
		t.Fatalf("no gas cover: %d", st)
	}
	code := page.Features[0].Properties["code"].(string)
	owner := page.Features[0].Properties["dept_owner"].(string)

	sensor := map[string]any{"kind": "cover_gas", "unit": "%LEL", "code": code,
		"rules": []map[string]any{{"kind": "threshold", "above": 25, "clearBelow": 20}}}
	if st := s.call(t, "PUT", "/sensors/gas-1", admin, sensor, nil); st != 201 {
		t.Fatalf("PUT /sensors/gas-1: %d", st)
	}

	sub := mqttClient(t, url, randomName("ct-sub-"), true)
	got := subscribeDispatch(t, sub, prefix+"/dispatch/"+owner)
	pub := mqttClient(t, url, randomName("ct-pub-"), true)
	publish := func(v float64) {
		tok := pub.Publish(prefix+"/readings/gas-1", 1, false, fmt.Sprintf(`{"value":%v}`, v))
		if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			t.Fatalf("publish: %v", tok.Error())
		}
	}
	publish(3)
	publish(40)
	var d dispatchMsg
	select {
	case d = <-got:
	case <-time.After(10 * time.Second):
		t.Fatal("no dispatch on the owner's topic within 10 s of the alarm")
	}
	if d.Case.Route.Rule != "component-owner" || d.Case.Dept != owner || d.Case.Code != code || d.Case.State != "dispatched" {
		t.Fatalf("dispatch %+v, want rule component-owner, dept %s, code %s, state dispatched", d.Case, owner, code)
	}
	for i := range 10 {
		publish(41 + float64(i))
	}
	// Wait until the ten readings are counted, then count cases and alarms.
	deadline := time.Now().Add(10 * time.Second)
	for {
		var sf struct {
			Properties struct {
				State struct {
					Readings float64 `json:"readings"`
				} `json:"state"`
			} `json:"properties"`
		}
		s.call(t, "GET", "/sensors/gas-1", "", nil, &sf)
		if sf.Properties.State.Readings >= 12 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the sensor counted %v readings of 12", sf.Properties.State.Readings)
		}
		time.Sleep(50 * time.Millisecond)
	}
	var cases struct {
		NumberMatched int `json:"numberMatched"`
	}
	s.call(t, "GET", "/incidents?class=0111&dept="+owner, admin, nil, &cases)
	if cases.NumberMatched != 1 {
		t.Errorf("%d cases of class 0111 for %s, want 1", cases.NumberMatched, owner)
	}
	var alarms struct {
		NumberMatched int `json:"numberMatched"`
		Features      []struct {
			Properties map[string]any `json:"properties"`
		} `json:"features"`
	}
	s.call(t, "GET", "/alarms?state=open", "", nil, &alarms)
	if alarms.NumberMatched != 1 || len(alarms.Features) != 1 || alarms.Features[0].Properties["count"].(float64) != 11 {
		t.Errorf("open alarms: %+v, want one with count 11", alarms)
	}
	select {
	case extra := <-got:
		t.Errorf("a second dispatch: %+v", extra.Case)
	case <-time.After(300 * time.Millisecond):
	}
}

// TestDispatchSurvivesKill is issue 9's crash test: a case is saved with
// its notification while the broker cannot be reached, the process is
// killed (SIGKILL) before it could send it, and after the restart the
// department's subscriber receives it: at least once, never lost.
func TestDispatchSurvivesKill(t *testing.T) {
	url := mosquittoURL(t)
	city := genCity(t, 20000, 200)
	admin := token(t, city, "admin", "")
	prefix := randomName("ct-e2e-")
	// A broker address where nothing listens: the outbox keeps the
	// notification, delivery attempts fail.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "tcp://" + ln.Addr().String()
	ln.Close()
	s := serve(t, "--data", city, "--mqtt", dead, "--mqtt-prefix", prefix)

	var page struct {
		Features []struct {
			Properties map[string]any `json:"properties"`
		} `json:"features"`
	}
	if st := s.call(t, "GET", "/parts?class=0118&limit=1", "", nil, &page); st != 200 || len(page.Features) == 0 {
		t.Fatalf("no street lamp: %d", st)
	}
	code := page.Features[0].Properties["code"].(string)
	var c struct {
		Properties struct {
			ID    string `json:"id"`
			Dept  string `json:"dept"`
			State string `json:"state"`
		} `json:"properties"`
	}
	st := s.call(t, "POST", "/incidents", admin, map[string]any{"code": code, "source": "inspector", "description": "lamp out"}, &c)
	if st != 201 || c.Properties.State != "dispatched" {
		t.Fatalf("POST /incidents: %d %+v, want 201 dispatched", st, c.Properties)
	}
	// The department's subscriber has a persistent session before the
	// restart, as a department's system would.
	subID := randomName("ct-dept-")
	sub := mqttClient(t, url, subID, false)
	got := subscribeDispatch(t, sub, prefix+"/dispatch/"+c.Properties.Dept)
	s.kill(t)

	s2 := serve(t, "--data", city, "--mqtt", url, "--mqtt-prefix", prefix)
	_ = s2
	select {
	case d := <-got:
		if d.Case.ID != c.Properties.ID {
			t.Fatalf("dispatch of %s, want %s", d.Case.ID, c.Properties.ID)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the notification saved before the crash did not arrive within 30 s of the restart")
	}
}
