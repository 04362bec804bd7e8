package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
)

// The replica tests run two `citytwin serve --pg` processes on one
// PostgreSQL schema. They need PostgreSQL (CITYTWIN_PG_URL, default
// postgres://postgres@127.0.0.1:5432/test) and fail without it: CI runs
// them. CITYTWIN_REPLICA_RUNS sets the rounds of the two-writer races
// (default 20; the proof is 100).

// pgBaseURL is the test database.
func pgBaseURL() string {
	if u := os.Getenv("CITYTWIN_PG_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

// pgSchema creates a schema of the test's own (dropped at its end) and
// returns the URL whose search_path selects it, and a connection to it.
func pgSchema(t *testing.T) (string, *pgx.Conn) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pgBaseURL())
	if err != nil {
		t.Fatalf("PostgreSQL at CITYTWIN_PG_URL is required by the replica tests: %v", err)
	}
	schema := fmt.Sprintf("citytwin_e2e_%d_%d", os.Getpid(), time.Now().UnixNano())
	if _, err := conn.Exec(ctx, `CREATE SCHEMA `+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := conn.Exec(context.Background(), `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
		conn.Close(context.Background())
	})
	if _, err := conn.Exec(ctx, `SET search_path TO `+schema+`, public`); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(pgBaseURL())
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema+",public")
	u.RawQuery = q.Encode()
	return u.String(), conn
}

// pgCity generates a small city, copies it into a fresh schema and makes
// an admin token: the URL, a connection to the schema and the token.
func pgCity(t *testing.T) (string, *pgx.Conn, string) {
	t.Helper()
	u, conn := pgSchema(t)
	city := genCity(t, 2000, 40)
	if out, err := exec.Command(binary(t), "copy", "--data", city, "--pg", u).CombinedOutput(); err != nil {
		t.Fatalf("copy: %v\n%s", err, out)
	}
	out, err := exec.Command(binary(t), "token", "create", "--role", "admin", "--pg", u).Output()
	if err != nil {
		t.Fatalf("token create: %v\n%s", err, out)
	}
	f := strings.Fields(strings.TrimSpace(string(out)))
	return u, conn, f[len(f)-1]
}

// servePG starts a replica on the database at u; tok is the token its
// reads use (partOn).
func servePG(t *testing.T, u, tok string) *replicaServer {
	t.Helper()
	return &replicaServer{server: serve(t, "--pg", u, "--no-mqtt", "--rate-limit", "0"), token: tok}
}

// replicaServer is a replica and the token its reads use.
type replicaServer struct {
	*server
	token string
}

// answer is an HTTP answer.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request (safe from any goroutine: it returns errors).
func do(method, u, tok, ifMatch string, body any) (answer, error) {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return answer{}, err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, u, r)
	if err != nil {
		return answer{}, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	if ifMatch != "" {
		req.Header.Set("If-Match", ifMatch)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, header: resp.Header, body: b}, err
}

// partOn reads a component from a replica as an admin (the public does
// not see notes): its version and properties.
func partOn(s *replicaServer, code string) (uint64, map[string]any, error) {
	a, err := do("GET", s.base+"/parts/"+code, s.token, "", nil)
	if err != nil {
		return 0, nil, err
	}
	if a.status != 200 {
		return 0, nil, fmt.Errorf("GET /parts/%s: %d %s", code, a.status, a.body)
	}
	v, err := strconv.ParseUint(strings.Trim(a.header.Get("ETag"), `W/"`), 10, 64)
	if err != nil {
		return 0, nil, err
	}
	var f struct {
		Properties map[string]any `json:"properties"`
		Geometry   struct {
			Coordinates json.RawMessage `json:"coordinates"`
		} `json:"geometry"`
	}
	if err := json.Unmarshal(a.body, &f); err != nil {
		return 0, nil, err
	}
	if f.Properties == nil {
		f.Properties = map[string]any{}
	}
	f.Properties["_coordinates"] = string(f.Geometry.Coordinates)
	return v, f.Properties, nil
}

// waitVersion waits up to within for s to hold code at version v or later.
func waitVersion(t *testing.T, s *replicaServer, code string, v uint64, within time.Duration) map[string]any {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		got, props, err := partOn(s, code)
		if err == nil && got >= v {
			return props
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %s not at version %d within %v (at %d, %v)", s.base, code, v, within, got, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// someCodes returns n live component codes of the city, in code order.
func someCodes(t *testing.T, conn *pgx.Conn, n int) []string {
	t.Helper()
	rows, err := conn.Query(context.Background(), `SELECT code FROM parts WHERE NOT retired AND GeometryType(geom) = 'POINT' ORDER BY code LIMIT $1`, n)
	if err != nil {
		t.Fatal(err)
	}
	codes, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(codes) < n {
		t.Fatalf("codes: %v (%d)", err, len(codes))
	}
	return codes
}

// storedPart is the version and name of a component in the database.
func storedPart(t *testing.T, conn *pgx.Conn, code string) (uint64, string, string) {
	t.Helper()
	var v int64
	var name, note string
	if err := conn.QueryRow(context.Background(), `SELECT version, coalesce(name, ''), coalesce(note, '') FROM parts WHERE code = $1`, code).Scan(&v, &name, &note); err != nil {
		t.Fatal(err)
	}
	return uint64(v), name, note
}

func replicaRuns() int {
	if n, err := strconv.Atoi(os.Getenv("CITYTWIN_REPLICA_RUNS")); err == nil && n > 0 {
		return n
	}
	return 20
}

func patchBody(props map[string]any) map[string]any {
	return map[string]any{"type": "Feature", "properties": props}
}

// TestReplicaTwoWritersRace: two replicas PATCH the same component from
// the same version at once: exactly one 2xx and one 412, and the database
// holds the winner's edit.
func TestReplicaTwoWritersRace(t *testing.T) {
	u, conn, tok := pgCity(t)
	a, b := servePG(t, u, tok), servePG(t, u, tok)
	code := someCodes(t, conn, 1)[0]
	for i := range replicaRuns() {
		v, _, _ := storedPart(t, conn, code)
		waitVersion(t, a, code, v, 2*time.Second)
		waitVersion(t, b, code, v, 2*time.Second)
		tag := fmt.Sprintf(`"%d"`, v)
		var wg sync.WaitGroup
		res := make([]answer, 2)
		errs := make([]error, 2)
		start := make(chan struct{})
		for j, s := range []*replicaServer{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				res[j], errs[j] = do("PATCH", s.base+"/parts/"+code, tok, tag, patchBody(map[string]any{"name": fmt.Sprintf("round %d replica %d", i, j)}))
			}()
		}
		close(start)
		wg.Wait()
		for j := range errs {
			if errs[j] != nil {
				t.Fatal(errs[j])
			}
		}
		ok, lost := -1, -1
		for j, r := range res {
			switch {
			case r.status/100 == 2:
				ok = j
			case r.status == http.StatusPreconditionFailed:
				lost = j
			}
		}
		if ok < 0 || lost < 0 {
			t.Fatalf("round %d: answers %d %s and %d %s, want one 2xx and one 412", i, res[0].status, res[0].body, res[1].status, res[1].body)
		}
		sv, name, _ := storedPart(t, conn, code)
		if want := fmt.Sprintf("round %d replica %d", i, ok); name != want || sv != v+1 {
			t.Fatalf("round %d: the database holds %q at version %d, want the winner's %q at %d", i, name, sv, want, v+1)
		}
	}
}

// TestReplicaSQLRacesPatch: an UPDATE by hand races a PATCH; the PATCH
// either wins (and the UPDATE lands on top of it) or answers 412: no edit
// is lost, and the replicas end as the database.
func TestReplicaSQLRacesPatch(t *testing.T) {
	u, conn, tok := pgCity(t)
	a, b := servePG(t, u, tok), servePG(t, u, tok)
	code := someCodes(t, conn, 1)[0]
	sqlConn, err := pgx.Connect(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	defer sqlConn.Close(context.Background())
	wins, losses := 0, 0
	for i := range replicaRuns() {
		v, _, _ := storedPart(t, conn, code)
		waitVersion(t, a, code, v, 2*time.Second)
		var wg sync.WaitGroup
		var res answer
		var perr, serr error
		start := make(chan struct{})
		wg.Add(2)
		go func() {
			defer wg.Done()
			<-start
			res, perr = do("PATCH", a.base+"/parts/"+code, tok, fmt.Sprintf(`"%d"`, v), patchBody(map[string]any{"name": fmt.Sprintf("patch %d", i)}))
		}()
		go func() {
			defer wg.Done()
			<-start
			_, serr = sqlConn.Exec(context.Background(), `UPDATE parts SET note = $2 WHERE code = $1`, code, fmt.Sprintf("sql %d", i))
		}()
		close(start)
		wg.Wait()
		if perr != nil || serr != nil {
			t.Fatal(perr, serr)
		}
		sv, name, note := storedPart(t, conn, code)
		if note != fmt.Sprintf("sql %d", i) {
			t.Fatalf("round %d: the UPDATE was lost: note %q", i, note)
		}
		switch res.status {
		case 200:
			wins++
			if name != fmt.Sprintf("patch %d", i) || sv != v+2 {
				t.Fatalf("round %d: PATCH acknowledged but the database holds %q at version %d (want version %d)", i, name, sv, v+2)
			}
		case http.StatusPreconditionFailed:
			losses++
			if name == fmt.Sprintf("patch %d", i) || sv != v+1 {
				t.Fatalf("round %d: PATCH refused but the database holds %q at version %d", i, name, sv)
			}
		default:
			t.Fatalf("round %d: PATCH answered %d %s", i, res.status, res.body)
		}
		// Both replicas reach the database's state within a second.
		for _, s := range []*replicaServer{a, b} {
			props := waitVersion(t, s, code, sv, time.Second)
			if props["note"] != note {
				t.Fatalf("round %d: %s holds note %v, the database %q", i, s.base, props["note"], note)
			}
		}
	}
	t.Logf("PATCH won %d rounds, the UPDATE %d", wins, losses)
}

// TestReplicaVisibility: an edit through A is in a query and a tile of B
// within a second; an UPDATE and an INSERT by hand reach both.
func TestReplicaVisibility(t *testing.T) {
	u, conn, tok := pgCity(t)
	a, b := servePG(t, u, tok), servePG(t, u, tok)
	codes := someCodes(t, conn, 3)
	ctx := context.Background()

	// The tile of the first component on B, cached before the edit.
	var lon, lat float64
	if err := conn.QueryRow(ctx, `SELECT ST_X(geom), ST_Y(geom) FROM parts WHERE code = $1`, codes[0]).Scan(&lon, &lat); err != nil {
		t.Fatal(err)
	}
	tile := maptile.At(orb.Point{lon, lat}, 16)
	tileURL := fmt.Sprintf("%s/tiles/parts/%d/%d/%d.mvt", b.base, tile.Z, tile.X, tile.Y)
	before, err := do("GET", tileURL, "", "", nil)
	if err != nil || before.status != 200 {
		t.Fatalf("tile: %v %d", err, before.status)
	}
	v, props, err := partOn(a, codes[0])
	if err != nil {
		t.Fatal(err)
	}
	state := "damaged"
	if props["state"] == "破损" {
		state = "occupied"
	}
	start := time.Now()
	r, err := do("PATCH", a.base+"/parts/"+codes[0], tok, fmt.Sprintf(`"%d"`, v), patchBody(map[string]any{"state": state}))
	if err != nil || r.status != 200 {
		t.Fatalf("PATCH: %v %d %s", err, r.status, r.body)
	}
	waitVersion(t, b, codes[0], v+1, time.Second)
	for {
		after, err := do("GET", tileURL, "", "", nil)
		if err != nil {
			t.Fatal(err)
		}
		if after.header.Get("ETag") != before.header.Get("ETag") && !bytes.Equal(after.body, before.body) {
			break
		}
		if time.Since(start) > time.Second {
			t.Fatalf("the tile on B did not change within a second of the edit on A")
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Logf("edit on A in a query and a tile of B after %v", time.Since(start))

	// An UPDATE and an INSERT by hand.
	if _, err := conn.Exec(ctx, `UPDATE parts SET name = 'by hand' WHERE code = $1`, codes[1]); err != nil {
		t.Fatal(err)
	}
	newCode := codes[2][:10] + "999999"
	if _, err := conn.Exec(ctx, `INSERT INTO parts (code, class, name, state, dept_owner, geom)
SELECT $1, class, 'inserted by hand', state, dept_owner, ST_Translate(geom, 0.0001, 0) FROM parts WHERE code = $2`, newCode, codes[2]); err != nil {
		t.Fatal(err)
	}
	sv, _, _ := storedPart(t, conn, codes[1])
	for _, s := range []*replicaServer{a, b} {
		if p := waitVersion(t, s, codes[1], sv, time.Second); p["name"] != "by hand" {
			t.Errorf("%s: UPDATE by hand not applied: %v", s.base, p["name"])
		}
		if p := waitVersion(t, s, newCode, 1, time.Second); p["name"] != "inserted by hand" {
			t.Errorf("%s: INSERT by hand not applied: %v", s.base, p["name"])
		}
	}
	// The inserted component is found by a query on the other replica.
	if err := conn.QueryRow(ctx, `SELECT ST_X(geom), ST_Y(geom) FROM parts WHERE code = $1`, newCode).Scan(&lon, &lat); err != nil {
		t.Fatal(err)
	}
	ans, err := do("GET", fmt.Sprintf("%s/parts/nearest?lon=%f&lat=%f&k=3", b.base, lon, lat), "", "", nil)
	if err != nil || !bytes.Contains(ans.body, []byte(newCode)) {
		t.Errorf("nearest on B does not find the inserted component: %v %s", err, ans.body)
	}
	// /readyz and /metrics say where the feed stands.
	ready, err := do("GET", b.base+"/readyz", "", "", nil)
	if err != nil || ready.status != 200 || !bytes.Contains(ready.body, []byte(`"position"`)) {
		t.Errorf("/readyz: %v %d %s", err, ready.status, ready.body)
	}
	m, err := do("GET", b.base+"/metrics", "", "", nil)
	if err != nil || !bytes.Contains(m.body, []byte("citytwin_feed_lag_changes")) || !bytes.Contains(m.body, []byte("citytwin_store_up 1")) {
		t.Errorf("/metrics lacks the feed's lag or the store's state: %v", err)
	}
}

// editLoop PATCHes codes round-robin through s until stop is closed and
// returns the versions it saw acknowledged, by code.
func editLoop(s *replicaServer, tok string, codes []string, stop <-chan struct{}, failures *atomic.Int64) map[string]uint64 {
	acked := map[string]uint64{}
	for i := 0; ; i++ {
		select {
		case <-stop:
			return acked
		default:
		}
		code := codes[i%len(codes)]
		r, err := do("PATCH", s.base+"/parts/"+code, tok, "", patchBody(map[string]any{"note": fmt.Sprintf("edit %d", i)}))
		if err != nil || r.status != 200 {
			failures.Add(1)
			time.Sleep(20 * time.Millisecond)
			continue
		}
		v, _ := strconv.ParseUint(strings.Trim(r.header.Get("ETag"), `W/"`), 10, 64)
		acked[code] = max(acked[code], v)
		time.Sleep(2 * time.Millisecond)
	}
}

// TestReplicaRestartCatchesUp: B restarted while edits go on through A
// ends with every edit.
func TestReplicaRestartCatchesUp(t *testing.T) {
	u, conn, tok := pgCity(t)
	a, b := servePG(t, u, tok), servePG(t, u, tok)
	codes := someCodes(t, conn, 20)
	stop := make(chan struct{})
	var failures atomic.Int64
	done := make(chan map[string]uint64)
	go func() { done <- editLoop(a, tok, codes, stop, &failures) }()
	time.Sleep(300 * time.Millisecond)
	b.kill(t)
	time.Sleep(300 * time.Millisecond)
	b = servePG(t, u, tok) // loads while the edits go on
	time.Sleep(500 * time.Millisecond)
	close(stop)
	acked := <-done
	if failures.Load() > 0 {
		t.Errorf("%d edits failed on A", failures.Load())
	}
	if len(acked) == 0 {
		t.Fatal("no edit acknowledged")
	}
	for _, code := range codes {
		sv, _, note := storedPart(t, conn, code)
		if sv < acked[code] {
			t.Fatalf("%s: acknowledged at version %d, the database holds %d", code, acked[code], sv)
		}
		if p := waitVersion(t, b, code, sv, time.Second); p["note"] != note {
			t.Errorf("%s: restarted B holds note %v, the database %q", code, p["note"], note)
		}
	}
}

// TestReplicaFault: the database refuses the replicas' role and its
// connections are killed while they serve and edit: reads never fail,
// writes answer 503 (with Retry-After) and then work again; no
// acknowledged edit is missing, and both replicas end as the database.
func TestReplicaFault(t *testing.T) {
	u, conn, tok := pgCity(t)
	ctx := context.Background()
	role := fmt.Sprintf("citytwin_fault_%d", os.Getpid())
	if _, err := conn.Exec(ctx, `CREATE ROLE `+role+` LOGIN SUPERUSER`); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = conn.Exec(context.Background(), `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1`, role)
		if _, err := conn.Exec(context.Background(), `DROP ROLE `+role); err != nil {
			t.Logf("drop role: %v", err)
		}
	})
	ru, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	ru.User = url.User(role)
	a, b := servePG(t, ru.String(), tok), servePG(t, ru.String(), tok)
	codes := someCodes(t, conn, 20)

	stop := make(chan struct{})
	var readFailures, reads atomic.Int64
	var wg sync.WaitGroup
	for _, s := range []*replicaServer{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				path := "/parts/" + codes[i%len(codes)]
				if i%2 == 1 {
					path = "/parts?bbox=103.8,30.4,104.4,30.9&limit=10"
				}
				r, err := do("GET", s.base+path, "", "", nil)
				reads.Add(1)
				if err != nil || r.status != 200 {
					readFailures.Add(1)
				}
				time.Sleep(2 * time.Millisecond)
			}
		}()
	}
	var writeFailures atomic.Int64
	done := make(chan map[string]uint64)
	go func() { done <- editLoop(a, tok, codes, stop, &writeFailures) }()
	time.Sleep(300 * time.Millisecond)

	// The fault: no new connections of the role, and its live ones killed.
	if _, err := conn.Exec(ctx, `ALTER ROLE `+role+` NOLOGIN`); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1`, role); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	var refused answer
	for {
		r, err := do("PATCH", b.base+"/parts/"+codes[0], tok, "", patchBody(map[string]any{"label": "during the fault"}))
		if err != nil {
			t.Fatal(err)
		}
		if r.status == http.StatusServiceUnavailable {
			refused = r
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("writes still answer %d %s with the database refusing connections", r.status, r.body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	var prob map[string]any
	if err := json.Unmarshal(refused.body, &prob); err != nil || refused.header.Get("Retry-After") == "" || prob["reason"] == nil ||
		!strings.HasPrefix(refused.header.Get("Content-Type"), "application/problem+json") {
		t.Errorf("a refused write: %v, Retry-After %q, %s; want a problem with a reason and Retry-After", err, refused.header.Get("Retry-After"), refused.body)
	}
	ready, err := do("GET", b.base+"/readyz", "", "", nil)
	if err != nil || ready.status != http.StatusServiceUnavailable || !bytes.Contains(ready.body, []byte(`"reads":"served"`)) {
		t.Errorf("/readyz with the store down: %v %d %s", err, ready.status, ready.body)
	}
	time.Sleep(500 * time.Millisecond)

	if _, err := conn.Exec(ctx, `ALTER ROLE `+role+` LOGIN`); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(15 * time.Second)
	for {
		r, err := do("PATCH", b.base+"/parts/"+codes[1], tok, "", patchBody(map[string]any{"label": "after the fault"}))
		if err != nil {
			t.Fatal(err)
		}
		if r.status == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("writes did not recover: %d %s", r.status, r.body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	close(stop)
	acked := <-done
	wg.Wait()
	if readFailures.Load() > 0 {
		t.Errorf("%d of %d reads failed during the fault", readFailures.Load(), reads.Load())
	}
	t.Logf("%d reads, none failed; %d writes refused during the fault", reads.Load(), writeFailures.Load())
	for _, code := range codes {
		sv, _, note := storedPart(t, conn, code)
		if sv < acked[code] {
			t.Fatalf("%s: acknowledged at version %d, the database holds %d", code, acked[code], sv)
		}
		for _, s := range []*replicaServer{a, b} {
			if p := waitVersion(t, s, code, sv, 10*time.Second); p["note"] != note {
				t.Errorf("%s: %s holds note %v, the database %q", code, s.base, p["note"], note)
			}
		}
	}
	if r, err := do("GET", b.base+"/readyz", "", "", nil); err != nil || r.status != 200 {
		t.Errorf("/readyz after the fault: %v %d", err, r.status)
	}
}
