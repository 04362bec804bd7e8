package gpkg

import (
	"errors"
	"fmt"
	"strconv"
	"testing"
)

// TestMemo checks that memo gives what parse gives, for a few values and
// for many, repeated, and passes parse's errors on without caching them.
func TestMemo(t *testing.T) {
	calls := 0
	m := memo[int]{parse: func(s string) (int, error) {
		calls++
		if s == "bad" {
			return 0, errors.New("bad")
		}
		return strconv.Atoi(s)
	}}
	distinct := map[string]bool{}
	for round := range 3 {
		for i := range 5000 {
			s := fmt.Sprint(i % 6000)
			if i%3 == 0 {
				s = fmt.Sprint(i % 5) // a few values, often
			}
			distinct[s] = true
			v, err := m.get([]byte(s))
			if want, _ := strconv.Atoi(s); err != nil || v != want {
				t.Fatalf("round %d: get(%q) = %d, %v", round, s, v, err)
			}
		}
		if _, err := m.get([]byte("bad")); err == nil {
			t.Fatalf("round %d: get(bad) gave no error", round)
		}
	}
	// Every value parsed once (all cached: 8 apart, the rest in the
	// map), and bad each round.
	if want := len(distinct) + 3; calls != want {
		t.Errorf("parse called %d times, want %d", calls, want)
	}
}
