package tiles

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"citytwin/parts"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
)

// TestEncodePanicReleasesTheFlight makes the encoder panic while a second
// caller waits for the same tile: the first caller gets the panic, the
// waiter ErrEncodePanic, and a later caller a tile, not a hang.
func TestEncodePanicReleasesTheFlight(t *testing.T) {
	f := newFixture(t, Options{})
	var pt orb.Point
	for _, p := range fixtureParts() {
		if g, ok := p.Geometry.(orb.Point); ok {
			pt = g
			break
		}
	}
	tl := maptile.At(pt, 16)
	started, release := make(chan struct{}), make(chan struct{})
	var calls atomic.Int32
	f.m.beforeEncode = func(string, maptile.Tile) {
		if calls.Add(1) == 1 {
			close(started)
			<-release
			panic("encoder exploded")
		}
	}
	ctx := context.Background()
	first := make(chan any, 1)
	go func() {
		defer func() { first <- recover() }()
		_, _ = f.m.Encode(ctx, LayerParts, tl, parts.Filter{})
	}()
	<-started
	waiter := make(chan error, 1)
	go func() {
		_, err := f.m.Encode(ctx, LayerParts, tl, parts.Filter{})
		waiter <- err
	}()
	for deadline := time.Now().Add(5 * time.Second); f.m.sharedN.Load() == 0; {
		if time.Now().After(deadline) {
			t.Fatal("the second caller never joined the encoding in flight")
		}
		time.Sleep(time.Millisecond)
	}
	close(release)
	if r := <-first; r != "encoder exploded" {
		t.Fatalf("the caller that ran the encoding recovered %v, want its panic", r)
	}
	select {
	case err := <-waiter:
		if !errors.Is(err, ErrEncodePanic) {
			t.Fatalf("the waiting caller got %v, want ErrEncodePanic", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the waiting caller hangs after the panic")
	}
	done := make(chan error, 1)
	go func() {
		tile, err := f.m.Encode(ctx, LayerParts, tl, parts.Filter{})
		if err == nil && len(tile.Data) == 0 {
			err = errors.New("an empty tile")
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("the same tile after the panic: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the same tile after the panic hangs")
	}
	if n := calls.Load(); n != 2 {
		t.Fatalf("%d encodings, want 2 (the panicking one and a fresh one)", n)
	}
}
