package live_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"citytwin/grid"
	"citytwin/parts"
	"citytwin/store/gpkg"
	"citytwin/store/postgis"
)

// BenchmarkCases posts reports from 16 clients on the GeoPackage store
// and on PostGIS (when CITYTWIN_PG_URL, or the local default, answers).
func BenchmarkCases(b *testing.B) {
	n := envInt(b, "CITYTWIN_BENCH_N", 2_000_000)
	path := cityFile(b, n)
	b.Run("gpkg", func(b *testing.B) {
		s := start(b, path, "")
		for b.Loop() {
			casesPerSecond(b, s)
		}
	})
	b.Run("postgis", func(b *testing.B) {
		pg := pgCity(b, path)
		s := start(b, "", pg)
		for b.Loop() {
			casesPerSecond(b, s)
		}
	})
}

// pgCity copies the city at path into a fresh schema and returns its URL.
func pgCity(b *testing.B, path string) string {
	ctx := context.Background()
	base := os.Getenv("CITYTWIN_PG_URL")
	if base == "" {
		base = postgis.DefaultURL
	}
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		b.Fatalf("PostgreSQL at CITYTWIN_PG_URL: %v", err)
	}
	defer conn.Close(ctx)
	schema := randomName("citytwin_bench_cases_")
	if _, err := conn.Exec(ctx, `CREATE SCHEMA `+schema); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), base)
		if err == nil {
			_, _ = c.Exec(context.Background(), `DROP SCHEMA `+schema+` CASCADE`)
			c.Close(context.Background())
		}
	})
	u, _ := url.Parse(base)
	q := u.Query()
	q.Set("search_path", schema+",public")
	u.RawQuery = q.Encode()
	dst, err := postgis.Open(ctx, u.String())
	if err != nil {
		b.Fatal(err)
	}
	defer dst.Close()
	if err := dst.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	src, err := gpkg.Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	var ds []grid.Division
	var gs []grid.Grid
	var ps []parts.Part
	err = src.LoadDivisions(ctx, func(d grid.Division) error { ds = append(ds, d); return nil })
	if err == nil {
		err = src.LoadGrids(ctx, func(g grid.Grid) error { gs = append(gs, g); return nil })
	}
	if err == nil {
		err = src.LoadParts(ctx, func(p parts.Part) error { ps = append(ps, p); return nil })
	}
	src.Close()
	if err != nil {
		b.Fatal(err)
	}
	if _, err := dst.CopyDivisions(ctx, sliceSeq(ds)); err != nil {
		b.Fatal(err)
	}
	if _, err := dst.CopyGrids(ctx, sliceSeq(gs)); err != nil {
		b.Fatal(err)
	}
	if _, err := dst.CopyParts(ctx, sliceSeq(ps)); err != nil {
		b.Fatal(err)
	}
	return u.String()
}

func sliceSeq[T any](s []T) func(func(T) bool) {
	return func(yield func(T) bool) {
		for _, v := range s {
			if !yield(v) {
				return
			}
		}
	}
}

// casesPerSecond posts inspector reports of random live components from
// 16 clients for CITYTWIN_BENCH_SECONDS and reports cases acknowledged per
// second, then how fast the outbox delivered their notifications.
func casesPerSecond(b *testing.B, s *service) {
	secs := envInt(b, "CITYTWIN_BENCH_SECONDS", 10)
	var codes []string
	i := 0
	s.app.Twin.Parts().Each(func(p parts.Part) bool {
		if i%97 == 0 && !p.Retired {
			codes = append(codes, p.Code.String())
		}
		i++
		return len(codes) < 200_000
	})
	delivered0 := s.app.Notifier.Stats().Delivered
	var created, merged, failed atomic.Int64
	var next atomic.Int64
	stop := time.Now().Add(time.Duration(secs) * time.Second)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 32}}
	start := time.Now()
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for time.Now().Before(stop) {
				code := codes[int(next.Add(1))%len(codes)]
				body := fmt.Sprintf(`{"code":%q,"source":"inspector","description":"bench"}`, code)
				req, _ := http.NewRequest("POST", s.base+"/incidents", bytes.NewReader([]byte(body)))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+s.admin)
				resp, err := client.Do(req)
				if err != nil {
					failed.Add(1)
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				switch resp.StatusCode {
				case 201:
					created.Add(1)
				case 200:
					merged.Add(1)
				default:
					failed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	el := time.Since(start).Seconds()
	acked := float64(created.Load()+merged.Load()) / el
	want := delivered0 + uint64(created.Load())
	deadline := time.Now().Add(2 * time.Minute)
	for s.app.Notifier.Stats().Delivered < want && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	delivered := float64(s.app.Notifier.Stats().Delivered-delivered0) / time.Since(start).Seconds()
	b.ReportMetric(acked, "cases/s")
	b.ReportMetric(delivered, "notified/s")
	b.Logf("%d cases created, %d merged, %d failed in %.1f s: %.0f cases/s acknowledged; notifications delivered %.0f/s (from the first report to the last delivery)",
		created.Load(), merged.Load(), failed.Load(), el, acked, delivered)
}
