package api_test

import (
	"context"
	"net/http"
	"testing"

	"citytwin/app"
	"citytwin/internal/testcity"
)

// TestEventsClientsBounded: past Config.MaxEventClients open streams, a
// new one gets 503 busy with Retry-After; once one closes, a new one is
// served.
func TestEventsClientsBounded(t *testing.T) {
	hs, _ := testcity.ServeApp(t, testcity.File(t, 2000, 30, 5), func(c *app.Config) { c.API.MaxEventClients = 1 })
	open := func() (*http.Response, context.CancelFunc) {
		ctx, cancel := context.WithCancel(context.Background())
		req, _ := http.NewRequestWithContext(ctx, "GET", hs.URL+"/events", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		return resp, cancel
	}
	first, stop := open()
	if first.StatusCode != 200 {
		t.Fatalf("first stream: %d", first.StatusCode)
	}
	second, stop2 := open()
	if second.StatusCode != 503 || second.Header.Get("Retry-After") == "" {
		t.Fatalf("second stream: %d, Retry-After %q; want 503 with Retry-After", second.StatusCode, second.Header.Get("Retry-After"))
	}
	second.Body.Close()
	stop2()
	stop()
	first.Body.Close()
	for range 100 {
		third, stop3 := open()
		ok := third.StatusCode == 200
		third.Body.Close()
		stop3()
		if ok {
			return
		}
	}
	t.Fatal("no stream served after the first one closed")
}
