package bench_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"citytwin/app"
	"citytwin/grid"
	"citytwin/parts"
	"citytwin/store/postgis"
	"citytwin/synth"
	"citytwin/tokens"
	"citytwin/twin"
)

// BenchmarkReplica measures the replicas of issue 10 on a city of
// CITYTWIN_BENCH_N components (default 2,000,000) copied into a schema of
// its own (dropped at the end): start-up from PostGIS to ready, edits
// acknowledged per second from 16 HTTP clients, replication lag between
// two replicas at 500 edits/s, and the catch-up of 100,000 changes made
// while a follower did not read. Run:
//
//	go test -run '^$' -bench Replica -benchtime 1x -timeout 30m ./bench
func BenchmarkReplica(b *testing.B) {
	n := envInt(b, "CITYTWIN_BENCH_N", 2000000)
	ctx := context.Background()
	u := replicaSchema(b)

	// The city, copied once.
	o := synth.DefaultOptions()
	o.Components = n
	o.Grids = max(16000*n/2000000, 64)
	sink := &replicaSink{}
	if err := synth.Generate(ctx, o, parts.DefaultCatalogue(), sink, nil); err != nil {
		b.Fatal(err)
	}
	st, err := postgis.Open(ctx, u)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	t0 := time.Now()
	_, err = st.CopyDivisions(ctx, slices.Values(sink.divisions))
	if err == nil {
		_, err = st.CopyGrids(ctx, slices.Values(sink.grids))
	}
	if err == nil {
		_, err = st.CopyParts(ctx, slices.Values(sink.parts))
	}
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("copied %d components, %d grids in %.1f s", n, len(sink.grids), time.Since(t0).Seconds())
	secret, _, err := tokens.Issue(ctx, st, tokens.Admin, "", time.Now())
	if err != nil {
		b.Fatal(err)
	}
	codes := make([]parts.Code, 0, 20000)
	for _, p := range sink.parts {
		if !p.Retired && len(codes) < cap(codes) {
			codes = append(codes, p.Code)
		}
	}
	sink.parts = nil

	for b.Loop() {
		// 1. Start-up: PostGIS to ready, twice (two replicas).
		cfg := app.DefaultConfig()
		cfg.PG = u
		cfg.MQTT.Off = true
		cfg.API.RateLimit.PerSecond = 0
		cfg.API.AccessLog = false
		runCtx, stop := context.WithCancel(ctx)
		start := time.Now()
		a, err := app.New(ctx, cfg)
		if err != nil {
			b.Fatal(err)
		}
		load := time.Since(start)
		if err := a.Start(runCtx); err != nil {
			b.Fatal(err)
		}
		bb, err := app.New(ctx, cfg)
		if err != nil {
			b.Fatal(err)
		}
		if err := bb.Start(runCtx); err != nil {
			b.Fatal(err)
		}
		<-a.TilesReady()
		<-bb.TilesReady()
		b.ReportMetric(load.Seconds(), "startup-s")

		// 2. Edits acknowledged per second from 16 HTTP clients.
		srv := httptest.NewServer(a.API.Handler())
		var ok, failed atomic.Int64
		var wg sync.WaitGroup
		dur := envDuration(b, "CITYTWIN_BENCH_EDIT_TIME", 10*time.Second)
		deadline := time.Now().Add(dur)
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
		for w := range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; time.Now().Before(deadline); i++ {
					code := codes[(w*1000+i)%len(codes)]
					body := fmt.Sprintf(`{"type":"Feature","properties":{"note":"bench %d %d"}}`, w, i)
					req, _ := http.NewRequest("PATCH", srv.URL+"/parts/"+code.String(), bytes.NewReader([]byte(body)))
					req.Header.Set("Content-Type", "application/json")
					req.Header.Set("Authorization", "Bearer "+secret)
					resp, err := client.Do(req)
					if err != nil {
						failed.Add(1)
						continue
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode == 200 {
						ok.Add(1)
					} else {
						failed.Add(1)
					}
				}
			}()
		}
		wg.Wait()
		srv.Close()
		b.ReportMetric(float64(ok.Load())/dur.Seconds(), "edits/s")
		b.ReportMetric(float64(failed.Load()), "edit-failures")
		waitCaughtUp(b, bb)

		// 3. Replication lag A -> B at 500 edits/s.
		var mu sync.Mutex
		acked := map[parts.Code]time.Time{}
		var lags []time.Duration
		bb.Twin.OnChange(func(c twin.Change) {
			if c.NewPart == nil {
				return
			}
			now := time.Now()
			mu.Lock()
			if t, ok := acked[c.NewPart.Code]; ok {
				lags = append(lags, now.Sub(t))
				delete(acked, c.NewPart.Code)
			}
			mu.Unlock()
		})
		rate := 500
		edits := rate * int(envDuration(b, "CITYTWIN_BENCH_LAG_TIME", 10*time.Second)/time.Second)
		tick := time.NewTicker(time.Second / time.Duration(rate))
		for i := range edits {
			<-tick.C
			code := codes[(i*7919)%len(codes)]
			// The ack time is taken before the write returns: B may
			// apply it before UpdatePart returns on A.
			_, err := a.Twin.UpdatePart(ctx, code, 0, func(p *parts.Part) error {
				p.Note = fmt.Sprintf("lag %d", i)
				mu.Lock()
				acked[code] = time.Now()
				mu.Unlock()
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		}
		tick.Stop()
		time.Sleep(time.Second)
		mu.Lock()
		sort.Slice(lags, func(i, j int) bool { return lags[i] < lags[j] })
		if len(lags) > 0 {
			b.ReportMetric(float64(lags[len(lags)/2].Microseconds())/1000, "lag-p50-ms")
			b.ReportMetric(float64(lags[len(lags)*99/100].Microseconds())/1000, "lag-p99-ms")
			b.ReportMetric(float64(lags[len(lags)-1].Microseconds())/1000, "lag-max-ms")
		}
		b.ReportMetric(float64(len(lags))/float64(edits), "lag-seen-fraction")
		mu.Unlock()

		// 4. Catch-up of 100,000 changes made while a follower did not
		// read: a follower over B's twin, then 100,000 rows updated.
		f, err := st.NewFollower(ctx, bb.Twin, postgis.FollowOptions{Batch: envInt(b, "CITYTWIN_BENCH_FEED_BATCH", 0)})
		if err != nil {
			b.Fatal(err)
		}
		stop() // A's and B's own followers stop: only f applies
		time.Sleep(100 * time.Millisecond)
		missed := min(100000, n)
		conn, err := pgx.Connect(ctx, u)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := conn.Exec(ctx, `UPDATE parts SET note = 'catch-up' WHERE code IN (SELECT code FROM parts WHERE NOT retired ORDER BY code LIMIT $1)`, missed); err != nil {
			b.Fatal(err)
		}
		conn.Close(ctx)
		// CPU as well as wall time: on a busy machine the wall time
		// says more of the neighbours than of the catch-up.
		cpu0, load0 := selfCPU(), loadAvg()
		start = time.Now()
		for {
			full, err := f.Sync(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if !full {
				break
			}
		}
		catchUp := time.Since(start)
		cpu := selfCPU() - cpu0
		fs := f.Status()
		b.ReportMetric(catchUp.Seconds(), "catchup-100k-s")
		b.ReportMetric(cpu.Seconds(), "catchup-cpu-s")
		b.Logf("catch-up: %.2f s wall, %.2f s CPU in this process, load %s", catchUp.Seconds(), cpu.Seconds(), load0)
		b.Logf("start-up %.2f s; %d edits/s acknowledged (%d failed); %d lag samples; catch-up of %d changes in %.2f s (applied %d, lag %d)",
			load.Seconds(), ok.Load()/int64(dur.Seconds()), failed.Load(), len(lags), missed, catchUp.Seconds(), fs.Applied, fs.Lag)
		a.Close()
		bb.Close()
	}
}

// waitCaughtUp waits until a's change feed has applied the whole log.
func waitCaughtUp(tb testing.TB, a *app.App) {
	deadline := time.Now().Add(60 * time.Second)
	for {
		fs, _ := a.Feed()
		if fs.Lag == 0 && fs.Gaps == 0 && !fs.LastRead.IsZero() {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("replica not caught up in 60 s: %+v", fs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// replicaSchema creates a schema for the benchmark, dropped at its end.
func replicaSchema(tb testing.TB) string {
	tb.Helper()
	base := os.Getenv("CITYTWIN_PG_URL")
	if base == "" {
		base = postgis.DefaultURL
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		tb.Fatalf("BenchmarkReplica needs PostgreSQL (CITYTWIN_PG_URL): %v", err)
	}
	schema := fmt.Sprintf("citytwin_bench_replica_%d", os.Getpid())
	if _, err := conn.Exec(ctx, `CREATE SCHEMA `+schema); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		_, _ = conn.Exec(context.Background(), `DROP SCHEMA `+schema+` CASCADE`)
		conn.Close(context.Background())
	})
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema+",public")
	u.RawQuery = q.Encode()
	return u.String()
}

type replicaSink struct {
	grids     []grid.Grid
	divisions []grid.Division
	parts     []parts.Part
}

func (s *replicaSink) AddGrids(gs []grid.Grid) error { s.grids = append(s.grids, gs...); return nil }
func (s *replicaSink) AddDivisions(ds []grid.Division) error {
	s.divisions = append(s.divisions, ds...)
	return nil
}
func (s *replicaSink) AddParts(ps []parts.Part) error { s.parts = append(s.parts, ps...); return nil }
