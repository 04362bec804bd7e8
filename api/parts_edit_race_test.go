package api

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"citytwin/parts"
)

// Rights are checked inside the twin's write path, against the state the
// write applies to: two changes that each would be allowed alone never
// both pass when together they break the rights.

// TestPartChangesRightsRaceCreate: the water department modifies a code
// that does not exist yet while an admin creates it for lighting. The
// department's change queues behind the admin's on the write lock (held
// meanwhile with Twin.Exclusive): it must then see a lighting component and
// be refused (403), never be applied to it.
func TestPartChangesRightsRaceCreate(t *testing.T) {
	c := newCity(t)
	for i := range 5 {
		code := fmt.Sprintf("32050801010007%02d", i)
		lon, lat := pointAt(i)[0]+0.00002, pointAt(i)[1]
		admin := req{method: "POST", path: "/parts", token: "admin",
			body: pointFeature(code, lon, lat, map[string]any{"name": "照明井盖", "dept_owner": "lighting"})}
		water := req{method: "POST", path: "/parts/changes", token: "water", body: mustJSON(map[string]any{"changes": []any{
			map[string]any{"op": "modify", "feature": jsonValue(pointFeature(code, lon, lat, map[string]any{"name": "水务改名"}))},
		}})}

		held, release := make(chan struct{}), make(chan struct{})
		go c.twin.Exclusive(func() { close(held); <-release })
		<-held
		var wg sync.WaitGroup
		var adminStatus, waterStatus int
		wg.Go(func() { adminStatus = c.do(t, admin).Code })
		time.Sleep(30 * time.Millisecond) // the admin queues first
		wg.Go(func() { waterStatus = c.do(t, water).Code })
		time.Sleep(30 * time.Millisecond)
		close(release)
		wg.Wait()

		if adminStatus != http.StatusCreated {
			t.Fatalf("round %d: the admin's add answered %d", i, adminStatus)
		}
		p, err := c.twin.Parts().Get(mustCode(t, code))
		if err != nil {
			t.Fatal(err)
		}
		switch waterStatus {
		case http.StatusForbidden, http.StatusNotFound: // after the add, or before it
		default:
			t.Fatalf("round %d: the water department's change of a lighting component answered %d; now %+v", i, waterStatus, p)
		}
		if p.Owner != "lighting" || p.Name != "照明井盖" || p.Version != 1 {
			t.Fatalf("round %d: the component is %+v, want the admin's, untouched", i, p)
		}
	}
}

// TestPartChangesRightsRaceOwner: an admin hands a water component to
// lighting while the water department renames it, both as bulk changes
// without a version, many times in a free race. Whatever the order, the
// department's change is applied only to a component it owned then: a 200
// for it must come before the hand-over, a 403 after it.
func TestPartChangesRightsRaceOwner(t *testing.T) {
	c := newCity(t)
	for i := range 40 {
		code := fmt.Sprintf("32050801010008%02d", i)
		lon, lat := pointAt(i)[0]+0.00002, pointAt(i)[1]
		if rec := c.do(t, req{method: "POST", path: "/parts", token: "admin", body: pointFeature(code, lon, lat, nil)}); rec.Code != http.StatusCreated {
			t.Fatalf("add %s: %d %s", code, rec.Code, rec.Body)
		}
		change := func(token string, props map[string]any) req {
			return req{method: "POST", path: "/parts/changes", token: token, body: mustJSON(map[string]any{"changes": []any{
				map[string]any{"op": "modify", "feature": jsonValue(pointFeature(code, lon, lat, props))},
			}})}
		}
		handOver := change("admin", map[string]any{"dept_owner": "lighting"})
		rename := change("water", map[string]any{"name": fmt.Sprintf("水务改名 %d", i)})

		var wg sync.WaitGroup
		var adminV, waterV float64
		var adminStatus, waterStatus int
		start := make(chan struct{})
		version := func(r req, status *int, v *float64) {
			<-start
			rec := c.do(t, r)
			*status = rec.Code
			if rec.Code == http.StatusOK {
				*v = props(t, features(t, doc(t, rec))[0])["version"].(float64)
			}
		}
		wg.Go(func() { version(handOver, &adminStatus, &adminV) })
		wg.Go(func() { version(rename, &waterStatus, &waterV) })
		close(start)
		wg.Wait()

		if adminStatus != http.StatusOK {
			t.Fatalf("round %d: the hand-over answered %d", i, adminStatus)
		}
		switch waterStatus {
		case http.StatusOK:
			if waterV >= adminV {
				t.Fatalf("round %d: the water department renamed at version %v a component handed to lighting at version %v", i, waterV, adminV)
			}
		case http.StatusForbidden:
			if adminV != 2 {
				t.Fatalf("round %d: refused, but the hand-over is at version %v, not first", i, adminV)
			}
		default:
			t.Fatalf("round %d: the rename answered %d", i, waterStatus)
		}
		p, err := c.twin.Parts().Get(mustCode(t, code))
		if err != nil {
			t.Fatal(err)
		}
		if p.Owner != "lighting" {
			t.Fatalf("round %d: owner %q after the hand-over", i, p.Owner)
		}
	}
}

func mustCode(t testing.TB, s string) parts.Code {
	t.Helper()
	c, err := parts.ParseCode(s)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
