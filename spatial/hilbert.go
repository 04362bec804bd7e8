package spatial

import "github.com/paulmach/orb"

// HilbertOrder is the order of the Hilbert curve used by Hilbert: 2^16 cells a
// side.
const HilbertOrder = 16

// Hilbert returns the position of p along a Hilbert curve of 2^16 x 2^16
// cells over the box b. Sorting items by it before inserting them into an
// R-tree makes the load fast and the tree tight. Points outside b are
// clamped to it.
func Hilbert(p orb.Point, b orb.Bound) uint64 {
	const n = 1 << HilbertOrder
	cell := func(v, lo, hi float64) uint32 {
		if hi <= lo {
			return 0
		}
		f := (v - lo) / (hi - lo) * n
		switch {
		case !(f >= 0):
			return 0
		case f >= n-1:
			return n - 1
		}
		return uint32(f)
	}
	x := cell(p[0], b.Min[0], b.Max[0])
	y := cell(p[1], b.Min[1], b.Max[1])
	// The classic walk from the top bit down, without branches: a
	// quadrant's bits are random, so branches on them mispredict half the
	// time.
	var d uint64
	for k := HilbertOrder - 1; k >= 0; k-- {
		rx := x >> k & 1
		ry := y >> k & 1
		d += uint64(1) << (2 * k) * uint64((3*rx)^ry)
		// Quadrants with ry == 0 turn: flipped (rx == 1), then transposed.
		flip := -(rx &^ ry) & (n - 1)
		x ^= flip
		y ^= flip
		swap := (x ^ y) & -(ry ^ 1)
		x ^= swap
		y ^= swap
	}
	return d
}
