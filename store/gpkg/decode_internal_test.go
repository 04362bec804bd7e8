package gpkg

import (
	"fmt"
	"testing"
	"time"

	"citytwin/parts"
)

// TestDateDigits checks that the fast date parse agrees with parseDate on
// every day of a few years (leap years included) and refuses what it does
// not handle.
func TestDateDigits(t *testing.T) {
	for d := time.Date(1999, 12, 25, 0, 0, 0, 0, time.UTC); d.Year() < 2026; d = d.AddDate(0, 0, 1) {
		s := d.Format(time.DateOnly)
		got, ok := dateDigits([]byte(s))
		want, err := parseDate(s)
		if !ok || err != nil || got != want {
			t.Fatalf("%s: dateDigits %v %v, parseDate %v %v", s, got, ok, want, err)
		}
	}
	for _, s := range []string{"2023-02-29", "2024-02-30", "2023-04-31", "2023-13-01", "2023-00-10", "2023-01-00",
		"2023-1-01", "20230101", "2023-01-01T00:00:00Z", "", "abcd-ef-gh", "2023-01-32", "+023-01-01"} {
		if _, ok := dateDigits([]byte(s)); ok {
			t.Errorf("dateDigits(%q) accepted it", s)
		}
	}
}

// TestClassDigits checks the fast class parse against parts.ParseClass.
func TestClassDigits(t *testing.T) {
	for v := range 10000 {
		s := fmt.Sprintf("%04d", v)
		got, ok := classDigits([]byte(s))
		want, err := parts.ParseClass(s)
		if ok != (err == nil) || (ok && got != want) {
			t.Fatalf("%s: classDigits %v %v, ParseClass %v %v", s, got, ok, want, err)
		}
	}
	for _, s := range []string{"", "1", "01011", "+101", "01a1", " 101"} {
		if _, ok := classDigits([]byte(s)); ok {
			t.Errorf("classDigits(%q) accepted it", s)
		}
	}
}
