package parts

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"math"
	"slices"

	"github.com/paulmach/orb"
)

// cursorVersion is the first byte of every cursor.
const cursorVersion = 1

// cursor is the decoded keyset position of a page: the last code returned and
// the hash of the query that produced it.
type cursor struct {
	after Code
	hash  uint64
}

// encodeCursor returns the opaque text form: base64url of version, code and
// query hash.
func encodeCursor(c cursor) string {
	var b [17]byte
	b[0] = cursorVersion
	binary.BigEndian.PutUint64(b[1:], uint64(c.after))
	binary.BigEndian.PutUint64(b[9:], c.hash)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// decodeCursor parses a cursor; "" is the first page. It checks that the
// cursor belongs to the query with hash want. Errors are *FieldError with
// Field "cursor" wrapping ErrInvalidQuery.
func decodeCursor(s string, want uint64) (cursor, error) {
	if s == "" {
		return cursor{}, nil
	}
	bad := func(reason string) (cursor, error) {
		return cursor{}, &FieldError{Field: "cursor", Reason: reason, Err: ErrInvalidQuery}
	}
	if len(s) != 23 {
		return bad(fmt.Sprintf("%q is not a cursor of this service", s))
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) != 17 || b[0] != cursorVersion {
		return bad(fmt.Sprintf("%q is not a cursor of this service", s))
	}
	c := cursor{after: Code(binary.BigEndian.Uint64(b[1:])), hash: binary.BigEndian.Uint64(b[9:])}
	if c.after > maxCode {
		return bad(fmt.Sprintf("%q holds no valid position", s))
	}
	if c.hash != want {
		return bad("the cursor belongs to another query (bbox, area or filter changed)")
	}
	return c, nil
}

// queryHash hashes what a cursor must not outlive: the kind of query, its
// box or area, and its filter. It is 64-bit FNV-1a (hash/fnv's New64a)
// written out, so that hashing a query allocates nothing.
type queryHash struct{ h uint64 }

// FNV-1a constants (hash/fnv).
const (
	fnvOffset64 = 14695981039346656037
	fnvPrime64  = 1099511628211
)

func newQueryHash(kind string) *queryHash {
	q := &queryHash{h: fnvOffset64}
	q.str(kind)
	return q
}

// u64 hashes the 8 bytes of v, little-endian.
func (q *queryHash) u64(v uint64) {
	h := q.h
	for range 8 {
		h ^= v & 0xff
		h *= fnvPrime64
		v >>= 8
	}
	q.h = h
}

func (q *queryHash) f64(v float64) { q.u64(math.Float64bits(v)) }

func (q *queryHash) str(s string) {
	q.u64(uint64(len(s)))
	h := q.h
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime64
	}
	q.h = h
}

func (q *queryHash) point(p orb.Point) { q.f64(p[0]); q.f64(p[1]) }

func (q *queryHash) geometry(g orb.Geometry) {
	switch g := g.(type) {
	case orb.Polygon:
		q.str("P")
		q.u64(uint64(len(g)))
		for _, r := range g {
			q.u64(uint64(len(r)))
			for _, p := range r {
				q.point(p)
			}
		}
	case orb.MultiPolygon:
		q.str("M")
		q.u64(uint64(len(g)))
		for _, p := range g {
			q.geometry(p)
		}
	case orb.Bound:
		q.str("B")
		q.point(g.Min)
		q.point(g.Max)
	}
}

// filter hashes a filter in a canonical form (lists sorted, deduplicated).
func (q *queryHash) filter(f Filter) {
	hashSet(q, f.Classes)
	hashSet(q, f.Majors)
	q.str(f.Owner)
	q.str(f.Dept)
	hashSet(q, f.States)
	q.str(f.GridPrefix)
	q.u64(uint64(int64(toDay(f.ChangedSince))))
}

// hashSet hashes a list as the set of its values: its length once sorted
// and deduplicated, then the values in order.
func hashSet[T ~uint8 | ~uint16 | ~int](q *queryHash, vs []T) {
	if len(vs) == 0 {
		q.u64(0)
		return
	}
	set := slices.Compact(slices.Sorted(slices.Values(vs)))
	q.u64(uint64(len(set)))
	for _, v := range set {
		q.u64(uint64(v))
	}
}

func (q *queryHash) sum() uint64 { return q.h }
