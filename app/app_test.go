package app_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"citytwin/app"
	"citytwin/incidents"
	"citytwin/internal/testcity"
	"citytwin/parts"
	"citytwin/tokens"
)

// firstOf returns a live component of class in the app's city.
func firstOf(t *testing.T, a *app.App, class parts.Class) parts.Part {
	t.Helper()
	var found parts.Part
	a.Twin.Parts().Each(func(p parts.Part) bool {
		if p.Class == class && !p.Retired {
			found = p
			return false
		}
		return true
	})
	if found.Code == 0 {
		t.Fatalf("no component of class %s", class)
	}
	return found
}

func post(t *testing.T, url, token, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	b, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(b, &out)
	if resp.StatusCode >= 400 {
		t.Logf("POST %s: %d %s", url, resp.StatusCode, b)
	}
	return resp.StatusCode, out
}

// TestDispatchReachesDepartment runs the production wiring with its
// embedded broker: an inspector's report is dispatched to the owner of the
// component, and the department hears of it on its MQTT topic and at its
// webhook, which fails once and is retried.
func TestDispatchReachesDepartment(t *testing.T) {
	var mu sync.Mutex
	var hooks []string
	calls := 0
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if calls == 1 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		b, _ := io.ReadAll(r.Body)
		hooks = append(hooks, r.Header.Get("Idempotency-Key")+" "+string(b))
	}))
	defer hook.Close()

	hs, a := testcity.ServeApp(t, testcity.File(t, 5000, 60, 7), func(c *app.Config) {
		c.MQTT.Off = false
		c.MQTT.BrokerAddr = "127.0.0.1:0"
		c.MQTT.ClientID = "ct-app-test"
	})
	if a.BrokerURL() == "" || strings.HasSuffix(a.BrokerURL(), ":1883") {
		t.Fatalf("embedded broker at %q, want a free loopback port", a.BrokerURL())
	}
	lamp := firstOf(t, a, 118)
	ctx := context.Background()
	admin := incidents.Actor{Name: "t", Role: incidents.RoleAdmin}
	if _, err := a.Twin.PutDepartment(ctx, incidents.Department{Code: lamp.Owner, Name: "路灯管理处", Webhook: hook.URL}, 0, admin); err != nil {
		t.Fatal(err)
	}

	o := paho.NewClientOptions().AddBroker(a.BrokerURL()).SetClientID("dept-sub")
	sub := paho.NewClient(o)
	if tok := sub.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	defer sub.Disconnect(100)
	got := make(chan []byte, 4)
	if tok := sub.Subscribe("citytwin/dispatch/"+lamp.Owner, 1, func(_ paho.Client, m paho.Message) { got <- m.Payload() }); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	deadline := time.Now().Add(10 * time.Second)
	for !a.MQTTReady() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}

	inspector := testcity.Token(t, a, tokens.Inspector, "")
	st, c := post(t, hs.URL+"/incidents", inspector, `{"code":"`+lamp.Code.String()+`","source":"inspector","description":"lamp out"}`)
	props, _ := c["properties"].(map[string]any)
	if st != 201 || props["state"] != "dispatched" || props["dept"] != lamp.Owner {
		t.Fatalf("POST /incidents: %d %v", st, props)
	}
	select {
	case p := <-got:
		var d struct {
			Case struct {
				ID string `json:"id"`
			} `json:"case"`
			Link string `json:"link"`
		}
		if err := json.Unmarshal(p, &d); err != nil || d.Case.ID != props["id"] || !strings.Contains(d.Link, "/incidents/") {
			t.Fatalf("dispatch %s (%v)", p, err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no MQTT dispatch within 10 s")
	}
	deadline = time.Now().Add(20 * time.Second)
	for {
		mu.Lock()
		n := len(hooks)
		mu.Unlock()
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("webhook: %d deliveries after %d calls, want 1 after a retry", n, calls)
		}
		time.Sleep(50 * time.Millisecond)
	}
	s := a.Notifier.Stats()
	if s.Delivered != 2 || s.Retried != 1 || s.Dead != 0 {
		t.Errorf("notifier stats %+v, want 2 delivered, 1 retried", s)
	}
	if !strings.Contains(hooks[0], props["id"].(string)) {
		t.Errorf("webhook body %q does not name the case", hooks[0])
	}
}

// TestBrokerDownAtStart: a city broker that does not answer delays
// readings and dispatches, never the service; dispatches wait in the
// outbox without spending their attempts.
func TestBrokerDownAtStart(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "tcp://" + ln.Addr().String()
	ln.Close()
	hs, a := testcity.ServeApp(t, testcity.File(t, 3000, 40, 8), func(c *app.Config) {
		c.MQTT.Off = false
		c.MQTT.URL = dead
	})
	resp, err := http.Get(hs.URL + "/readyz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("readyz with the broker down: %v %v", err, resp)
	}
	resp.Body.Close()
	lamp := firstOf(t, a, 118)
	admin := testcity.Token(t, a, tokens.Admin, "")
	if st, _ := post(t, hs.URL+"/incidents", admin, `{"code":"`+lamp.Code.String()+`","source":"inspector"}`); st != 201 {
		t.Fatalf("POST /incidents with the broker down: %d", st)
	}
	time.Sleep(2500 * time.Millisecond)
	if s := a.Notifier.Stats(); s.Delivered != 0 || s.Retried != 0 || s.Dead != 0 {
		t.Errorf("notifier %+v: want nothing attempted while no broker answers", s)
	}
	due, err := a.Store().DueNotifications(context.Background(), time.Now().Add(time.Minute), 10)
	if err != nil || len(due) != 1 || due[0].Attempts != 0 {
		t.Fatalf("outbox %+v (%v): want the dispatch waiting, unattempted", due, err)
	}
}
