package ingest

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// An OpenStreetMap PBF reader (https://wiki.openstreetmap.org/wiki/PBF_Format)
// with the standard library: a file is a sequence of (4-byte big-endian
// length, BlobHeader, Blob); a Blob holds a zlib-compressed or raw
// HeaderBlock or PrimitiveBlock. Only what components need is decoded:
// nodes (plain and dense) and ways with their tags; relations, metadata
// and history are skipped.

// Limits of the format (the specification's).
const (
	maxBlobHeader = 64 << 10
	maxBlob       = 32 << 20
)

// osmElement is one node or way: id, tags and, for a node, its position;
// for a way, its node ids.
type osmElement struct {
	way  bool
	id   int64
	tags map[string]string
	lon  float64
	lat  float64
	refs []int64
}

// pbfReader reads the elements of a PBF stream, block by block.
type pbfReader struct {
	r     io.Reader
	block []osmElement
	pos   int
	buf   []byte
	zbuf  bytes.Buffer
	nblk  int
}

func newPBFReader(r io.Reader) *pbfReader { return &pbfReader{r: r} }

// next returns the next element, io.EOF at the end.
func (p *pbfReader) next() (osmElement, error) {
	for p.pos >= len(p.block) {
		if err := p.readBlock(); err != nil {
			return osmElement{}, err
		}
	}
	e := p.block[p.pos]
	p.pos++
	return e, nil
}

func (p *pbfReader) fail(format string, args ...any) error {
	return fmt.Errorf("osm pbf block %d: %s", p.nblk, fmt.Sprintf(format, args...))
}

func (p *pbfReader) readBlock() error {
	var lb [4]byte
	if _, err := io.ReadFull(p.r, lb[:]); err != nil {
		if errors.Is(err, io.EOF) {
			return io.EOF
		}
		return p.fail("reading the header length: %v", err)
	}
	p.nblk++
	n := binary.BigEndian.Uint32(lb[:])
	if n == 0 || n > maxBlobHeader {
		return p.fail("blob header of %d bytes (not an OSM PBF file?)", n)
	}
	hdr := make([]byte, n)
	if _, err := io.ReadFull(p.r, hdr); err != nil {
		return p.fail("truncated blob header: %v", err)
	}
	var typ string
	var size int64 = -1
	err := eachField(hdr, func(f int, wt int, v uint64, b []byte) error {
		switch f {
		case 1:
			typ = string(b)
		case 3:
			size = int64(v)
		}
		return nil
	})
	if err != nil {
		return p.fail("blob header: %v", err)
	}
	if size < 0 || size > maxBlob {
		return p.fail("blob of %d bytes", size)
	}
	if cap(p.buf) < int(size) {
		p.buf = make([]byte, size)
	}
	blob := p.buf[:size]
	if _, err := io.ReadFull(p.r, blob); err != nil {
		return p.fail("truncated blob: %v", err)
	}
	data, err := p.unpack(blob)
	if err != nil {
		return err
	}
	p.block, p.pos = p.block[:0], 0
	switch typ {
	case "OSMHeader":
		return p.header(data)
	case "OSMData":
		return p.primitive(data)
	}
	return nil // unknown blob types are skipped, as the format says
}

func (p *pbfReader) unpack(blob []byte) ([]byte, error) {
	var raw, z []byte
	var rawSize int
	err := eachField(blob, func(f int, wt int, v uint64, b []byte) error {
		switch f {
		case 1:
			raw = b
		case 2:
			rawSize = int(v)
		case 3:
			z = b
		case 4, 5, 6, 7:
			return fmt.Errorf("compression %d is not supported (zlib or none)", f)
		}
		return nil
	})
	if err != nil {
		return nil, p.fail("blob: %v", err)
	}
	if raw != nil {
		return raw, nil
	}
	if z == nil {
		return nil, p.fail("blob has no data")
	}
	if rawSize < 0 || rawSize > maxBlob {
		return nil, p.fail("blob's raw size %d", rawSize)
	}
	zr, err := zlib.NewReader(bytes.NewReader(z))
	if err != nil {
		return nil, p.fail("zlib: %v", err)
	}
	p.zbuf.Reset()
	p.zbuf.Grow(rawSize)
	if _, err := io.Copy(&p.zbuf, io.LimitReader(zr, maxBlob+1)); err != nil {
		return nil, p.fail("zlib: %v", err)
	}
	if p.zbuf.Len() > maxBlob {
		return nil, p.fail("blob inflates past %d bytes", maxBlob)
	}
	return p.zbuf.Bytes(), nil
}

// header checks the required features of the file.
func (p *pbfReader) header(data []byte) error {
	return eachField(data, func(f int, wt int, v uint64, b []byte) error {
		if f == 4 {
			switch s := string(b); s {
			case "OsmSchema-V0.6", "DenseNodes":
			default:
				return p.fail("the file requires feature %q, which this reader lacks", s)
			}
		}
		return nil
	})
}

// primitive decodes a PrimitiveBlock into p.block.
func (p *pbfReader) primitive(data []byte) error {
	var (
		strs           [][]byte
		groups         [][]byte
		gran           int64 = 100
		latOff, lonOff int64
	)
	err := eachField(data, func(f int, wt int, v uint64, b []byte) error {
		switch f {
		case 1:
			return eachField(b, func(f int, wt int, v uint64, s []byte) error {
				if f == 1 {
					strs = append(strs, s)
				}
				return nil
			})
		case 2:
			groups = append(groups, b)
		case 17:
			gran = int64(v)
		case 19:
			latOff = int64(v)
		case 20:
			lonOff = int64(v)
		}
		return nil
	})
	if err != nil {
		return p.fail("primitive block: %v", err)
	}
	str := func(i uint64) (string, error) {
		if i >= uint64(len(strs)) {
			return "", fmt.Errorf("string index %d past the table of %d", i, len(strs))
		}
		return string(strs[i]), nil
	}
	coord := func(off, v int64) float64 { return 1e-9 * float64(off+gran*v) }
	for _, g := range groups {
		err := eachField(g, func(f int, wt int, v uint64, b []byte) error {
			switch f {
			case 1:
				return p.node(b, str, func(v int64) float64 { return coord(latOff, v) }, func(v int64) float64 { return coord(lonOff, v) })
			case 2:
				return p.dense(b, str, func(v int64) float64 { return coord(latOff, v) }, func(v int64) float64 { return coord(lonOff, v) })
			case 3:
				return p.way(b, str)
			}
			return nil
		})
		if err != nil {
			return p.fail("%v", err)
		}
	}
	return nil
}

func tagsOf(keys, vals []uint64, str func(uint64) (string, error)) (map[string]string, error) {
	if len(keys) != len(vals) {
		return nil, fmt.Errorf("%d tag keys, %d values", len(keys), len(vals))
	}
	if len(keys) == 0 {
		return nil, nil
	}
	m := make(map[string]string, len(keys))
	for i := range keys {
		k, err := str(keys[i])
		if err != nil {
			return nil, err
		}
		v, err := str(vals[i])
		if err != nil {
			return nil, err
		}
		m[k] = v
	}
	return m, nil
}

func (p *pbfReader) node(b []byte, str func(uint64) (string, error), lat, lon func(int64) float64) error {
	var e osmElement
	var keys, vals []uint64
	err := eachField(b, func(f int, wt int, v uint64, pb []byte) error {
		var err error
		switch f {
		case 1:
			e.id = unzigzag(v)
		case 2:
			keys, err = packed(pb, wt, v, keys)
		case 3:
			vals, err = packed(pb, wt, v, vals)
		case 8:
			e.lat = lat(unzigzag(v))
		case 9:
			e.lon = lon(unzigzag(v))
		}
		return err
	})
	if err != nil {
		return err
	}
	if e.tags, err = tagsOf(keys, vals, str); err != nil {
		return err
	}
	p.block = append(p.block, e)
	return nil
}

func (p *pbfReader) dense(b []byte, str func(uint64) (string, error), lat, lon func(int64) float64) error {
	var ids, lats, lons, kv []uint64
	err := eachField(b, func(f int, wt int, v uint64, pb []byte) error {
		var err error
		switch f {
		case 1:
			ids, err = packed(pb, wt, v, ids)
		case 8:
			lats, err = packed(pb, wt, v, lats)
		case 9:
			lons, err = packed(pb, wt, v, lons)
		case 10:
			kv, err = packed(pb, wt, v, kv)
		}
		return err
	})
	if err != nil {
		return err
	}
	if len(lats) != len(ids) || len(lons) != len(ids) {
		return fmt.Errorf("dense nodes: %d ids, %d lats, %d lons", len(ids), len(lats), len(lons))
	}
	var id, la, lo int64
	k := 0
	for i := range ids {
		id += unzigzag(ids[i])
		la += unzigzag(lats[i])
		lo += unzigzag(lons[i])
		e := osmElement{id: id, lat: lat(la), lon: lon(lo)}
		// keys_vals: k v k v ... 0 per node (absent when no node has tags)
		for k < len(kv) {
			if kv[k] == 0 {
				k++
				break
			}
			if k+1 >= len(kv) {
				return errors.New("dense nodes: a tag key without a value")
			}
			ks, err := str(kv[k])
			if err != nil {
				return err
			}
			vs, err := str(kv[k+1])
			if err != nil {
				return err
			}
			if e.tags == nil {
				e.tags = map[string]string{}
			}
			e.tags[ks] = vs
			k += 2
		}
		p.block = append(p.block, e)
	}
	return nil
}

func (p *pbfReader) way(b []byte, str func(uint64) (string, error)) error {
	e := osmElement{way: true}
	var keys, vals, refs []uint64
	err := eachField(b, func(f int, wt int, v uint64, pb []byte) error {
		var err error
		switch f {
		case 1:
			e.id = int64(v)
		case 2:
			keys, err = packed(pb, wt, v, keys)
		case 3:
			vals, err = packed(pb, wt, v, vals)
		case 8:
			refs, err = packed(pb, wt, v, refs)
		}
		return err
	})
	if err != nil {
		return err
	}
	if e.tags, err = tagsOf(keys, vals, str); err != nil {
		return err
	}
	var ref int64
	e.refs = make([]int64, len(refs))
	for i, r := range refs {
		ref += unzigzag(r)
		e.refs[i] = ref
	}
	p.block = append(p.block, e)
	return nil
}

func unzigzag(v uint64) int64 { return int64(v>>1) ^ -int64(v&1) }

// packed appends the varints of a packed field (or one unpacked value).
func packed(b []byte, wt int, v uint64, dst []uint64) ([]uint64, error) {
	if wt == 0 {
		return append(dst, v), nil
	}
	for len(b) > 0 {
		x, n := binary.Uvarint(b)
		if n <= 0 {
			return dst, errors.New("bad varint in a packed field")
		}
		dst = append(dst, x)
		b = b[n:]
	}
	return dst, nil
}

// eachField walks the fields of a protobuf message: for a varint or fixed
// field v holds the value, for a length-delimited field b the bytes.
func eachField(msg []byte, fn func(field, wiretype int, v uint64, b []byte) error) error {
	for len(msg) > 0 {
		key, n := binary.Uvarint(msg)
		if n <= 0 {
			return errors.New("bad field key")
		}
		msg = msg[n:]
		field, wt := int(key>>3), int(key&7)
		var v uint64
		var b []byte
		switch wt {
		case 0:
			v, n = binary.Uvarint(msg)
			if n <= 0 {
				return errors.New("bad varint")
			}
			msg = msg[n:]
		case 1:
			if len(msg) < 8 {
				return errors.New("truncated fixed64")
			}
			v = binary.LittleEndian.Uint64(msg)
			msg = msg[8:]
		case 2:
			l, n := binary.Uvarint(msg)
			if n <= 0 || l > uint64(len(msg)-n) {
				return errors.New("bad length")
			}
			b = msg[n : n+int(l)]
			msg = msg[n+int(l):]
		case 5:
			if len(msg) < 4 {
				return errors.New("truncated fixed32")
			}
			v = uint64(binary.LittleEndian.Uint32(msg))
			msg = msg[4:]
		default:
			return fmt.Errorf("wire type %d is not supported", wt)
		}
		if err := fn(field, wt, v, b); err != nil {
			return err
		}
	}
	return nil
}
