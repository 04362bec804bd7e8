package twin_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"citytwin/parts"
	"citytwin/twin"
)

// The check of ApplyPartsChecked sees each record against the component as
// the batch so far leaves it, and its refusal changes nothing.
func TestApplyPartsCheckedSeesTheBatch(t *testing.T) {
	ctx := context.Background()
	tw, _ := open(t, city(t))
	centre := tw.Grids().Bounds().Center()
	p := newPart(t, tw, centre, 990101)
	renamed := p
	renamed.Name = "改名"
	type call struct{ old, next *parts.Part }
	var calls []call
	check := func(old, next *parts.Part) error {
		calls = append(calls, call{old, next})
		return nil
	}
	cs := []twin.PartChange{{Op: twin.OpAdd, Part: p}, {Op: twin.OpModify, Part: renamed}, {Op: twin.OpRetire, Part: parts.Part{Code: p.Code}}}
	if _, err := tw.ApplyPartsChecked(ctx, cs, check); err != nil {
		t.Fatal(err)
	}
	if len(calls) != 3 {
		t.Fatalf("%d checks, want one a record", len(calls))
	}
	if calls[0].old != nil || calls[0].next == nil || calls[0].next.Version != 1 {
		t.Errorf("add checked as %+v", calls[0])
	}
	if calls[1].old == nil || calls[1].old.Name != p.Name || calls[1].old.Version != 1 || calls[1].next.Name != "改名" || calls[1].next.Version != 2 {
		t.Errorf("modify checked as old %+v next %+v: want the added part as old", calls[1].old, calls[1].next)
	}
	if calls[2].old == nil || calls[2].old.Name != "改名" || calls[2].next != nil {
		t.Errorf("retire checked as %+v: want the renamed part as old", calls[2])
	}

	q := newPart(t, tw, centre, 990102)
	deny := errors.New("denied")
	_, err := tw.ApplyPartsChecked(ctx, []twin.PartChange{{Op: twin.OpAdd, Part: q}, {Op: twin.OpModify, Part: q}}, func(old, next *parts.Part) error {
		if old != nil {
			return deny
		}
		return nil
	})
	var re *twin.RecordError
	if !errors.As(err, &re) || re.Index != 1 || !errors.Is(err, deny) {
		t.Fatalf("refused batch: %v, want record 1 denied", err)
	}
	if _, err := tw.Parts().Get(q.Code); !errors.Is(err, parts.ErrNotFound) {
		t.Fatalf("the refused batch left %s behind: %v", q.Code, err)
	}
}

// A bulk change becomes visible all at once: a reader that reads two codes
// changed by every batch never sees one new and one old.
func TestBulkChangeVisibleAllAtOnce(t *testing.T) {
	ctx := context.Background()
	tw, _ := open(t, city(t))
	var codes []parts.Code
	var base []parts.Part
	tw.Parts().Each(func(p parts.Part) bool {
		if !p.Retired {
			codes, base = append(codes, p.Code), append(base, p)
		}
		return len(codes) < 2
	})
	if base[0].Version != base[1].Version {
		t.Fatalf("the two parts start at versions %d and %d", base[0].Version, base[1].Version)
	}
	var stop atomic.Bool
	var reads, torn atomic.Int64
	var firstTorn atomic.Value
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for !stop.Load() {
				ps, errs := tw.Parts().GetAll(codes)
				if errs[0] != nil || errs[1] != nil {
					firstTorn.CompareAndSwap(nil, fmt.Sprint(errs))
					torn.Add(1)
					continue
				}
				reads.Add(1)
				changed := ps[0].Version > base[0].Version // both names set by a batch
				if ps[0].Version != ps[1].Version || changed && ps[0].Name != ps[1].Name {
					firstTorn.CompareAndSwap(nil, fmt.Sprintf("%s v%d %q, %s v%d %q", ps[0].Code, ps[0].Version, ps[0].Name, ps[1].Code, ps[1].Version, ps[1].Name))
					torn.Add(1)
				}
			}
		})
	}
	for i := range 50 {
		cs := make([]twin.PartChange, 2)
		for j := range cs {
			p := base[j]
			p.Name = fmt.Sprintf("批次 %d", i)
			cs[j] = twin.PartChange{Op: twin.OpModify, Part: p}
		}
		if _, err := tw.ApplyParts(ctx, cs); err != nil {
			stop.Store(true)
			wg.Wait()
			t.Fatal(err)
		}
	}
	stop.Store(true)
	wg.Wait()
	if n := torn.Load(); n > 0 {
		t.Fatalf("%d of %d reads saw half a batch; first: %v", n, reads.Load()+n, firstTorn.Load())
	}
	if reads.Load() == 0 {
		t.Fatal("no read ran")
	}
}
