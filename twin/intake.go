package twin

import (
	"context"
	"sync"
	"time"

	"github.com/paulmach/orb/geo"

	"citytwin/incidents"
)

// intakeReq is one report waiting for the group commit.
type intakeReq struct {
	ctx   context.Context
	r     incidents.Report
	actor incidents.Actor
	done  chan intakeRes
}

type intakeRes struct {
	c      incidents.Case
	merged bool
	err    error
}

// maxGroup is the most writes committed in one transaction.
const maxGroup = 256

// groupCommit runs requests in batches on a goroutine of its own, started
// with the first request: every request that arrives while a batch is
// being committed joins the next one. The zero value is ready to use.
type groupCommit[R any] struct {
	once sync.Once
	ch   chan R
}

// submit queues req for run, which gets it in a batch.
func (g *groupCommit[R]) submit(req R, run func([]R)) {
	g.once.Do(func() {
		g.ch = make(chan R, maxGroup)
		go func() {
			batch := make([]R, 0, maxGroup)
			for first := range g.ch {
				batch = append(batch[:0], first)
			more:
				for len(batch) < maxGroup {
					select {
					case r := <-g.ch:
						batch = append(batch, r)
					default:
						break more
					}
				}
				run(batch)
			}
		}()
	})
	g.ch <- req
}

// intakeBatch routes, merges and admits a batch of reports and commits
// them in one transaction. Should that fail with more than one report, each
// is tried alone, so one bad report fails only itself.
func (t *Twin) intakeBatch(batch []*intakeReq) {
	t.wmu.Lock()
	defer t.wmu.Unlock()
	if t.intakeLocked(batch) {
		return
	}
	for _, req := range batch {
		t.intakeLocked([]*intakeReq{req})
	}
}

// intakeLocked commits batch and answers every request. It answers no one
// and returns false when the write of a batch of more than one report
// failed (the caller retries them one by one).
func (t *Twin) intakeLocked(batch []*intakeReq) bool {
	now := t.now().UTC()
	res := make([]intakeRes, len(batch))
	var b Batch
	at := map[incidents.ID]int{} // case -> index in b.Cases
	owner := make([]int, len(batch))
	for i, req := range batch {
		owner[i] = -1
		if err := req.ctx.Err(); err != nil {
			res[i].err = err
			continue
		}
		c, err := t.newCaseLocked(req.ctx, req.r, now)
		if err != nil {
			res[i].err = err
			continue
		}
		if j, ok := t.mergeTargetLocked(&b, at, c, now); ok {
			b.Cases[j].Value = mergeInto(b.Cases[j].Value, c, req.actor, now)
			owner[i], res[i].merged = j, true
			continue
		}
		c, ns, err := t.admitLocked(c, req.actor, now)
		if err != nil {
			res[i].err = err
			continue
		}
		at[c.ID] = len(b.Cases)
		owner[i] = len(b.Cases)
		b.Cases = append(b.Cases, Versioned[incidents.Case]{Value: c})
		b.Notifications = append(b.Notifications, ns...)
	}
	wctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := t.write(wctx, b); err != nil {
		if len(batch) > 1 {
			return false
		}
		batch[0].done <- intakeRes{err: err}
		return true
	}
	changes := make([]Change, 0, len(b.Cases))
	for _, v := range b.Cases {
		changes = append(changes, t.putCaseLocked(v))
	}
	for i, req := range batch {
		if owner[i] >= 0 {
			res[i].c = b.Cases[owner[i]].Value
		}
		req.done <- res[i]
	}
	t.emit(changes...)
	return true
}

// mergeTargetLocked finds the open case a new case c merges into: one of
// the batch's cases first, then one of the book (brought into the batch at
// its stored version).
func (t *Twin) mergeTargetLocked(b *Batch, at map[incidents.ID]int, c incidents.Case, now time.Time) (int, bool) {
	l := t.live
	since := now.Add(-l.opts.MergeWindow)
	// The batch's cases by the rule of Book.Near: the nearest open case of
	// the type and class, reported after since, within the distance.
	best, bestD := -1, l.opts.MergeDistance
	for j := range b.Cases {
		o := &b.Cases[j].Value
		if o.Type != c.Type || o.Class != c.Class || !o.State.Open() || !o.Reported.After(since) {
			continue
		}
		if d := geo.Distance(o.Location, c.Location); d <= bestD {
			best, bestD = j, d
		}
	}
	if best >= 0 {
		return best, true
	}
	open, ok := l.cases.Near(c.Location, c.Type, c.Class, l.opts.MergeDistance, since)
	if !ok {
		return 0, false
	}
	if j, ok := at[open.ID]; ok {
		return j, true
	}
	at[open.ID] = len(b.Cases)
	b.Cases = append(b.Cases, Versioned[incidents.Case]{Value: open, Prev: open.Version})
	return len(b.Cases) - 1, true
}
