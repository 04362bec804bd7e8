package twin

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/paulmach/orb"

	"citytwin/grid"
	"citytwin/parts"
	"citytwin/sensors"
)

// Options configures Open. The zero value is usable.
type Options struct {
	// Catalogue is the class catalogue; nil means parts.DefaultCatalogue().
	Catalogue *parts.Catalogue
	// Progress, when set, is called while loading with the stage ("grids",
	// "parts", "index") and the count done of total (total 0 if unknown).
	Progress func(stage string, done, total int)
	// Now returns the time used for change dates; nil means time.Now.
	Now func() time.Time
	// Sensors configures the sensor engine (window, clock limits).
	Sensors sensors.Options
	// Cases configures intake, merging and routing of cases.
	Cases CaseOptions
}

// Twin is the city in memory. Reads go straight to Parts() and Grids();
// writes go through the methods of Twin, one at a time.
type Twin struct {
	store Store
	cat   *parts.Catalogue
	parts *parts.Registry
	grids *grid.Index
	now   func() time.Time

	recs Records // nil: the store keeps no sensors or cases (ErrReadOnly)
	live *live   // sensors, alarms, cases, departments

	wmu sync.Mutex // serialises the write path
	// pendingReloc holds the areas of grid writes whose components'
	// re-location failed, retried by the next grid write or Sweep; it is
	// written under wmu and read by RelocationsPending without it.
	pendingReloc atomic.Pointer[[]orb.Bound]
	partGroup    groupCommit[*partReq] // component writes committed together

	lmu       sync.RWMutex
	listeners []func(Change)
}

// batchLoader is a Store that can hand its parts over in batches valid
// only until the call returns (store/gpkg.Store is one): the builder
// copies what it keeps, and the store reuses their memory.
type batchLoader interface {
	LoadPartBatches(ctx context.Context, fn func(ps []parts.Part) error) error
}

// Open loads the grids and the components of st into memory and returns a
// twin ready to serve. It honours ctx between records.
func Open(ctx context.Context, st Store, o Options) (*Twin, error) {
	if o.Catalogue == nil {
		o.Catalogue = parts.DefaultCatalogue()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	progress := o.Progress
	if progress == nil {
		progress = func(string, int, int) {}
	}
	t := &Twin{store: st, cat: o.Catalogue, grids: grid.NewIndex(), now: o.Now}

	// The grids and divisions load beside the parts (reporting no progress
	// of their own until the parts are in: Progress need not be safe for
	// concurrent use); the first error cancels the other load.
	lctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	nGrids := 0
	gridsDone := make(chan error, 1)
	go func() {
		err := st.LoadGrids(lctx, func(g grid.Grid) error {
			if _, _, err := t.grids.Put(g); err != nil {
				return fmt.Errorf("twin: loading grid %s: %w", g.Code, err)
			}
			nGrids++
			return lctx.Err()
		})
		if err == nil {
			err = st.LoadDivisions(lctx, func(d grid.Division) error {
				t.grids.SetDivision(d)
				return nil
			})
		}
		if err != nil {
			cancel(err)
		}
		gridsDone <- err
	}()

	// The parts go to the builder in batches (Builder.AddAll).
	var b *parts.Builder
	n, total := 0, 0
	perr := func() error {
		var err error
		if total, err = st.CountParts(lctx); err != nil {
			return err
		}
		b = parts.NewBuilder(t.cat, total)
		const batchSize = 256
		add := func(batch []parts.Part) error {
			k, err := b.AddAll(batch)
			if err != nil {
				return fmt.Errorf("twin: loading part %s: %w", batch[k].Code, err)
			}
			before := n
			if n += k; n/100000 != before/100000 {
				progress("parts", n, total)
				return lctx.Err()
			}
			return nil
		}
		if bl, ok := st.(batchLoader); ok {
			return bl.LoadPartBatches(lctx, func(ps []parts.Part) error {
				for len(ps) > 0 {
					k := min(len(ps), batchSize)
					if err := add(ps[:k]); err != nil {
						return err
					}
					ps = ps[k:]
				}
				return nil
			})
		}
		batch := make([]parts.Part, 0, batchSize)
		flush := func() error {
			err := add(batch)
			batch = batch[:0]
			return err
		}
		err = st.LoadParts(lctx, func(p parts.Part) error {
			if batch = append(batch, p); len(batch) < batchSize {
				return nil
			}
			return flush()
		})
		if err == nil {
			err = flush()
		}
		return err
	}()
	if perr != nil {
		cancel(perr)
	}
	if gerr := <-gridsDone; gerr != nil || perr != nil {
		return nil, context.Cause(lctx) // the first error; the other load stopped for it
	}
	progress("grids", nGrids, nGrids)
	progress("parts", n, total)
	progress("index", 0, n)
	t.parts = b.Build()
	progress("index", n, n)
	t.live = newLive(t, o)
	if recs, ok := st.(Records); ok {
		t.recs = recs
		if err := t.loadLive(ctx, progress); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// Now returns the twin's clock: the time of every write.
func (t *Twin) Now() time.Time { return t.now() }

// Parts returns the component registry for reads.
func (t *Twin) Parts() *parts.Registry { return t.parts }

// Grids returns the grid index for reads.
func (t *Twin) Grids() *grid.Index { return t.grids }

// Catalogue returns the class catalogue.
func (t *Twin) Catalogue() *parts.Catalogue { return t.cat }

// OnChange registers fn to be called, in the writer's goroutine, after every
// change has been persisted and applied. Listeners must be quick (drop a
// tile, queue an event) and must not write to the twin.
func (t *Twin) OnChange(fn func(Change)) {
	t.lmu.Lock()
	t.listeners = append(t.listeners, fn)
	t.lmu.Unlock()
}

func (t *Twin) emit(cs ...Change) {
	t.lmu.RLock()
	ls := t.listeners
	t.lmu.RUnlock()
	for _, c := range cs {
		for _, fn := range ls {
			fn(c)
		}
	}
}

func (t *Twin) today() time.Time {
	y, m, d := t.now().UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func storeErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	// A conditional write that lost to another writer is the caller's
	// conflict (412), not a store failure (503).
	if errors.Is(err, ErrConflict) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrStore, err)
}

// Exclusive runs fn while no write is in progress and none can start: for
// work that must see the indexes hold still while reads go on, such as one
// chunk of the tile aggregates' build (tiles.Map.SetHold). Keep fn short:
// every write waits for it.
func (t *Twin) Exclusive(fn func()) {
	t.wmu.Lock()
	defer t.wmu.Unlock()
	fn()
}

// Follower keeps derived state (the tile cache and its aggregates:
// tiles.Map is one) in step with the twin.
type Follower interface {
	PartChanged(old, new *parts.Part) int
	GridChanged(old, new *grid.Grid) int
}

// Follow tells f of every change from now on, after it is applied.
func (t *Twin) Follow(f Follower) {
	t.OnChange(func(c Change) {
		switch {
		case c.IsGrid():
			f.GridChanged(c.OldGrid, c.NewGrid)
		case c.IsPart():
			f.PartChanged(c.OldPart, c.NewPart)
		}
	})
}
