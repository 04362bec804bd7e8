package parts

import (
	"errors"
	"testing"
	"time"
)

func TestCursorRoundTrip(t *testing.T) {
	c := cursor{after: 3205080101000001, hash: 0xdeadbeef}
	got, err := decodeCursor(encodeCursor(c), c.hash)
	if err != nil || got != c {
		t.Fatalf("round trip = %+v, %v", got, err)
	}
	if _, err := decodeCursor(encodeCursor(c), c.hash+1); !errors.Is(err, ErrInvalidQuery) {
		t.Fatalf("other query accepted: %v", err)
	}
	if got, err := decodeCursor("", 5); err != nil || got != (cursor{}) {
		t.Fatalf("empty cursor = %+v, %v", got, err)
	}
}

func FuzzDecodeCursor(f *testing.F) {
	f.Add(encodeCursor(cursor{after: 3205080101000001, hash: 7}), uint64(7))
	f.Add("", uint64(0))
	f.Add("AAAAAAAAAAAAAAAAAAAAAAA", uint64(0))
	f.Fuzz(func(t *testing.T, s string, h uint64) {
		c, err := decodeCursor(s, h)
		if err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != "cursor" || !errors.Is(err, ErrInvalidQuery) {
				t.Fatalf("error %v is not a cursor FieldError", err)
			}
			return
		}
		if s != "" && (encodeCursor(c) != s || c.hash != h) {
			t.Fatalf("accepted %q as %+v", s, c)
		}
	})
}

func TestStrtab(t *testing.T) {
	var s strtab
	s.init()
	ids := map[string]uint32{}
	for i := range 5000 {
		str := time.Unix(int64(i)*7919, 0).UTC().Format(time.RFC3339)
		id := s.intern(str)
		if prev, ok := ids[str]; ok && prev != id {
			t.Fatalf("%q interned twice: %d %d", str, prev, id)
		}
		ids[str] = id
	}
	for str, id := range ids {
		if s.get(id) != str {
			t.Fatalf("get(%d) = %q, want %q", id, s.get(id), str)
		}
		if got, ok := s.lookup(str); !ok || got != id {
			t.Fatalf("lookup(%q) = %d %v", str, got, ok)
		}
	}
	if id := s.intern(""); id != 0 || s.get(0) != "" {
		t.Fatalf("empty string id %d", id)
	}
	if _, ok := s.lookup("absent"); ok {
		t.Fatal("lookup found an absent string")
	}
}

func TestCodeTable(t *testing.T) {
	var recs []record
	ct := newCodeTable(0)
	for i := range 10000 {
		recs = append(recs, record{code: 3205080101000001 + uint64(i)*7})
		ct.insert(recs, recs[i].code, uint32(i))
	}
	for i := range recs {
		if idx, ok := ct.find(recs, recs[i].code); !ok || idx != uint32(i) {
			t.Fatalf("find(%d) = %d %v", recs[i].code, idx, ok)
		}
	}
	if _, ok := ct.find(recs, 3205080101000002); ok {
		t.Fatal("found an absent code")
	}
}

func TestDays(t *testing.T) {
	for _, tm := range []time.Time{{}, time.Date(2025, 1, 2, 0, 0, 0, 0, time.UTC), time.Date(1960, 5, 6, 0, 0, 0, 0, time.UTC)} {
		if got := fromDay(toDay(tm)); !got.Equal(tm) {
			t.Errorf("day round trip %v -> %v", tm, got)
		}
	}
	// A time of day is truncated to the UTC day.
	if got := fromDay(toDay(time.Date(1969, 12, 31, 23, 0, 0, 0, time.UTC))); !got.Equal(time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("truncation = %v", got)
	}
}

func TestSortHits(t *testing.T) {
	for _, n := range []int{0, 1, 63, 64, 500, 1024, 1025, 5000} {
		hits := make([]hit, n)
		for i := range hits {
			// Codes that differ in many bytes, unique.
			hits[i] = hit{code: 5101040101000001 + uint64(i*7919%n+1)*1e6*uint64(1+i%3) + uint64(i), idx: uint32(i)}
		}
		want := map[uint64]uint32{}
		for _, h := range hits {
			want[h.code] = h.idx
		}
		sortHits(hits, nil)
		for i := range hits {
			if i > 0 && hits[i-1].code >= hits[i].code {
				t.Fatalf("n=%d: not sorted at %d", n, i)
			}
			if want[hits[i].code] != hits[i].idx {
				t.Fatalf("n=%d: code %d lost its index", n, hits[i].code)
			}
		}
	}
}
