package main

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// TestBuckets checks that buckets are contiguous and ordered and that every
// value falls in a bucket whose range holds it.
func TestBuckets(t *testing.T) {
	prev := -1
	for _, v := range []uint64{0, 1, 127, 128, 255, 256, 257, 511, 512, 1000, 1 << 20, 1<<20 + 12345, 1 << 40, math.MaxInt64, math.MaxUint64} {
		b := bucketOf(v)
		if b < prev || b >= numBuckets {
			t.Errorf("bucketOf(%d) = %d: out of order (previous %d) or range (%d)", v, b, prev, numBuckets)
		}
		prev = b
		if hi := highest(b); hi < v {
			t.Errorf("highest(bucketOf(%d)) = %d, below the value", v, hi)
		}
		if b > 0 && highest(b-1) >= v {
			t.Errorf("highest(bucketOf(%d)-1) = %d, not below the value", v, highest(b-1))
		}
	}
	for b := 1; b < numBuckets; b++ {
		if lo := highest(b-1) + 1; bucketOf(lo) != b {
			t.Fatalf("bucket %d starts at %d but bucketOf says %d", b, lo, bucketOf(lo))
		}
	}
}

// TestQuantiles compares the histogram's quantiles with the exact ones of
// sorted samples: within 1 % (the bucket width), exact min, max and mean.
func TestQuantiles(t *testing.T) {
	cases := map[string]func(r *rand.Rand) time.Duration{
		"uniform 0-10ms": func(r *rand.Rand) time.Duration { return time.Duration(r.Int64N(int64(10 * time.Millisecond))) },
		"lognormal":      func(r *rand.Rand) time.Duration { return time.Duration(math.Exp(13 + 1.5*r.NormFloat64())) },
		"tiny":           func(r *rand.Rand) time.Duration { return time.Duration(r.IntN(300)) },
		"one value":      func(*rand.Rand) time.Duration { return 1234567 },
	}
	for name, draw := range cases {
		t.Run(name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, 2))
			var h histogram
			samples := make([]time.Duration, 20000)
			var sum time.Duration
			for i := range samples {
				samples[i] = draw(r)
				sum += samples[i]
				h.Record(samples[i])
			}
			slices.Sort(samples)
			for _, q := range []float64{0, 0.5, 0.9, 0.99, 0.999, 1} {
				rank := max(1, int(math.Ceil(q*float64(len(samples)))))
				exact := samples[rank-1]
				got := h.Quantile(q)
				if got < exact || float64(got-exact) > float64(exact)/subBuckets+1 {
					t.Errorf("Quantile(%v) = %v, exact %v", q, got, exact)
				}
			}
			if h.Max() != samples[len(samples)-1] || h.Count() != uint64(len(samples)) {
				t.Errorf("max %v count %d, want %v %d", h.Max(), h.Count(), samples[len(samples)-1], len(samples))
			}
			if h.Mean() != sum/time.Duration(len(samples)) {
				t.Errorf("mean %v, want %v", h.Mean(), sum/time.Duration(len(samples)))
			}
		})
	}
}

// TestMerge checks that merging per-worker histograms equals recording all
// values in one.
func TestMerge(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var all, a, b, empty histogram
	for i := range 5000 {
		d := time.Duration(r.Int64N(int64(time.Second)))
		all.Record(d)
		if i%3 == 0 {
			a.Record(d)
		} else {
			b.Record(d)
		}
	}
	var m histogram
	m.Merge(&empty)
	m.Merge(&a)
	m.Merge(&b)
	for _, q := range []float64{0.1, 0.5, 0.99} {
		if m.Quantile(q) != all.Quantile(q) {
			t.Errorf("Quantile(%v): merged %v, direct %v", q, m.Quantile(q), all.Quantile(q))
		}
	}
	if m.Count() != all.Count() || m.Max() != all.Max() || m.Mean() != all.Mean() {
		t.Errorf("merged count/max/mean %d %v %v, direct %d %v %v", m.Count(), m.Max(), m.Mean(), all.Count(), all.Max(), all.Mean())
	}
	if empty.Quantile(0.5) != 0 || empty.Mean() != 0 {
		t.Errorf("an empty histogram gives %v %v, want 0", empty.Quantile(0.5), empty.Mean())
	}
}
