package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime/debug"
	"sync"
	"time"

	"citytwin/api"
	"citytwin/store/postgis"
	"citytwin/tiles"
	"citytwin/tokens"
	"citytwin/twin"
)

// App is the running service: the twin over its store, the tile map, the
// HTTP API, MQTT, the sweeper and the notifier.
type App struct {
	cfg        Config
	log        *slog.Logger
	store      Store
	closeStore func()

	Twin     *twin.Twin
	Tiles    *tiles.Map
	API      *api.Server
	Notifier *Notifier
	mq       *mqttSide
	alarms   alarmCounters
	replica  *replica

	tilesReady chan struct{}
	closeOnce  sync.Once
}

// New opens the store, loads the city and builds every part of the
// service. Nothing runs until Run; Close releases what New opened.
func New(ctx context.Context, cfg Config) (*App, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	cfg.API.Logger = log
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Cases.TopicPrefix == "" {
		cfg.Cases.TopicPrefix = cfg.MQTT.Prefix
	}
	var (
		st         Store
		closeStore func()
		err        error
	)
	if cfg.PG != "" && cfg.Data == "" {
		var pg *postgis.Store
		if pg, err = openPostGIS(ctx, cfg.PG, cfg.Replica.PGWait, log); err == nil {
			st, closeStore = pg, pg.Close
		}
	} else {
		st, closeStore, err = OpenStore(ctx, cfg.Data, cfg.PG)
	}
	if err != nil {
		return nil, err
	}
	a := &App{cfg: cfg, log: log, store: st, closeStore: closeStore, tilesReady: make(chan struct{})}
	ok := false
	defer func() {
		if !ok {
			a.Close()
		}
	}()
	// The follower's position is read before the load: nothing committed
	// after it is missed (what the load sees too is applied twice,
	// harmlessly).
	if a.replica, err = newReplica(ctx, cfg.Replica, st, log); err != nil {
		return nil, err
	}
	cfg.API.Health = a.replica
	a.Twin, err = twin.Open(ctx, st, twin.Options{Progress: cfg.Progress, Now: cfg.Now, Sensors: cfg.Sensors, Cases: cfg.Cases})
	if err != nil {
		return nil, err
	}
	// The load's scratch (the builder's sort buffers, the decoders'
	// chunks) is garbage now: collect it and hand it back before serving,
	// so that RSS at ready is what the city needs.
	debug.FreeOSMemory()
	a.Tiles = tiles.New(a.Twin.Parts(), a.Twin.Grids(), cfg.Tiles)
	// The aggregates build chunk by chunk, each chunk with the writes held
	// (PartChanged runs under the same write mutex).
	a.Tiles.SetHold(a.Twin.Exclusive)
	a.Twin.Follow(a.Tiles)
	a.mq, err = newMQTTSide(ctx, cfg.MQTT, cfg.API.Addr, a.Twin, log)
	if err != nil {
		return nil, err
	}
	var pub publisher
	if a.mq != nil && a.mq.pub != nil {
		pub = a.mq.pub
	}
	a.Notifier = NewNotifier(st, pub, log, cfg.Now)
	a.alarms = newAlarmCounters()
	a.Twin.OnChange(a.alarms.follow)
	a.Twin.OnChange(func(c twin.Change) {
		if c.NewCase != nil && (c.OldCase == nil || c.OldCase.State != c.NewCase.State) {
			a.Notifier.Kick()
		}
	})
	a.API, err = api.New(cfg.API, a.Twin, a.Tiles, api.NewTokenAuth(st, tokens.VerifierOptions{}))
	if err != nil {
		return nil, err
	}
	if err := a.registerMetrics(a.API.Metrics()); err != nil {
		return nil, fmt.Errorf("app: metrics: %w", err)
	}
	if err := a.API.RegisterMetrics(a.replica.collectors()...); err != nil {
		return nil, fmt.Errorf("app: metrics: %w", err)
	}
	ok = true
	return a, nil
}

// BrokerURL is the URL of the MQTT broker in use ("" without MQTT): the
// embedded one's on its free port, or the city's.
func (a *App) BrokerURL() string {
	if a.mq == nil {
		return ""
	}
	return a.mq.url
}

// MQTTReady reports whether the readings subscriber and the dispatch
// publisher are connected (false without MQTT).
func (a *App) MQTTReady() bool {
	if a.mq == nil {
		return false
	}
	a.mq.mu.Lock()
	defer a.mq.mu.Unlock()
	return a.mq.sub != nil && a.mq.rawPub != nil
}

// Store returns the store the service runs on.
func (a *App) Store() Store { return a.store }

// TilesReady is closed when the low-zoom tile aggregates are built.
func (a *App) TilesReady() <-chan struct{} { return a.tilesReady }

// Start starts the background work: the tile aggregates, the MQTT
// subscriber, the sweeper and the notifier. They stop when ctx is done.
// The API is ready (SetReady) at once: the aggregates build in the
// background chunk by chunk, each chunk holding the writes for a few
// milliseconds (writes flow between chunks); a tile asked for meanwhile
// does not wait: it is answered exactly from the components.
// TilesReady is closed when the build ends.
func (a *App) Start(ctx context.Context) error {
	go func() {
		defer close(a.tilesReady)
		start := time.Now()
		if err := a.Tiles.Build(ctx); err != nil {
			if ctx.Err() == nil {
				a.log.Error("tile aggregates", "err", err)
			}
			return
		}
		// The build's scratch (sorting buffers, the scan's batches) is
		// garbage now: hand it back to the system at once rather than
		// over the scavenger's minutes, so that RSS after start is what
		// the city needs.
		debug.FreeOSMemory()
		a.log.Info("tile aggregates built", "seconds", time.Since(start).Seconds())
	}()
	if a.mq != nil {
		if err := a.mq.start(ctx); err != nil {
			return err
		}
	}
	a.replica.start(ctx, a.Twin)
	go a.sweep(ctx)
	go a.Notifier.Run(ctx)
	a.API.SetReady(true)
	return nil
}

// Run starts the background work and serves HTTP on ln (on cfg.API.Addr
// when ln is nil) until ctx is done, then shuts down gracefully and
// checkpoints the last readings.
func (a *App) Run(ctx context.Context, ln net.Listener) error {
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", a.cfg.API.Addr); err != nil {
			return fmt.Errorf("app: %w", err)
		}
	}
	if err := a.Start(ctx); err != nil {
		ln.Close()
		return err
	}
	err := a.API.Serve(ctx, ln)
	if cerr := a.Twin.Checkpoint(context.Background()); cerr != nil && !errors.Is(cerr, twin.ErrReadOnly) {
		a.log.Warn("checkpoint of the last readings", "err", cerr)
	}
	return err
}

// sweep raises silence alarms and checkpoints the last readings.
func (a *App) sweep(ctx context.Context) {
	t := time.NewTicker(a.cfg.Sweep)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := a.Twin.Sweep(ctx); err != nil && ctx.Err() == nil {
			a.log.Warn("sensor sweep", "err", err)
		}
	}
}

// Close stops MQTT and closes the store. Call it after Run returned.
func (a *App) Close() {
	a.closeOnce.Do(func() {
		if a.mq != nil {
			a.mq.close()
		}
		if a.closeStore != nil {
			a.closeStore()
		}
	})
}
