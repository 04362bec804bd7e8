package synth

// hilbertOrder is the number of bits per axis of the Hilbert keys.
const hilbertOrder = 18

// hilbert returns the distance along the Hilbert curve of order
// hilbertOrder of the cell (x, y), both in [0, 2^hilbertOrder).
func hilbert(x, y uint32) uint64 {
	var d uint64
	for s := uint32(1) << (hilbertOrder - 1); s > 0; s >>= 1 {
		var rx, ry uint32
		if x&s != 0 {
			rx = 1
		}
		if y&s != 0 {
			ry = 1
		}
		d += uint64(s) * uint64(s) * uint64((3*rx)^ry)
		if ry == 0 {
			if rx == 1 {
				// n-1-v flips every bit; only the bits below s matter from here on.
				x ^= 1<<hilbertOrder - 1
				y ^= 1<<hilbertOrder - 1
			}
			x, y = y, x
		}
	}
	return d
}
