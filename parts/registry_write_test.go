package parts_test

import (
	"errors"
	"testing"

	"citytwin/parts"
)

// The registry's writes, Put and PutAll (a batch), come last on the single
// write path: the twin validates, checks versions and persists before them. These helpers are that path in miniature for the
// tests of the registry alone.

// addPart validates p and puts it at version 1.
func addPart(t testing.TB, r *parts.Registry, p parts.Part) parts.Part {
	t.Helper()
	if err := p.Validate(r.Catalogue()); err != nil {
		t.Fatal(err)
	}
	p.Version = 1
	r.Put(p)
	return p
}

// updatePart validates p and puts it over the live part with its code at
// the next version.
func updatePart(t testing.TB, r *parts.Registry, p parts.Part) parts.Part {
	t.Helper()
	if err := p.Validate(r.Catalogue()); err != nil {
		t.Fatal(err)
	}
	cur, err := r.Get(p.Code)
	if err != nil {
		t.Fatal(err)
	}
	p.Version = cur.Version + 1
	r.Put(p)
	return p
}

// retirePart retires the live part c at the next version.
func retirePart(t testing.TB, r *parts.Registry, c parts.Code) parts.Part {
	t.Helper()
	p, err := r.Get(c)
	if err != nil {
		if errors.Is(err, parts.ErrRetired) {
			t.Fatalf("%s is already retired", c)
		}
		t.Fatal(err)
	}
	p.Retired, p.Version = true, p.Version+1
	r.Put(p)
	return p
}
