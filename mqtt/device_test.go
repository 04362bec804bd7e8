package mqtt_test

import (
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// ackedDevice is a device that counts a QoS 1 message as published only
// when the broker acknowledged it (PUBACK), and publishes it again
// otherwise, as a real device would.
//
// A paho client cannot be trusted for that with automatic reconnection: the
// messages it holds while reconnecting are resent from its store, and
// resending one completes the caller's token without an error (paho's
// messageIds.claimID) before any PUBACK. So this client has a clean session
// and no automatic reconnection: a lost connection fails every token in
// flight (paho's messageIds.cleanUp), Publish fails at once while
// disconnected, and the device dials again by itself.
type ackedDevice struct {
	t      testing.TB
	client paho.Client
	done   chan struct{}
	wg     sync.WaitGroup
}

func newAckedDevice(t testing.TB, broker, id string) *ackedDevice {
	t.Helper()
	d := &ackedDevice{t: t, done: make(chan struct{})}
	d.client = paho.NewClient(paho.NewClientOptions().AddBroker(broker).SetClientID(id).
		SetCleanSession(true).SetAutoReconnect(false).SetConnectRetry(false).
		SetConnectTimeout(time.Second).
		SetConnectionLostHandler(func(paho.Client, error) {
			d.wg.Add(1)
			go d.redial()
		}))
	if tok := d.client.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("device %s cannot connect to %s: %v", id, broker, tok.Error())
	}
	t.Cleanup(func() {
		close(d.done)
		d.wg.Wait()
		d.client.Disconnect(100)
	})
	return d
}

// redial connects again until it succeeds or the test ends.
func (d *ackedDevice) redial() {
	defer d.wg.Done()
	for {
		select {
		case <-d.done:
			return
		case <-time.After(50 * time.Millisecond):
		}
		if tok := d.client.Connect(); tok.WaitTimeout(2*time.Second) && tok.Error() == nil {
			return
		}
	}
}

// publishAll publishes payload(i) to topic(i) for i in [0, n) with up to
// window messages in flight, each until the broker acknowledged it, and
// calls acked(i) for each once it did. It returns how many publications
// failed and were repeated.
func (d *ackedDevice) publishAll(n, window int, topic func(int) string, payload func(int) []byte, acked func(int)) (retries int) {
	type flight struct {
		i   int
		tok paho.Token
	}
	todo := make([]int, 0, n)
	for i := n - 1; i >= 0; i-- {
		todo = append(todo, i) // popped from the end: in order
	}
	var inflight []flight
	settle := func(f flight) {
		if f.tok.WaitTimeout(10*time.Second) && f.tok.Error() == nil {
			acked(f.i)
			return
		}
		retries++
		todo = append(todo, f.i)
	}
	for len(todo) > 0 || len(inflight) > 0 {
		if len(todo) == 0 || len(inflight) == window {
			settle(inflight[0])
			inflight = inflight[1:]
			continue
		}
		if !d.client.IsConnectionOpen() {
			// Not connected: settle what is in flight (it fails or was
			// acknowledged just before), then wait for the redial.
			for _, f := range inflight {
				settle(f)
			}
			inflight = inflight[:0]
			time.Sleep(10 * time.Millisecond)
			continue
		}
		i := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		inflight = append(inflight, flight{i, d.client.Publish(topic(i), 1, false, payload(i))})
	}
	return retries
}
