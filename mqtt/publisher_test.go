package mqtt_test

import (
	"context"
	"errors"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"citytwin/mqtt"
)

func TestPublisherDispatch(t *testing.T) {
	for name, broker := range brokers() {
		t.Run(name, func(t *testing.T) {
			url := broker(t)
			prefix := unique("cttest/pub")
			got := make(chan string, 10)
			dept := device(t, url, unique("dept-"), true)
			tok := dept.Subscribe(mqtt.DispatchTopic(prefix, "D01"), 1, func(_ paho.Client, m paho.Message) { got <- string(m.Payload()) })
			if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
				t.Fatal(tok.Error())
			}
			p, err := mqtt.NewPublisher(t.Context(), mqtt.PublisherOptions{Broker: url})
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			if err := p.Publish(t.Context(), mqtt.DispatchTopic(prefix, "D01"), []byte(`{"case":"C1"}`)); err != nil {
				t.Fatal(err)
			}
			select {
			case s := <-got:
				if s != `{"case":"C1"}` {
					t.Errorf("got %q", s)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("the department got nothing")
			}
			if err := p.Publish(t.Context(), prefix+"/dispatch/+", nil); !errors.Is(err, mqtt.ErrTopic) {
				t.Errorf("wildcard topic: %v, want ErrTopic", err)
			}
			if st := p.Stats(); st.Published != 1 || !st.Connected {
				t.Errorf("stats %+v", st)
			}
			p.Close()
			if err := p.Publish(t.Context(), mqtt.DispatchTopic(prefix, "D01"), nil); !errors.Is(err, mqtt.ErrClosed) {
				t.Errorf("after Close: %v, want ErrClosed", err)
			}
		})
	}
}

func TestPublisherTimesOutWhileBrokerDown(t *testing.T) {
	m := startMosquitto(t, "")
	p, err := mqtt.NewPublisher(t.Context(), mqtt.PublisherOptions{Broker: m.url(), Timeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	m.stop()
	time.Sleep(100 * time.Millisecond)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	start := time.Now()
	err = p.Publish(ctx, "cttest/dispatch/D01", []byte("x"))
	if err == nil || time.Since(start) > 2*time.Second {
		t.Fatalf("err %v after %v: want a prompt error", err, time.Since(start))
	}
}

func TestStartBroker(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", "192.0.2.1:0", "nonsense"} {
		if _, err := mqtt.StartBroker(t.Context(), addr); !errors.Is(err, mqtt.ErrBroker) {
			t.Errorf("%s: %v, want ErrBroker (loopback only)", addr, err)
		}
	}
	a, err := mqtt.StartBroker(t.Context(), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := mqtt.StartBroker(t.Context(), "localhost:0")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if a.Port() == 1883 || a.Port() == 0 || a.Port() == b.Port() {
		t.Errorf("ports %d and %d: want two free ports, not 1883", a.Port(), b.Port())
	}
	if want := "tcp://" + a.Addr(); a.URL() != want {
		t.Errorf("URL %q, want %q", a.URL(), want)
	}
	if err := a.Close(); err != nil {
		t.Error(err)
	}
	if err := a.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestPublisherAfterBrokerRestart: a Publisher fails while the broker is
// down and publishes again, by itself, once it is back.
func TestPublisherAfterBrokerRestart(t *testing.T) {
	m := startMosquitto(t, "")
	p, err := mqtt.NewPublisher(t.Context(), mqtt.PublisherOptions{Broker: m.url(), Timeout: 2 * time.Second, MaxReconnectInterval: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := p.Publish(t.Context(), "cttest/dispatch/D01", []byte("a")); err != nil {
		t.Fatal(err)
	}
	m.stop()
	if err := p.Publish(t.Context(), "cttest/dispatch/D01", []byte("b")); err == nil {
		t.Fatal("published with the broker down")
	}
	m.start()
	waitFor(t, 10*time.Second, "a publication after the restart", func() bool {
		return p.Publish(t.Context(), "cttest/dispatch/D01", []byte("c")) == nil
	})
	if st := p.Stats(); !st.Connected || st.Published < 2 || st.Failed < 1 {
		t.Errorf("stats %+v", st)
	}
}
