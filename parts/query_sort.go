package parts

import (
	"math/bits"
	"slices"
)

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
	return radixHits(hits, tmp)
}

// radixHits is the LSD radix sort of sortHits for any 64-bit code, stable:
// equal codes keep their order.
func radixHits(hits, tmp []hit) []hit {
	if len(hits) == 0 {
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
	// Rebuild the hits in order from the positions.
	var hbuf [1 << packBits]hit
	old := hbuf[:len(hits)]
	copy(old, hits)
	for i, k := range src {
		hits[i] = old[k&(1<<packBits-1)]
	}
}

// sortPage sorts the hits of a page by code: by ord when every hit has one
// (ranked and no ord is 0), else by the codes themselves. tmp is as for
// sortHits.
func sortPage(hits, tmp []hit, ranked bool) []hit {
	if ranked && sortRanked(hits) {
		return tmp
	}
	return sortHits(hits, tmp)
}

// ordDigit is the digit width of rankOrder: two passes cover the ords of
// 4 million parts.
const ordDigit = 11

// sortRanked sorts hits whose records all have an ord by it (see
// rankOrder). It returns false, leaving hits as they were, when a hit has
// no ord or the ord range and the positions do not fit 32 bits.
func sortRanked(hits []hit) bool {
	var kbuf [2 << packBits]uint32
	order, ok := rankOrder(hits, kbuf[:])
	if !ok {
		return false
	}
	var hbuf [1 << packBits]hit
	var old []hit
	if n := len(hits); n <= len(hbuf) {
		old = hbuf[:n]
	} else {
		old = make([]hit, n)
	}
	copy(old, hits)
	for i, k := range order {
		hits[i] = old[k]
	}
	return true
}

// rankOrder returns the positions of hits in the order of their ords,
// which is the order of their codes when every hit has an ord: an LSD
// radix sort of 32-bit keys (ord-min)<<posBits|position (for a page of
// 1,000 hits over 2 million parts, 2 passes instead of the 6 byte passes
// over the codes), without moving the hits themselves. The order is
// written in scratch, or in a new slice when scratch is shorter than
// 2*len(hits). It returns false when a hit has no ord (0), or when the ord
// range and the positions do not fit 32 bits.
func rankOrder(hits []hit, scratch []uint32) ([]uint32, bool) {
	n := len(hits)
	if n == 0 {
		return nil, true
	}
	lo, hi := hits[0].ord, hits[0].ord
	for i := range hits {
		lo = min(lo, hits[i].ord)
		hi = max(hi, hits[i].ord)
	}
	posBits := uint(bits.Len32(uint32(n - 1)))
	rangeBits := uint(bits.Len32(hi - lo))
	if lo == 0 || posBits+rangeBits > 32 {
		return nil, false
	}
	keys := scratch
	if len(keys) < 2*n {
		keys = make([]uint32, 2*n)
	}
	src, dst := keys[:n:n], keys[n:2*n:2*n]
	for i := range hits {
		src[i] = (hits[i].ord-lo)<<posBits | uint32(i)
	}
	var count [1 << ordDigit]uint32
	for shift := posBits; shift < posBits+rangeBits; shift += ordDigit {
		width := min(ordDigit, posBits+rangeBits-shift)
		mask := uint32(1)<<width - 1
		cnt := count[:mask+1]
		clear(cnt)
		for _, k := range src {
			cnt[(k>>shift)&mask]++
		}
		var sum uint32
		for i, c := range cnt {
			cnt[i] = sum
			sum += c
		}
		for _, k := range src {
			b := (k >> shift) & mask
			dst[cnt[b]] = k
			cnt[b]++
		}
		src, dst = dst, src
	}
	pmask := uint32(1)<<posBits - 1
	for i := range src {
		src[i] &= pmask
	}
	return src, true
}
