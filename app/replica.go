package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"citytwin/api"
	"citytwin/store/postgis"
	"citytwin/twin"
)

// ReplicaConfig configures what a replica on a shared PostGIS database
// does beyond serving: waiting for the database at start, following the
// change log of the other replicas, pruning it.
type ReplicaConfig struct {
	// PGWait is how long New waits for a PostGIS database that does not
	// answer at start, retrying with backoff and logging each retry,
	// before it gives up (0: no retry).
	PGWait time.Duration
	// ChangeLogDays is the age in days past which the change log is
	// pruned (0: never pruned). One replica at a time prunes, every
	// PruneEvery.
	ChangeLogDays int
	PruneEvery    time.Duration
	// Feed configures the follower of the change log.
	Feed postgis.FollowOptions
}

// DefaultReplicaConfig waits 2 minutes for the database and keeps 7 days
// of change log, pruned hourly.
func DefaultReplicaConfig() ReplicaConfig {
	return ReplicaConfig{PGWait: 2 * time.Minute, ChangeLogDays: 7, PruneEvery: time.Hour}
}

// openPostGIS opens the database at url, retrying while it does not
// answer (postgis.ErrUnavailable) for up to wait, with backoff from 250 ms
// doubling to 10 s, logging each retry. A bad URL, an unknown database or
// role, or a schema from a newer build fail at once.
func openPostGIS(ctx context.Context, url string, wait time.Duration, log *slog.Logger) (*postgis.Store, error) {
	deadline := time.Now().Add(wait)
	backoff := 250 * time.Millisecond
	for attempt := 1; ; attempt++ {
		s, err := postgis.Open(ctx, url)
		if err == nil {
			if err = s.Migrate(ctx); err == nil {
				if attempt > 1 {
					log.Info("database reached", "attempts", attempt)
				}
				return s, nil
			}
			s.Close()
			if !errors.Is(err, postgis.ErrUnavailable) && !transientErr(err) {
				return nil, err
			}
		} else if !errors.Is(err, postgis.ErrUnavailable) {
			return nil, err
		}
		left := time.Until(deadline)
		if left <= 0 {
			return nil, fmt.Errorf("app: the database did not answer within %v (%d attempts): %w", wait, attempt, err)
		}
		d := min(backoff, left)
		log.Warn("database not reachable, retrying", "attempt", attempt, "in", d, "gives_up_in", left.Round(time.Second), "err", err)
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("app: waiting for the database: %w", ctx.Err())
		case <-time.After(d):
		}
		backoff = min(backoff*2, 10*time.Second)
	}
}

// transientErr reports a migration that failed because the connection
// went away while it ran.
func transientErr(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, postgis.ErrUnavailable)
}

// applierRef hands the follower's changes to the twin, which exists only
// after the load that the follower's start position must precede.
type applierRef struct{ t *twin.Twin }

func (r *applierRef) ApplyExternal(ctx context.Context, e twin.External) twin.ExternalResult {
	return r.t.ApplyExternal(ctx, e)
}

// replica is the follower of the change log of a PostGIS store, and the
// health of the store, whichever it is.
type replica struct {
	cfg      ReplicaConfig
	log      *slog.Logger
	store    Store
	pg       *postgis.Store    // nil on a GeoPackage
	follower *postgis.Follower // nil on a GeoPackage
	ref      *applierRef       // the follower's twin
	lag      prometheus.Histogram
}

// newReplica makes the follower of a PostGIS store (its start position is
// read now: call it just before the load) or, on a GeoPackage, just the
// health check.
func newReplica(ctx context.Context, cfg ReplicaConfig, st Store, log *slog.Logger) (*replica, error) {
	r := &replica{cfg: cfg, log: log, store: st, ref: &applierRef{}}
	r.lag = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: "citytwin", Subsystem: "feed", Name: "apply_delay_seconds",
		Help:    "Delay between a change's transaction in the database and its application to this replica's memory.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .2, .5, 1, 2.5, 5, 10, 30},
	})
	pg, ok := st.(*postgis.Store)
	if !ok {
		return r, nil
	}
	r.pg = pg
	o := cfg.Feed
	if o.Logger == nil {
		o.Logger = log
	}
	if o.Observe == nil {
		o.Observe = func(d time.Duration) { r.lag.Observe(d.Seconds()) }
	}
	f, err := pg.NewFollower(ctx, r.ref, o)
	if err != nil {
		return nil, err
	}
	r.follower = f
	return r, nil
}

// start follows the change log and prunes it until ctx is done.
func (r *replica) start(ctx context.Context, t *twin.Twin) {
	r.ref.t = t
	if r.follower == nil {
		return
	}
	go r.follower.Run(ctx)
	if r.cfg.ChangeLogDays > 0 {
		go r.prune(ctx)
	}
}

// prune deletes the change log older than ChangeLogDays now and every
// PruneEvery; one replica at a time does (an advisory lock).
func (r *replica) prune(ctx context.Context) {
	every := r.cfg.PruneEvery
	if every <= 0 {
		every = time.Hour
	}
	t := time.NewTimer(time.Minute) // not while every replica starts
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		before := time.Now().Add(-time.Duration(r.cfg.ChangeLogDays) * 24 * time.Hour)
		n, ran, err := r.pg.PruneChanges(ctx, before)
		switch {
		case err != nil && ctx.Err() == nil:
			r.log.Warn("change log: prune failed", "err", err)
		case ran && n > 0:
			r.log.Info("change log: pruned", "rows", n, "before", before.Format(time.RFC3339))
		}
		t.Reset(every)
	}
}

// pinger is a store that can check it answers.
type pinger interface {
	Ping(ctx context.Context) error
}

// Health is api.Health: the store answers a ping (PostGIS: a pooled
// connection; GeoPackage: a one-row read) within ctx, and the feed's
// status.
func (r *replica) Health(ctx context.Context) (api.StoreHealth, any) {
	h := api.StoreHealth{Kind: "gpkg", Up: true}
	var err error
	if p, ok := r.store.(pinger); ok {
		err = p.Ping(ctx)
	} else {
		_, _, err = r.store.LoadCalendar(ctx)
	}
	if r.pg != nil {
		h.Kind = "postgis"
	}
	if err != nil {
		h.Up = false
		h.Reason = "the store does not answer: writes are refused (503), reads and tiles are served from memory"
		if errors.Is(err, context.DeadlineExceeded) {
			h.Reason = "the store did not answer in time: writes are refused (503), reads and tiles are served from memory"
		}
	}
	if r.follower == nil {
		return h, nil
	}
	fs := r.follower.Status()
	h.Stale = fs.Stale
	return h, fs
}

// collectors are the replica's metrics: the store's state, the feed's
// position, the newest seq, the lag.
func (r *replica) collectors() []prometheus.Collector {
	up := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: "citytwin", Subsystem: "store", Name: "up",
		Help: "1 when the store answered a ping within a second, 0 when not.",
	}, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		h, _ := r.Health(ctx)
		if h.Up {
			return 1
		}
		return 0
	})
	cs := []prometheus.Collector{up}
	if r.follower == nil {
		return cs
	}
	gauge := func(name, help string, fn func(postgis.FeedStatus) float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "citytwin", Subsystem: "feed", Name: name, Help: help},
			func() float64 { return fn(r.follower.Status()) })
	}
	counter := func(name, help string, fn func(postgis.FeedStatus) float64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "citytwin", Subsystem: "feed", Name: name, Help: help},
			func() float64 { return fn(r.follower.Status()) })
	}
	return append(cs, r.lag,
		gauge("position", "The highest seq of the change log applied to this replica.", func(s postgis.FeedStatus) float64 { return float64(s.Position) }),
		gauge("newest_seq", "The highest seq of the change log in the database at the last read.", func(s postgis.FeedStatus) float64 { return float64(s.Newest) }),
		gauge("lag_changes", "Changes in the database not applied to this replica yet.", func(s postgis.FeedStatus) float64 { return float64(s.Lag) }),
		gauge("lag_seconds", "Age of the first change not applied to this replica yet (0 when caught up).", func(s postgis.FeedStatus) float64 { return s.LagSeconds }),
		gauge("gaps", "Ranges of seqs of transactions that were running when passed.", func(s postgis.FeedStatus) float64 { return float64(s.Gaps) }),
		gauge("connected", "1 while the LISTEN connection is up.", func(s postgis.FeedStatus) float64 {
			if s.Connected {
				return 1
			}
			return 0
		}),
		counter("applied_total", "Records of other writers applied to memory.", func(s postgis.FeedStatus) float64 { return float64(s.Applied) }),
		counter("skipped_total", "Records of the log memory held already (own writes).", func(s postgis.FeedStatus) float64 { return float64(s.Skipped) }),
		counter("rejected_total", "Stored rows that memory could not take (invalid).", func(s postgis.FeedStatus) float64 { return float64(s.Rejected) }),
	)
}

// Feed returns the change feed's status; false on a GeoPackage.
func (a *App) Feed() (postgis.FeedStatus, bool) {
	if a.replica == nil || a.replica.follower == nil {
		return postgis.FeedStatus{}, false
	}
	return a.replica.follower.Status(), true
}
