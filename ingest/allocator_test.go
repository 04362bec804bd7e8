package ingest

import (
	"errors"
	"testing"

	"citytwin/parts"
)

func TestCodeAllocator(t *testing.T) {
	a := NewCodeAllocator(0)
	must := func(s string) parts.Code {
		c, err := parts.ParseCode(s)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	if !a.Take(must("5101040113000002")) || !a.Take(must("5101040113000003")) {
		t.Fatal("Take of a free code returned false")
	}
	if a.Take(must("5101040113000002")) {
		t.Fatal("Take of a taken code returned true")
	}
	a.Take(must("3205080113000001")) // another county: no effect on Next
	want := []string{"5101040113000001", "5101040113000004", "5101040113000005"}
	for _, w := range want {
		c, err := a.Next(113)
		if err != nil || c.String() != w {
			t.Fatalf("Next = %v, %v; want %s", c, err, w)
		}
		if !a.Taken(c) {
			t.Fatalf("%s not marked taken", c)
		}
	}
	if c, err := a.Next(118); err != nil || c.String() != "5101040118000001" {
		t.Fatalf("Next(0118) = %v, %v", c, err)
	}
	if _, err := a.Next(100); err == nil {
		t.Fatal("Next(0100) gave a code")
	}
}

func TestCodeAllocatorUniqueAgainstBruteForce(t *testing.T) {
	a := NewCodeAllocator(320508)
	taken := map[parts.Code]bool{}
	for i := uint32(1); i < 3000; i += 3 { // every third serial pre-taken, and a dense block
		c, _ := parts.NewCode(320508, 101, i)
		a.Take(c)
		taken[c] = true
	}
	for i := uint32(3000); i < 3200; i++ {
		c, _ := parts.NewCode(320508, 101, i)
		a.Take(c)
		taken[c] = true
	}
	low := uint32(1) // brute force: the lowest serial not in taken
	for range 5000 {
		for {
			lc, _ := parts.NewCode(320508, 101, low)
			if !taken[lc] {
				break
			}
			low++
		}
		c, err := a.Next(101)
		if err != nil {
			t.Fatal(err)
		}
		if taken[c] {
			t.Fatalf("Next handed out taken code %s", c)
		}
		if c.Serial() != low {
			t.Fatalf("Next gave %s, the lowest free serial is %06d", c, low)
		}
		taken[c] = true
	}
}

func TestCodeAllocatorExhausted(t *testing.T) {
	a := NewCodeAllocator(510104)
	s := a.set(510104, 113)
	s.add(maxSerial)
	for i := range s.bits {
		s.bits[i] = ^uint64(0)
	}
	if _, err := a.Next(113); !errors.Is(err, ErrCodesExhausted) {
		t.Fatalf("err = %v, want ErrCodesExhausted", err)
	}
}

// TestReserve: reserved codes (already in the store) are never handed out,
// but an input may give one once, to update that component.
func TestReserve(t *testing.T) {
	a := NewCodeAllocator(510104)
	for s := uint32(1); s <= 3; s++ {
		c, _ := parts.NewCode(510104, 113, s)
		a.Reserve(c)
	}
	got, err := a.Next(113)
	if err != nil || got.Serial() != 4 {
		t.Fatalf("Next after reserving 1-3: %v %v, want serial 4", got, err)
	}
	c2, _ := parts.NewCode(510104, 113, 2)
	if !a.Take(c2) {
		t.Error("a reserved code given by the input was refused")
	}
	if a.Take(c2) {
		t.Error("a reserved code was accepted twice")
	}
}
