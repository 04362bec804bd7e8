package parts

import "slices"

// sortHits sorts hits by code: an LSD radix sort on the bytes where the
// codes differ (a code has 54 bits, so at most 7 passes), several times
// faster than a comparison sort for the page sizes of Search. tmp is scratch
// space, grown as needed and returned for reuse.
func sortHits(hits, tmp []hit) []hit {
	if len(hits) < 64 {
		slices.SortFunc(hits, compareHits)
		return tmp
	}
	if len(hits) <= 1<<packBits {
		sortPacked(hits)
		return tmp
	}
	var diff uint64
	first := hits[0].code
	for i := range hits {
		diff |= hits[i].code ^ first
	}
	if cap(tmp) < len(hits) {
		tmp = make([]hit, len(hits))
	}
	tmp = tmp[:len(hits)]
	src, dst := hits, tmp
	var count [256]int
	for shift := uint(0); shift < 64; shift += 8 {
		if (diff>>shift)&0xff == 0 {
			continue
		}
		count = [256]int{}
		for i := range src {
			count[(src[i].code>>shift)&0xff]++
		}
		sum := 0
		for i := range count {
			c := count[i]
			count[i] = sum
			sum += c
		}
		for i := range src {
			b := (src[i].code >> shift) & 0xff
			dst[count[b]] = src[i]
			count[b]++
		}
		src, dst = dst, src
	}
	if &src[0] != &hits[0] {
		copy(hits, src)
	}
	return tmp
}

// packBits is the number of low bits that carry a position in a packed key:
// a code is below 2^54, so code<<10 fits in 64 bits.
const packBits = 10

// sortPacked sorts up to 1024 hits by radix-sorting 8-byte keys
// code<<10|position (codes are unique, so only the code bytes are sorted),
// half the memory traffic of sorting the hits themselves.
func sortPacked(hits []hit) {
	var kbuf, tbuf [1 << packBits]uint64
	keys, tmp := kbuf[:len(hits)], tbuf[:len(hits)]
	var diff uint64
	first := hits[0].code << packBits
	for i := range hits {
		keys[i] = hits[i].code<<packBits | uint64(i)
		diff |= keys[i] ^ first
	}
	diff &^= 1<<packBits - 1
	src, dst := keys, tmp
	var count [256]int32
	for shift := uint(packBits); shift < 64; shift += 8 {
		if (diff>>shift)&0xff == 0 {
			continue
		}
		count = [256]int32{}
		for _, k := range src {
			count[(k>>shift)&0xff]++
		}
		var sum int32
		for i := range count {
			c := count[i]
			count[i] = sum
			sum += c
		}
		for _, k := range src {
			b := (k >> shift) & 0xff
			dst[count[b]] = k
			count[b]++
		}
		src, dst = dst, src
	}
	// Rebuild the hits in order: the code is in the key, the record index
	// comes from the position.
	var hbuf [1 << packBits]uint32
	idx := hbuf[:len(hits)]
	for i := range hits {
		idx[i] = hits[i].idx
	}
	for i, k := range src {
		hits[i] = hit{code: k >> packBits, idx: idx[k&(1<<packBits-1)]}
	}
}
