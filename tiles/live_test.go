package tiles_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/maptile"

	"citytwin/incidents"
	"citytwin/parts"
	"citytwin/sensors"
	"citytwin/tiles"
)

// liveCity is a LiveSource in memory: sensors at fixed places and cases.
type liveCity struct {
	now   time.Time
	eng   *sensors.Engine
	book  *incidents.Book
	place map[sensors.ID]orb.Point
}

func (c *liveCity) Now() time.Time           { return c.now }
func (c *liveCity) Sensors() *sensors.Engine { return c.eng }
func (c *liveCity) Cases() *incidents.Book   { return c.book }
func (c *liveCity) SearchSensors(ctx context.Context, b orb.Bound, fn func(sensors.ID, orb.Point) bool) error {
	for id, p := range c.place {
		if b.Contains(p) && !fn(id, p) {
			break
		}
	}
	return ctx.Err()
}

var liveT0 = time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)

func newLiveCity(t *testing.T) *liveCity {
	t.Helper()
	c := &liveCity{now: liveT0, book: incidents.NewBook(), place: map[sensors.ID]orb.Point{}}
	c.eng = sensors.NewEngine(sensors.Options{Now: func() time.Time { return c.now }})
	return c
}

// addSensor binds a gas sensor (alarm above 25) at p.
func (c *liveCity) addSensor(t *testing.T, id string, p orb.Point) {
	t.Helper()
	above, clear := 25.0, 20.0
	code, err := parts.ParseCode("5101040111000001")
	if err != nil {
		t.Fatal(err)
	}
	c.eng.Put(sensors.Sensor{ID: sensors.ID(id), Kind: "cover_gas", Unit: "%LEL", Code: code,
		Rules: []sensors.Rule{{Kind: "threshold", Above: &above, ClearBelow: &clear}}, Version: 1})
	c.place[sensors.ID(id)] = p
}

// read evaluates a reading and commits its transitions.
func (c *liveCity) read(t *testing.T, id string, v float64) {
	t.Helper()
	c.now = c.now.Add(time.Second)
	ts, err := c.eng.Evaluate(sensors.Reading{Sensor: sensors.ID(id), Value: v, Time: c.now}, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.eng.Commit(ts)
}

func (c *liveCity) addCase(t *testing.T, p orb.Point, state incidents.State, due time.Time) incidents.ID {
	t.Helper()
	id, err := incidents.NewID(c.now, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	c.book.Put(incidents.Case{ID: id, Version: 1, Source: incidents.SourceInspector, Type: incidents.TypeEvent, Class: "illegal_parking",
		Location: p, Dept: "traffic", State: state, Reported: c.now, Due: due})
	return id
}

// decode returns the features of layer in a gzipped tile.
func decode(t *testing.T, tile tiles.Tile, layer string) []map[string]any {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(tile.Data))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	ls, err := mvt.Unmarshal(raw)
	if err != nil {
		t.Fatalf("not an MVT: %v", err)
	}
	var out []map[string]any
	for _, l := range ls {
		if l.Name != layer {
			t.Errorf("layer %q in a %s tile", l.Name, layer)
		}
		for _, f := range l.Features {
			if _, ok := f.Geometry.(orb.Point); !ok {
				t.Errorf("feature geometry %T, want a point", f.Geometry)
			}
			out = append(out, f.Properties)
		}
	}
	return out
}

var centre = orb.Point{104.06, 30.66}

func centreTile() maptile.Tile { return maptile.At(centre, 14) }

func byID(fs []map[string]any) map[string]map[string]any {
	m := map[string]map[string]any{}
	for _, f := range fs {
		m[fmt.Sprint(f["id"])] = f
	}
	return m
}

func TestLiveLayers(t *testing.T) {
	ctx := context.Background()
	c := newLiveCity(t)
	c.addSensor(t, "gas-1", centre)
	c.addSensor(t, "gas-2", orb.Point{centre[0] + 0.001, centre[1]})
	c.addSensor(t, "gas-3", orb.Point{centre[0] + 0.002, centre[1]})
	c.read(t, "gas-1", 40) // alarm
	c.read(t, "gas-2", 5)  // online, normal
	overdue := c.addCase(t, centre, incidents.StateDispatched, liveT0.Add(-time.Hour))
	onTime := c.addCase(t, orb.Point{centre[0] + 0.001, centre[1]}, incidents.StateRegistered, liveT0.Add(time.Hour))
	c.addCase(t, centre, incidents.StateClosed, liveT0.Add(-time.Hour)) // closed: not shown
	l := tiles.NewLive(c, tiles.LiveOptions{})

	cases := map[string]struct {
		layer string
		check func(t *testing.T, fs map[string]map[string]any)
	}{
		"sensors by alarm state": {tiles.LayerSensors, func(t *testing.T, fs map[string]map[string]any) {
			want := map[string][2]any{"gas-1": {"open", true}, "gas-2": {"none", true}, "gas-3": {"none", false}}
			if len(fs) != len(want) {
				t.Fatalf("%d sensors, want %d: %v", len(fs), len(want), fs)
			}
			for id, w := range want {
				if f := fs[id]; f["alarm"] != w[0] || f["online"] != w[1] || f["kind"] != "cover_gas" || f["code"] != "5101040111000001" {
					t.Errorf("sensor %s = %v, want alarm %v online %v", id, f, w[0], w[1])
				}
			}
		}},
		"open alarms": {tiles.LayerAlarms, func(t *testing.T, fs map[string]map[string]any) {
			f, ok := fs["gas-1#0"]
			if len(fs) != 1 || !ok {
				t.Fatalf("alarms %v, want gas-1#0 alone", fs)
			}
			if f["rule_kind"] != "threshold" || f["kind"] != "cover_gas" || f["count"] != float64(1) || f["raised"] == "" {
				t.Errorf("alarm = %v", f)
			}
		}},
		"open cases with overdue": {tiles.LayerIncidents, func(t *testing.T, fs map[string]map[string]any) {
			if len(fs) != 2 {
				t.Fatalf("%d cases, want the 2 open ones: %v", len(fs), fs)
			}
			if f := fs[string(overdue)]; f["overdue"] != true || f["state"] != "dispatched" || f["dept"] != "traffic" || f["source"] != "inspector" {
				t.Errorf("overdue case = %v", f)
			}
			if f := fs[string(onTime)]; f["overdue"] != false || f["supervised"] != false || f["class"] != "illegal_parking" {
				t.Errorf("on-time case = %v", f)
			}
		}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			tile, err := l.Encode(ctx, tc.layer, centreTile())
			if err != nil {
				t.Fatal(err)
			}
			if tile.ETag == "" {
				t.Error("no ETag")
			}
			tc.check(t, byID(decode(t, tile, tc.layer)))
		})
	}

	// An empty tile far away is empty, not an error.
	empty, err := l.Encode(ctx, tiles.LayerSensors, maptile.At(orb.Point{0, 0}, 14))
	if err != nil || len(decode(t, empty, tiles.LayerSensors)) != 0 {
		t.Errorf("far tile: %v, %d bytes", err, len(empty.Data))
	}
	if _, err := l.Encode(ctx, "parts", centreTile()); err == nil {
		t.Error("parts is not a live layer, yet Encode took it")
	}
}

// TestLiveGeneration: a tile is reused while its layer's generation holds
// and for at most MaxAge; Touch makes the next tile fresh at once.
func TestLiveGeneration(t *testing.T) {
	ctx := context.Background()
	c := newLiveCity(t)
	c.addSensor(t, "gas-1", centre)
	l := tiles.NewLive(c, tiles.LiveOptions{MaxAge: time.Second})
	before, err := l.Encode(ctx, tiles.LayerAlarms, centreTile())
	if err != nil {
		t.Fatal(err)
	}
	c.read(t, "gas-1", 40) // raises, 1 s later on the fake clock
	c.now = c.now.Add(-time.Second)
	cached, _ := l.Encode(ctx, tiles.LayerAlarms, centreTile())
	if cached.ETag != before.ETag {
		t.Fatal("an unchanged generation within MaxAge encoded the tile again")
	}
	g := l.Generation(tiles.LayerAlarms)
	l.Touch(tiles.LayerAlarms)
	if l.Generation(tiles.LayerAlarms) != g+1 || l.Generation(tiles.LayerIncidents) != 0 {
		t.Fatal("Touch bumped the wrong generation")
	}
	after, _ := l.Encode(ctx, tiles.LayerAlarms, centreTile())
	if after.ETag == before.ETag || len(decode(t, after, tiles.LayerAlarms)) != 1 {
		t.Fatalf("after Touch the alarm is not in the tile (ETag %s -> %s)", before.ETag, after.ETag)
	}
	// Time alone refreshes a tile after MaxAge (online, overdue).
	c.now = c.now.Add(time.Second)
	c.read(t, "gas-1", 10) // clears without a Touch
	c.now = c.now.Add(2 * time.Second)
	aged, _ := l.Encode(ctx, tiles.LayerAlarms, centreTile())
	if len(decode(t, aged, tiles.LayerAlarms)) != 0 {
		t.Error("a tile older than MaxAge was reused")
	}
}

// TestLiveBounded: above MaxFeatures the points are clustered; the clusters
// account for every point and the alarmed sensor stands for its cluster.
func TestLiveBounded(t *testing.T) {
	c := newLiveCity(t)
	for i := range 400 {
		c.addSensor(t, fmt.Sprintf("s-%03d", i), orb.Point{centre[0] + float64(i%20)*0.0005, centre[1] + float64(i/20)*0.0005})
	}
	c.read(t, "s-210", 40)
	l := tiles.NewLive(c, tiles.LiveOptions{MaxFeatures: 50})
	tile, err := l.Encode(context.Background(), tiles.LayerSensors, maptile.At(centre, 8))
	if err != nil {
		t.Fatal(err)
	}
	fs := decode(t, tile, tiles.LayerSensors)
	total, alarmed := 0.0, 0
	for _, f := range fs {
		total += f["point_count"].(float64)
		if f["alarm"] == "open" {
			alarmed++
		}
	}
	if len(fs) > 50 || len(fs) == 0 {
		t.Errorf("%d features, want 1..50", len(fs))
	}
	if total != 400 {
		t.Errorf("clusters stand for %v points, want 400", total)
	}
	if alarmed != 1 {
		t.Errorf("%d alarmed features, want the one alarmed sensor kept", alarmed)
	}
}
