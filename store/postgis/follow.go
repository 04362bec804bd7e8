package postgis

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"citytwin/grid"
	"citytwin/parts"
	"citytwin/twin"
)

// Applier is what a Follower applies changes to: *twin.Twin.
type Applier interface {
	ApplyExternal(ctx context.Context, e twin.External) twin.ExternalResult
}

// FollowOptions configures a Follower. The zero value gives the defaults.
type FollowOptions struct {
	// Poll is how often the log is read when no notification comes
	// (default 1 s): notifications lost while the connection was down
	// are made good this way.
	Poll time.Duration
	// Batch is the most changes read and applied at once (default 10,000).
	// While one batch is applied the next is read.
	Batch int
	// MaxBackoff bounds the wait between reconnections (default 5 s; the
	// first wait is 100 ms, doubling).
	MaxBackoff time.Duration
	// Window is how many seqs before the newest at start are read to find
	// the seqs of transactions still running then (default 10,000).
	Window int64
	// Logger receives reconnections and rejected rows (nil: discarded).
	Logger *slog.Logger
	// Observe, when set, is called with the delay between each applied
	// change's transaction and its application (replication lag).
	Observe func(time.Duration)
}

func (o FollowOptions) withDefaults() FollowOptions {
	if o.Poll <= 0 {
		o.Poll = time.Second
	}
	if o.Batch <= 0 {
		o.Batch = 10000
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 5 * time.Second
	}
	if o.Window <= 0 {
		o.Window = 10000
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return o
}

// FeedStatus is where a Follower stands.
type FeedStatus struct {
	// Position is the highest seq applied; every seq below it was applied
	// too, but for Gaps (seqs of transactions still running, or rolled
	// back, when they were passed).
	Position int64 `json:"position"`
	Gaps     int   `json:"gaps,omitempty"`
	// Newest is the highest seq in the log at the last read.
	Newest int64 `json:"newest"`
	// Lag is Newest - Position; LagSeconds how long ago the first change
	// not applied yet was made (0 when caught up).
	Lag        int64   `json:"lag"`
	LagSeconds float64 `json:"lag_seconds"`
	// Connected is true while the LISTEN connection is up.
	Connected bool `json:"connected"`
	// Applied, Skipped and Rejected count records since start.
	Applied  uint64 `json:"applied"`
	Skipped  uint64 `json:"skipped"`
	Rejected uint64 `json:"rejected"`
	// LastRead is when the log was last read.
	LastRead time.Time `json:"last_read"`
	// Error is the last failure ("" after a read that worked).
	Error string `json:"error,omitempty"`
	// Stale is true when the log was pruned past Position: changes were
	// lost to this replica, which must be restarted (reloaded).
	Stale bool `json:"stale,omitempty"`
}

// Follower applies the change log of the database to memory: it LISTENs on
// ChangesChannel, reads the rows of the log after its position (and those
// of gaps that may still fill), loads the changed parts and grids by code,
// and the changed records of sensors, alarms, cases, departments, the
// responsibility table and the calendar by key (migration 0006), and hands
// them to its Applier. Alarms the Applier leaves out because this replica
// has a raise or clear of theirs in flight are read again at the next read. Make it with NewFollower before loading
// the city, so that nothing committed after the load is missed; run it
// with Run.
type Follower struct {
	s     *Store
	apply Applier
	o     FollowOptions

	mu     sync.Mutex // guards the position, retry and status
	pos    position
	retry  []string // ids of alarms to read again (see twin.ExternalResult.Pending)
	status FeedStatus
	schema string
}

// position is how far a follower has read: every seq up to high but those
// in gaps.
type position struct {
	high int64 // highest seq applied (or known from the start)
	gaps []Gap // seqs below high not applied yet, in order
}

func (p position) clone() position {
	return position{high: p.high, gaps: slices.Clone(p.gaps)}
}

// advance passes the changes of page, then drops the gaps that never fill:
// those whose transactions had all ended when page was read (they rolled
// back).
func (p *position) advance(page *ChangePage) {
	for i := range page.Changes {
		p.pass(page.Changes[i].Seq, page.XMax)
	}
	p.gaps = slices.DeleteFunc(p.gaps, func(g Gap) bool { return page.XMin >= g.XMax })
}

// NewFollower reads the start position of a follower of s: the newest seq
// of the log, and the seqs missing from the Window before it (of
// transactions still running, whose changes the load will not see). Call
// it just before loading the city; changes seen twice are harmless
// (versions decide).
func (s *Store) NewFollower(ctx context.Context, a Applier, o FollowOptions) (*Follower, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	f := &Follower{s: s, apply: a, o: o.withDefaults()}
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT current_schema()`).Scan(&f.schema); err != nil {
			return wrap("follow: schema", err)
		}
		var newest int64
		if err := tx.QueryRow(ctx, `SELECT coalesce(max(seq), 0) FROM changes`).Scan(&newest); err != nil {
			return wrap("follow: start", err)
		}
		after := max(newest-f.o.Window, 0)
		page, err := readChanges(ctx, tx, nil, after, int(f.o.Window)+1)
		if err != nil {
			return err
		}
		f.pos.high = after
		for _, c := range page.Changes {
			f.pos.pass(c.Seq, page.XMax)
		}
		f.pos.high = max(f.pos.high, newest)
		f.status.Newest = newest
		return nil
	})
	if err != nil {
		return nil, err
	}
	f.status.Position = f.pos.high
	f.status.Gaps = len(f.pos.gaps)
	return f, nil
}

// pass records seq as applied: it leaves its gap, or, above high, opens a
// gap for the seqs skipped (found missing by a read with snapshot xmax).
func (f *position) pass(seq int64, xmax uint64) {
	if seq > f.high {
		if seq > f.high+1 {
			f.gaps = append(f.gaps, Gap{From: f.high + 1, To: seq - 1, XMax: xmax})
		}
		f.high = seq
		return
	}
	for i, g := range f.gaps {
		if seq < g.From || seq > g.To {
			continue
		}
		switch {
		case g.From == g.To:
			f.gaps = slices.Delete(f.gaps, i, i+1)
		case seq == g.From:
			f.gaps[i].From++
		case seq == g.To:
			f.gaps[i].To--
		default:
			f.gaps = slices.Insert(f.gaps, i+1, Gap{From: seq + 1, To: g.To, XMax: g.XMax})
			f.gaps[i].To = seq - 1
		}
		return
	}
}

// Status returns where the follower stands.
func (f *Follower) Status() FeedStatus {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.status
}

// Run follows the log until ctx is done: it keeps a LISTEN connection
// (reconnecting with backoff when it drops, reading the log after each
// reconnection so that nothing missed meanwhile is lost), and reads the
// log on every notification for its schema and every Poll.
func (f *Follower) Run(ctx context.Context) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := f.session(ctx)
		if ctx.Err() != nil {
			return
		}
		f.setConnected(false, err)
		f.o.Logger.Warn("change feed: connection lost, reconnecting", "err", err, "in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, f.o.MaxBackoff)
		if f.Status().Connected {
			backoff = 100 * time.Millisecond
		}
	}
}

func (f *Follower) setConnected(up bool, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.status.Connected = up
	if err != nil {
		f.status.Error = err.Error()
	}
}

// session is one LISTEN connection: it returns when the connection fails.
func (f *Follower) session(ctx context.Context) error {
	cc := f.s.pool.Config().ConnConfig.Copy()
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	conn, err := pgx.ConnectConfig(cctx, cc)
	cancel()
	if err != nil {
		return fmt.Errorf("%w: change feed: %w", ErrUnavailable, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, `LISTEN `+ChangesChannel); err != nil {
		return wrap("change feed: listen", err)
	}
	f.setConnected(true, nil)
	f.o.Logger.Info("change feed: listening", "schema", f.schema, "position", f.Status().Position)
	for {
		// Read until caught up, then wait.
		for {
			full, err := f.sync(ctx, conn)
			if err != nil {
				return err
			}
			if !full {
				break
			}
		}
		wctx, cancel := context.WithTimeout(ctx, f.o.Poll)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case err != nil && errors.Is(err, context.DeadlineExceeded) && !conn.IsClosed():
			continue // poll
		case err != nil:
			return wrap("change feed: wait", err)
		}
		mine := n.Payload == f.schema
		// Take every notification already received: one read covers them.
		done, cancelDone := context.WithCancel(ctx)
		cancelDone()
		for {
			n, err := conn.WaitForNotification(done)
			if err != nil || n == nil {
				break
			}
			mine = mine || n.Payload == f.schema
		}
		if !mine {
			// Another schema of the database changed; wait on (the poll
			// still reads now and then).
			continue
		}
	}
}

// Sync reads the log once and applies what it finds, on a connection of the
// pool; for tests and for a caller that knows a change was just committed.
// It returns whether the read was full (more may be waiting).
func (f *Follower) Sync(ctx context.Context) (bool, error) {
	c, err := f.s.pool.Acquire(ctx)
	if err != nil {
		return false, wrap("change feed", err)
	}
	defer c.Release()
	return f.sync(ctx, c.Conn())
}

// fetched is one read of the log with the rows it names.
type fetched struct {
	page     ChangePage
	ext      twin.External
	rejected []*RowError
}

// sync reads the log after the position and the gaps below it, loads the
// changed rows and applies them, until a read is not full (caught up). While
// one page is applied the next is read on conn, which the application does
// not use: PostgreSQL finds and sends the rows of a page while this process
// applies the one before.
func (f *Follower) sync(ctx context.Context, conn *pgx.Conn) (full bool, err error) {
	f.mu.Lock()
	pos := f.pos.clone()
	retry := f.retry
	f.retry = nil
	f.mu.Unlock()

	cur, err := f.fetch(ctx, conn, pos, retry)
	if err != nil {
		f.failed(err, retry)
		return false, err
	}
	for {
		full = len(cur.page.Changes) >= f.o.Batch
		var next chan error
		var nf fetched
		npos := pos
		if full {
			npos = pos.clone()
			npos.advance(&cur.page)
			next = make(chan error, 1)
			go func() {
				var err error
				nf, err = f.fetch(ctx, conn, npos, nil)
				next <- err
			}()
		}
		f.applyFetched(ctx, cur, pos.high)
		if next == nil {
			return false, nil
		}
		if err := <-next; err != nil {
			f.failed(err, nil)
			return false, err
		}
		cur, pos = nf, npos
	}
}

// failed records a read that failed; the ids of alarms to read again stay.
func (f *Follower) failed(err error, retry []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.status.Error = err.Error()
	f.retry = append(f.retry, retry...)
}

// fetch reads, in one snapshot, the log after pos (and the seqs of its
// gaps), then the rows of the changed keys as they are now: the newest
// state wins, versions decide what memory takes. retry names alarms to
// read whatever the log says.
func (f *Follower) fetch(ctx context.Context, conn *pgx.Conn, pos position, retry []string) (fetched, error) {
	var r fetched
	bad := func(e *RowError) error { r.rejected = append(r.rejected, e); return nil }
	err := pgx.BeginTxFunc(ctx, conn, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		var err error
		if r.page, err = readChanges(ctx, tx, pos.gaps, pos.high, f.o.Batch); err != nil {
			return err
		}
		if len(r.page.Changes) == 0 && len(retry) == 0 {
			return nil
		}
		keys := collectKeys(r.page.Changes, retry)
		if r.ext.Parts, err = partsByCode(ctx, tx, keys.codes("parts"), bad); err != nil {
			return err
		}
		if r.ext.Grids, err = gridsByCode(ctx, tx, keys.codes("grids"), bad); err != nil {
			return err
		}
		// Codes logged but no longer stored were deleted (rows that did
		// not decode are stored: memory keeps what it has).
		if codes := keys.codes("parts"); len(codes) > len(r.ext.Parts) {
			found := make(map[parts.Code]bool, len(r.ext.Parts)+len(r.rejected))
			for i := range r.ext.Parts {
				found[r.ext.Parts[i].Code] = true
			}
			for _, e := range r.rejected {
				if c, err := parts.ParseCode(e.Key); err == nil && e.Table == "parts" {
					found[c] = true
				}
			}
			for _, code := range codes {
				if c, err := parts.ParseCode(code); err == nil && !found[c] {
					r.ext.DeletedParts = append(r.ext.DeletedParts, c)
				}
			}
		}
		if codes := keys.codes("grids"); len(codes) > len(r.ext.Grids) {
			found := make(map[string]bool, len(r.ext.Grids)+len(r.rejected))
			for i := range r.ext.Grids {
				found[string(r.ext.Grids[i].Code)] = true
			}
			for _, e := range r.rejected {
				found[e.Key] = true
			}
			for _, code := range codes {
				if c, err := grid.ParseCode(code); err == nil && !found[code] {
					r.ext.DeletedGrids = append(r.ext.DeletedGrids, c)
				}
			}
		}
		return readRecords(ctx, tx, keys, &r.ext.Records, bad)
	})
	return r, err
}

// applyFetched applies a read and moves the position past it; high is the
// position the read started from.
func (f *Follower) applyFetched(ctx context.Context, r fetched, high int64) {
	var res twin.ExternalResult
	if len(r.page.Changes) > 0 || !r.ext.Records.IsZero() {
		res = f.apply.ApplyExternal(ctx, r.ext)
	}
	now := time.Now()
	for _, e := range r.rejected {
		f.o.Logger.Warn("change feed: a stored row cannot be read; memory keeps its old state", "table", e.Table, "key", e.Key, "err", e)
	}
	for _, e := range res.Errors {
		f.o.Logger.Warn("change feed: a stored row is not valid; memory keeps its old state", "err", e)
	}
	page := &r.page
	if f.o.Observe != nil {
		for _, c := range page.Changes {
			f.o.Observe(now.Sub(c.At))
		}
	}

	f.mu.Lock()
	defer f.mu.Unlock()
	f.pos.advance(page)
	f.retry = append(f.retry, res.Pending...)
	st := &f.status
	st.Position, st.Gaps, st.Newest = f.pos.high, len(f.pos.gaps), max(page.Newest, f.pos.high)
	st.Lag = st.Newest - st.Position
	st.LagSeconds = 0
	if st.Lag > 0 && len(page.Changes) > 0 {
		st.LagSeconds = max(0, now.Sub(page.Changes[len(page.Changes)-1].At).Seconds())
	}
	st.Applied += uint64(res.Applied)
	st.Skipped += uint64(res.Skipped)
	st.Rejected += uint64(res.Rejected + len(r.rejected))
	st.LastRead = now
	st.Error = ""
	if page.Pruned > high && !st.Stale {
		st.Stale = true
		f.o.Logger.Error("change feed: the log was pruned past this replica's position; restart it to reload", "position", high, "pruned_through", page.Pruned)
	}
}
