package ingest

import (
	"fmt"

	"citytwin/parts"
)

const maxSerial = 999999

// CodeAllocator hands out component codes for sources that have none:
// county + class + the lowest serial not yet taken. Take marks codes that
// already exist (in the store, or earlier in the input) so they are never
// handed out. Taken serials are kept as a bitset per county and class that
// grows to the highest serial taken: 2 million dense codes cost about 250 KB.
// The zero value allocates in DefaultCounty. Not safe for concurrent use.
type CodeAllocator struct {
	county uint32
	keys   map[uint64]*serialSet // county*10000 + class
}

type serialSet struct {
	bits  []uint64 // taken: handed out, or given by the input
	res   []uint64 // reserved: in the store; never handed out, may be given once
	next  uint32   // no free serial below next
	valid bool     // county and class checked to make valid codes
}

// NewCodeAllocator returns an allocator for codes in county (DefaultCounty
// if 0).
func NewCodeAllocator(county uint32) *CodeAllocator {
	return &CodeAllocator{county: county}
}

// County returns the county of generated codes.
func (a *CodeAllocator) County() uint32 {
	if a.county == 0 {
		return DefaultCounty
	}
	return a.county
}

func (a *CodeAllocator) set(county uint32, class parts.Class) *serialSet {
	k := uint64(county)*10000 + uint64(class)
	s := a.keys[k]
	if s == nil {
		if a.keys == nil {
			a.keys = map[uint64]*serialSet{}
		}
		s = &serialSet{next: 1}
		a.keys[k] = s
	}
	return s
}

func (s *serialSet) has(n uint32) bool { return bitHas(s.bits, n) }

func (s *serialSet) add(n uint32) { s.bits = bitAdd(s.bits, n) }

// busy reports whether n can not be handed out: taken or reserved.
func (s *serialSet) busy(n uint32) bool { return bitHas(s.bits, n) || bitHas(s.res, n) }

func bitHas(bits []uint64, n uint32) bool {
	i := n / 64
	return int(i) < len(bits) && bits[i]&(1<<(n%64)) != 0
}

func bitAdd(bits []uint64, n uint32) []uint64 {
	i := int(n / 64)
	if i >= len(bits) {
		grown := make([]uint64, max(i+1, 2*len(bits)))
		copy(grown, bits)
		bits = grown
	}
	bits[i] |= 1 << (n % 64)
	return bits
}

// Reserve marks c as existing elsewhere (in the store): Next never hands it
// out, but an input may still give it once (to update that component),
// which Take then accepts.
func (a *CodeAllocator) Reserve(c parts.Code) {
	s := a.set(c.County(), c.Class())
	s.res = bitAdd(s.res, c.Serial())
}

// Take marks c as taken and reports whether it was free before. Codes of
// any county may be taken; only the allocator's county matters to Next.
func (a *CodeAllocator) Take(c parts.Code) bool {
	s := a.set(c.County(), c.Class())
	if s.has(c.Serial()) {
		return false
	}
	s.add(c.Serial())
	return true
}

// Taken reports whether c has been taken or handed out.
func (a *CodeAllocator) Taken(c parts.Code) bool {
	s := a.keys[uint64(c.County())*10000+uint64(c.Class())]
	return s != nil && s.has(c.Serial())
}

// Next hands out the lowest free code of class in the allocator's county
// and marks it taken. The error wraps ErrCodesExhausted when all 999,999
// serials are taken, or is a *parts.CodeError for an impossible class.
func (a *CodeAllocator) Next(class parts.Class) (parts.Code, error) {
	county := a.County()
	s := a.set(county, class)
	if !s.valid {
		if _, err := parts.NewCode(county, class, 1); err != nil {
			return 0, err
		}
		s.valid = true
	}
	n := s.next
	for n <= maxSerial && s.busy(n) {
		// skip whole words of taken serials
		if n%64 == 0 && int(n/64) < len(s.bits) && s.bits[n/64] == ^uint64(0) {
			n += 64
			continue
		}
		n++
	}
	if n > maxSerial {
		s.next = n
		return 0, fmt.Errorf("%w: county %06d class %s", ErrCodesExhausted, county, class)
	}
	s.add(n)
	s.next = n + 1
	return parts.Code(uint64(county)*1e10 + uint64(class)*1e6 + uint64(n)), nil
}
