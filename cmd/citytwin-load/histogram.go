package main

import (
	"math"
	"math/bits"
	"time"
)

// Buckets of the histogram: values below 2*subBuckets are exact; above,
// each power of two is cut into subBuckets buckets, so a quantile is within
// 1/subBuckets (0.8 %) of the true value, like HdrHistogram with two
// significant digits, in constant memory.
const (
	subBits    = 7
	subBuckets = 1 << subBits
	numBuckets = (64 - subBits + 1) * subBuckets
)

// histogram records latencies in log-linear buckets. The zero value is
// empty and ready; it is not safe for concurrent use (one per worker,
// merged at the end).
type histogram struct {
	counts   []uint64
	n        uint64
	min, max time.Duration
	sum      time.Duration
}

// bucketOf returns the bucket of a value in nanoseconds.
func bucketOf(v uint64) int {
	if v < 2*subBuckets {
		return int(v)
	}
	shift := bits.Len64(v) - 1 - subBits
	return (shift+1)<<subBits + int(v>>shift) - subBuckets
}

// highest returns the largest value of a bucket.
func highest(i int) uint64 {
	if i < 2*subBuckets {
		return uint64(i)
	}
	shift := i>>subBits - 1
	mant := uint64(i&(subBuckets-1) + subBuckets)
	return (mant+1)<<shift - 1
}

// Record adds one latency; a negative one counts as zero.
func (h *histogram) Record(d time.Duration) {
	if d < 0 {
		d = 0
	}
	if h.counts == nil {
		h.counts = make([]uint64, numBuckets)
	}
	h.counts[bucketOf(uint64(d))]++
	if h.n == 0 || d < h.min {
		h.min = d
	}
	if d > h.max {
		h.max = d
	}
	h.n++
	h.sum += d
}

// Merge adds the counts of o.
func (h *histogram) Merge(o *histogram) {
	if o.n == 0 {
		return
	}
	if h.counts == nil {
		h.counts = make([]uint64, numBuckets)
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	if o.max > h.max {
		h.max = o.max
	}
	h.n += o.n
	h.sum += o.sum
}

// Count is the number of values recorded.
func (h *histogram) Count() uint64 { return h.n }

// Max is the largest value recorded, exactly.
func (h *histogram) Max() time.Duration { return h.max }

// Mean is the mean of the values recorded, exactly.
func (h *histogram) Mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return h.sum / time.Duration(h.n)
}

// Quantile returns the value at quantile q (0..1): the largest value of the
// bucket holding the ceil(q*n)-th smallest value, clamped to [min, max].
// It is 0 when the histogram is empty.
func (h *histogram) Quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.n)))
	rank = max(1, min(rank, h.n))
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			v := time.Duration(highest(i))
			return max(h.min, min(v, h.max))
		}
	}
	return h.max
}
