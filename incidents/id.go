package incidents

import (
	"fmt"
	"io"
	"time"
)

// ID identifies a case: "C" + the reporting day yyyymmdd (China time,
// UTC+8) + "-" + 10 random characters of the Crockford base32 alphabet,
// e.g. C20261001-7KQ2M9XZ4A. 50 random bits make ids unique across
// replicas without coordination; ids sort by day.
type ID string

const idAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// idLen is the length of an ID: C + 8 + - + 10.
const idLen = 20

// chinaTime is the fixed zone of the day in an ID (China has no DST).
var chinaTime = time.FixedZone("CST", 8*3600)

// NewID returns a new ID for a case reported at now, reading 10 bytes from
// rnd (crypto/rand.Reader in production, a seeded source in tests).
func NewID(now time.Time, rnd io.Reader) (ID, error) {
	var r [10]byte
	if _, err := io.ReadFull(rnd, r[:]); err != nil {
		return "", fmt.Errorf("incidents: reading random bytes for an id: %w", err)
	}
	b := make([]byte, 0, idLen)
	b = append(b, 'C')
	b = now.In(chinaTime).AppendFormat(b, "20060102")
	b = append(b, '-')
	for _, v := range r {
		b = append(b, idAlphabet[v&31]) // 256 is a multiple of 32: unbiased
	}
	return ID(b), nil
}

// ParseID validates s as an ID.
func ParseID(s string) (ID, error) {
	bad := func(reason string) error { return &FieldError{Field: "id", Reason: fmt.Sprintf("%q %s", s, reason)} }
	if len(s) != idLen || s[0] != 'C' || s[9] != '-' {
		return "", bad("is not C + yyyymmdd + - + 10 characters")
	}
	if _, err := time.Parse("20060102", s[1:9]); err != nil {
		return "", bad("does not hold a valid date")
	}
	for i := 10; i < idLen; i++ {
		if !isIDChar(s[i]) {
			return "", bad(fmt.Sprintf("has %q at %d, not a base32 character", s[i], i+1))
		}
	}
	return ID(s), nil
}

func isIDChar(c byte) bool {
	for i := 0; i < len(idAlphabet); i++ {
		if idAlphabet[i] == c {
			return true
		}
	}
	return false
}

// Day returns the reporting day yyyymmdd of the id, "" if it is malformed.
func (id ID) Day() string {
	if len(id) != idLen {
		return ""
	}
	return string(id[1:9])
}
