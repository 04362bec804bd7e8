package api

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestRouteCtx: the lazy route context answers as
// context.WithDeadlineCause would, whether or not it was ever made.
func TestRouteCtx(t *testing.T) {
	type key struct{}
	parent := context.WithValue(context.Background(), key{}, "v")

	// Never looked at, deadline ahead: not timed out, nothing made.
	c := &routeCtx{parent: parent, deadline: time.Now().Add(time.Hour)}
	if err := c.Err(); err != nil || c.timedOut(time.Now()) || c.made.Load() {
		t.Fatalf("fresh: err %v, timed out %v, made %v", err, c.timedOut(time.Now()), c.made.Load())
	}
	if d, ok := c.Deadline(); !ok || !d.Equal(c.deadline) {
		t.Fatalf("deadline %v %v", d, ok)
	}
	if c.Value(key{}) != "v" {
		t.Fatal("value of the parent lost")
	}
	c.stop()

	// Past its deadline, never waited on: Err and Cause as the real one.
	c = &routeCtx{parent: parent, deadline: time.Now().Add(-time.Millisecond)}
	if !c.timedOut(time.Now()) {
		t.Fatal("past the deadline but not timed out")
	}
	if err := c.Err(); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v", err)
	}
	if cause := context.Cause(c); cause != errRouteDeadline {
		t.Fatalf("cause %v", cause)
	}
	if !c.timedOut(time.Now()) {
		t.Fatal("made, but not timed out")
	}
	c.stop()

	// Waited on: Done closes at the deadline with the route's cause.
	c = &routeCtx{parent: parent, deadline: time.Now().Add(20 * time.Millisecond)}
	select {
	case <-c.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("Done never closed")
	}
	if context.Cause(c) != errRouteDeadline || !c.timedOut(time.Now()) {
		t.Fatalf("cause %v", context.Cause(c))
	}
	c.stop()

	// The parent cancelled first: its error, not a timeout.
	pctx, cancel := context.WithCancel(parent)
	c = &routeCtx{parent: pctx, deadline: time.Now().Add(time.Hour)}
	cancel()
	if err := c.Err(); !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v after the parent's cancel", err)
	}
	if c.timedOut(time.Now()) {
		t.Fatal("cancelled by the parent, counted as a timeout")
	}
	c.stop()

	// A parent deadline before the route's wins.
	dctx, dcancel := context.WithDeadline(parent, time.Now().Add(time.Minute))
	defer dcancel()
	c = &routeCtx{parent: dctx, deadline: time.Now().Add(time.Hour)}
	if d, _ := c.Deadline(); d.After(time.Now().Add(2 * time.Minute)) {
		t.Fatalf("deadline %v ignores the parent's", d)
	}
}
