package api

import (
	"fmt"
	"testing"
	"time"
)

func TestLimiter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	l := newLimiter(2, 3, clock) // 2/s, burst 3

	for i := range 3 {
		if ok, _ := l.allow("a"); !ok {
			t.Fatalf("request %d of the burst refused", i+1)
		}
	}
	ok, wait := l.allow("a")
	if ok {
		t.Fatal("4th request within the burst allowed")
	}
	if wait <= 0 || wait > 500*time.Millisecond {
		t.Errorf("wait = %v, want (0, 500ms] at 2/s", wait)
	}
	if got := retryAfterSeconds(wait); got != 1 {
		t.Errorf("Retry-After = %d, want 1", got)
	}
	if ok, _ := l.allow("b"); !ok {
		t.Error("another key was limited by a's bucket")
	}
	now = now.Add(500 * time.Millisecond)
	if ok, _ := l.allow("a"); !ok {
		t.Error("a request after the refill time was refused")
	}
	if ok, _ := l.allow("a"); ok {
		t.Error("refill gave more than one request in 500ms at 2/s")
	}
	// A long idle period refills to the burst, not beyond.
	now = now.Add(time.Hour)
	n := 0
	for {
		if ok, _ := l.allow("a"); !ok {
			break
		}
		n++
	}
	if n != 3 {
		t.Errorf("after an hour idle %d requests allowed, want the burst 3", n)
	}
}

func TestLimiterSweep(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := newLimiter(10, 10, func() time.Time { return now })
	for i := range 1000 {
		l.allow(fmt.Sprint("ip", i))
	}
	now = now.Add(2 * time.Minute)
	l.allow("late")
	if n := len(l.buckets); n != 1 {
		t.Errorf("after the sweep %d buckets remain, want 1", n)
	}
}

func TestLimiterOff(t *testing.T) {
	var l *limiter = newLimiter(0, 0, nil)
	for range 100 {
		if ok, _ := l.allow("x"); !ok {
			t.Fatal("a disabled limiter refused a request")
		}
	}
}
