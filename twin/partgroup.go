package twin

import (
	"context"
	"time"

	"citytwin/parts"
)

// partReq is one write of components waiting for the group commit: build
// makes its change records from the state as the writes before it in the
// group leave it.
type partReq struct {
	ctx   context.Context
	build func(cur lookup) ([]PartChange, error)
	check PartCheck
	done  chan partRes
}

type partRes struct {
	out []parts.Part
	err error
}

// submitParts runs a write of components through the group commit
// (component writes that arrive together are stored in one transaction)
// and waits for it.
func (t *Twin) submitParts(ctx context.Context, build func(cur lookup) ([]PartChange, error), check PartCheck) ([]parts.Part, error) {
	req := &partReq{ctx: ctx, build: build, check: check, done: make(chan partRes, 1)}
	t.partGroup.submit(req, t.partBatch)
	res := <-req.done
	return res.out, res.err
}

// partBatch prepares every write of the batch against the state the ones
// before it leave, stores them all in one transaction and applies them in
// one step. A write that fails its checks fails alone; should the store
// refuse the whole batch, each write is tried again alone, so that a
// conflict with another replica fails only the write that lost.
func (t *Twin) partBatch(batch []*partReq) {
	t.wmu.Lock()
	defer t.wmu.Unlock()
	type prepared struct {
		req  *partReq
		cs   []PartChange
		out  []parts.Part
		olds []*parts.Part
	}
	group := make(map[parts.Code]parts.Part)
	var ok []prepared
	var all []parts.Part
	for _, req := range batch {
		if err := req.ctx.Err(); err != nil {
			req.done <- partRes{err: err}
			continue
		}
		local := make(map[parts.Code]parts.Part)
		cur := t.lookupIn(local, group)
		cs, err := req.build(cur)
		if err == nil && len(cs) == 0 {
			req.done <- partRes{}
			continue
		}
		var out []parts.Part
		var olds []*parts.Part
		if err == nil {
			out, olds, err = t.prepareLocked(cs, req.check, cur, local)
		}
		if err != nil {
			req.done <- partRes{err: err}
			continue
		}
		for c, p := range local {
			group[c] = p
		}
		ok = append(ok, prepared{req, cs, out, olds})
		all = append(all, out...)
	}
	if len(ok) == 0 {
		return
	}
	wctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := storeErr(t.store.PutParts(wctx, all)); err != nil {
		if len(ok) == 1 {
			ok[0].req.done <- partRes{err: err}
			return
		}
		for _, p := range ok {
			cs, berr := p.req.build(t.lookupIn(nil))
			if berr != nil {
				p.req.done <- partRes{err: berr}
				continue
			}
			// Each retry has its whole time: the failed batch may have
			// used up wctx's.
			rctx, rcancel := context.WithTimeout(context.Background(), 30*time.Second)
			out, aerr := t.applyLocked(rctx, cs, p.req.check)
			rcancel()
			p.req.done <- partRes{out: out, err: aerr}
		}
		return
	}
	// One step for the readers: every write of the group at once.
	var cs []PartChange
	var olds []*parts.Part
	for _, p := range ok {
		cs = append(cs, p.cs...)
		olds = append(olds, p.olds...)
	}
	t.commitPartsLocked(wctx, cs, all, olds)
	for _, p := range ok {
		p.req.done <- partRes{out: p.out}
	}
}
