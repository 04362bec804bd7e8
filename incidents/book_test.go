package incidents

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/paulmach/orb"
)

func bookCase(i int, s State) Case {
	return Case{
		ID: ID(fmt.Sprintf("C20261012-%010d", i)), Version: 1, Source: SourceApp, Type: TypeEvent, Class: "0505",
		Location: orb.Point{120.60 + float64(i%100)*0.0001, 31.30 + float64(i/100)*0.0001},
		Grid:     fmt.Sprintf("3205080010010%d", 1+i%2), Dept: []string{"chengguan", "sanitation"}[i%2], State: s,
		Reported: t0.Add(time.Duration(i) * time.Minute), Due: t0.Add(time.Duration(i)*time.Minute + 4*time.Hour),
	}
}

func TestBook(t *testing.T) {
	var b Book
	for i := range 1000 {
		s := StateDispatched
		if i%10 == 0 {
			s = StateClosed
		}
		b.Put(bookCase(i, s))
	}
	if b.Len() != 1000 || b.Open() != 900 {
		t.Fatalf("len %d open %d", b.Len(), b.Open())
	}
	c, err := b.Get(bookCase(5, "").ID)
	if err != nil || c.Dept != "sanitation" {
		t.Fatalf("%+v %v", c, err)
	}
	if _, err := b.Get("C20261012-XXXXXXXXXX"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("got %v", err)
	}

	// Closing a case takes it out of the R-tree and the problem map.
	c.Problem = "3205080111000001/cover_gas"
	b.Put(c)
	if got, ok := b.ByProblem(c.Problem); !ok || got.ID != c.ID {
		t.Fatal("ByProblem misses an open case")
	}
	c.State, c.Closed = StateClosed, t0
	b.Put(c)
	if _, ok := b.ByProblem(c.Problem); ok {
		t.Fatal("ByProblem finds a closed case")
	}
	if b.Open() != 899 {
		t.Fatalf("open %d", b.Open())
	}

	t.Run("near", func(t *testing.T) {
		probe := bookCase(7, "").Location
		got, ok := b.Near(orb.Point{probe[0], probe[1] + 2*metre}, TypeEvent, "0505", 5, t0)
		if !ok || got.ID != bookCase(7, "").ID {
			t.Fatalf("Near = %s %v, want case 7", got.ID, ok)
		}
		if _, ok := b.Near(probe, TypeEvent, "0102", 5, t0); ok {
			t.Fatal("Near matched another class")
		}
		if _, ok := b.Near(probe, TypeComponent, "0505", 5, t0); ok {
			t.Fatal("Near matched another type")
		}
		if _, ok := b.Near(probe, TypeEvent, "0505", 5, t0.Add(time.Hour)); ok {
			t.Fatal("Near matched a case reported before since")
		}
		if _, ok := b.Near(bookCase(10, "").Location, TypeEvent, "0505", 1, t0); ok {
			t.Fatal("Near matched a closed case")
		}
	})

	t.Run("search", func(t *testing.T) {
		yes := true
		no := false
		bound := orb.Bound{Min: orb.Point{120.60, 31.30}, Max: orb.Point{120.60195, 31.30095}} // i%100 < 20, i < 1000
		tests := map[string]struct {
			q    Query
			want func(i int) bool
		}{
			"all":            {Query{}, func(i int) bool { return true }},
			"dept":           {Query{Dept: "chengguan"}, func(i int) bool { return i%2 == 0 }},
			"state closed":   {Query{States: []State{StateClosed}}, func(i int) bool { return i%10 == 0 || i == 5 }},
			"grid prefix":    {Query{Grid: "32050800100102"}, func(i int) bool { return i%2 == 1 }},
			"bbox, open":     {Query{Bound: &bound, States: []State{StateDispatched}}, func(i int) bool { return i%100 < 20 && i%10 != 0 && i != 5 }},
			"bbox, any":      {Query{Bound: &bound}, func(i int) bool { return i%100 < 20 }},
			"overdue":        {Query{Overdue: &yes, Now: t0.Add(5 * time.Hour)}, func(i int) bool { return i < 60 && i%10 != 0 && i != 5 }},
			"not overdue":    {Query{Overdue: &no, Now: t0.Add(5 * time.Hour)}, func(i int) bool { return !(i < 60 && i%10 != 0 && i != 5) }},
			"class, nothing": {Query{Class: "0102"}, func(i int) bool { return false }},
		}
		for name, tc := range tests {
			t.Run(name, func(t *testing.T) {
				var want []ID
				for i := range 1000 {
					if tc.want(i) {
						want = append(want, bookCase(i, "").ID)
					}
				}
				var got []ID
				q := tc.q
				q.Limit = 37
				for pages := 0; ; pages++ {
					if pages > 100 {
						t.Fatal("paging does not end")
					}
					p, err := b.Search(context.Background(), q)
					if err != nil {
						t.Fatal(err)
					}
					if p.Matched != len(want) {
						t.Fatalf("matched %d, want %d", p.Matched, len(want))
					}
					for _, c := range p.Cases {
						got = append(got, c.ID)
					}
					if p.Next == "" {
						break
					}
					q.Cursor = p.Next
				}
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Fatalf("got %d cases, want %d (%v...)", len(got), len(want), got[:min(3, len(got))])
				}
			})
		}
		for _, bad := range []Query{{Limit: -1}, {Limit: MaxLimit + 1}, {Cursor: "!!"}, {States: []State{"lost"}},
			{Bound: &orb.Bound{Min: orb.Point{1, 1}, Max: orb.Point{0, 0}}}, {Overdue: &yes}} {
			if _, err := b.Search(context.Background(), bad); !errors.Is(err, ErrInvalid) {
				t.Errorf("query %+v: got %v, want ErrInvalid", bad, err)
			}
		}
	})

	t.Run("all", func(t *testing.T) {
		n := 0
		var last ID
		b.All(func(c Case) bool {
			if c.ID <= last {
				t.Fatal("All is not in ID order")
			}
			last = c.ID
			n++
			return n < 500
		})
		if n != 500 {
			t.Fatalf("All visited %d after stop", n)
		}
	})

	if _, err := b.Delete(bookCase(7, "").ID); err != nil || b.Len() != 999 {
		t.Fatalf("delete: %v, len %d", err, b.Len())
	}
	if _, ok := b.Near(bookCase(7, "").Location, TypeEvent, "0505", 0.5, t0); ok {
		t.Fatal("deleted case still near")
	}
}

func TestBookConcurrent(t *testing.T) {
	var b Book
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			for i := range 500 {
				id := rng.IntN(200)
				c := bookCase(id, States()[rng.IntN(len(States()))])
				c.Version = uint64(i)
				b.Put(c)
				b.Near(c.Location, TypeEvent, "0505", 20, time.Time{})
				if _, err := b.Search(context.Background(), Query{Dept: "chengguan", Limit: 10}); err != nil {
					t.Error(err)
				}
				b.Get(c.ID)
			}
		})
	}
	wg.Wait()
	open := 0
	b.All(func(c Case) bool {
		if c.State.Open() {
			open++
		}
		return true
	})
	if b.Open() != open {
		t.Fatalf("R-tree holds %d open cases, the map %d", b.Open(), open)
	}
}
