package gpkg

// Kinds of a statement argument in values.
const (
	kindNull = iota
	kindInt
	kindFloat
	kindText
	kindBlob
)

// value is one statement argument; text and blobs are bytes [off, off+n)
// of the values' buf.
type value struct {
	kind uint8
	off  int
	n    int
	i    int64
	f    float64
}

// values is a list of statement arguments whose text and blob bytes live
// in one buffer: building a row allocates nothing once the buffers have
// grown.
type values struct {
	ps  []value
	buf []byte
}

func (v *values) reset() { v.ps, v.buf = v.ps[:0], v.buf[:0] }

// mark returns the current length, for truncate after a failed row.
func (v *values) mark() (int, int) { return len(v.ps), len(v.buf) }

func (v *values) truncate(np, nb int) { v.ps, v.buf = v.ps[:np], v.buf[:nb] }

func (v *values) null() { v.ps = append(v.ps, value{kind: kindNull}) }

func (v *values) int(i int64) { v.ps = append(v.ps, value{kind: kindInt, i: i}) }

func (v *values) float(f float64) { v.ps = append(v.ps, value{kind: kindFloat, f: f}) }

// text adds s; the empty string is NULL.
func (v *values) text(s string) {
	if s == "" {
		v.null()
		return
	}
	v.ps = append(v.ps, value{kind: kindText, off: len(v.buf), n: len(s)})
	v.buf = append(v.buf, s...)
}

// textFrom adds the bytes appended to buf since offset start as text.
func (v *values) textFrom(start int) {
	v.ps = append(v.ps, value{kind: kindText, off: start, n: len(v.buf) - start})
}

// blobFrom adds the bytes appended to buf since offset start as a blob.
func (v *values) blobFrom(start int) {
	v.ps = append(v.ps, value{kind: kindBlob, off: start, n: len(v.buf) - start})
}

// args returns the values as database/sql arguments.
func (v *values) args() []any {
	out := make([]any, len(v.ps))
	for i, p := range v.ps {
		switch p.kind {
		case kindInt:
			out[i] = p.i
		case kindFloat:
			out[i] = p.f
		case kindText:
			out[i] = string(v.buf[p.off : p.off+p.n])
		case kindBlob:
			out[i] = v.buf[p.off : p.off+p.n : p.off+p.n]
		}
	}
	return out
}
