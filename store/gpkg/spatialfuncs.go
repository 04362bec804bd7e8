package gpkg

import (
	"database/sql/driver"
	"encoding/binary"
	"errors"
	"math"
	"strings"
	"sync"
	"unsafe"

	"github.com/paulmach/orb"
	"modernc.org/libc"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// The triggers of the gpkg_rtree_index extension (migration 0005) call
// ST_IsEmpty, ST_MinX, ST_MaxX, ST_MinY and ST_MaxY on GeoPackage geometry
// blobs, as GDAL and QGIS define them. store/gpkg registers them on every
// connection it opens: on the database/sql driver's (registerSQLFunctions)
// and on its raw connections (rawConn.registerSpatial), so that the write
// path keeps the rtree in step through the triggers.

// spatialFuncs are the functions, by name: each returns a float or, for
// ST_IsEmpty, 0 or 1; NULL for a NULL or unreadable blob.
var spatialFuncs = []struct {
	name string
	fn   func(b []byte) (float64, bool)
}{
	{"ST_IsEmpty", func(b []byte) (float64, bool) {
		_, empty, ok := blobBound(b)
		if !ok {
			return 0, false
		}
		if empty {
			return 1, true
		}
		return 0, true
	}},
	{"ST_MinX", boundFunc(func(b orb.Bound) float64 { return b.Min[0] })},
	{"ST_MaxX", boundFunc(func(b orb.Bound) float64 { return b.Max[0] })},
	{"ST_MinY", boundFunc(func(b orb.Bound) float64 { return b.Min[1] })},
	{"ST_MaxY", boundFunc(func(b orb.Bound) float64 { return b.Max[1] })},
}

func boundFunc(f func(orb.Bound) float64) func([]byte) (float64, bool) {
	return func(b []byte) (float64, bool) {
		bd, empty, ok := blobBound(b)
		if !ok || empty {
			return 0, false
		}
		return f(bd), true
	}
}

// blobBound returns the box of a GeoPackage geometry blob: from its
// envelope when it has one, else from the point or the decoded geometry.
// empty is true for an empty geometry (flag, or a point of NaNs).
func blobBound(b []byte) (bd orb.Bound, empty, ok bool) {
	if p, ok := decodePoint(b); ok {
		if math.IsNaN(p[0]) || math.IsNaN(p[1]) {
			return bd, true, true
		}
		return orb.Bound{Min: p, Max: p}, false, true
	}
	if len(b) < headerSize || b[0] != 'G' || b[1] != 'P' {
		return bd, false, false
	}
	flags := b[3]
	if flags&flagEmpty != 0 {
		return bd, true, true
	}
	if (flags>>1)&7 != 0 && len(b) >= headerSize+32 {
		var order binary.ByteOrder = binary.BigEndian
		if flags&flagLittleEndian != 0 {
			order = binary.LittleEndian
		}
		f := func(i int) float64 { return math.Float64frombits(order.Uint64(b[headerSize+8*i:])) }
		return orb.Bound{Min: orb.Point{f(0), f(2)}, Max: orb.Point{f(1), f(3)}}, false, true
	}
	g, err := DecodeGeometry(b)
	if err != nil || g == nil {
		return bd, false, false
	}
	bd = g.Bound()
	if math.IsNaN(bd.Min[0]) {
		return bd, true, true
	}
	return bd, false, true
}

var registerSQL sync.Once

// registerSQLFunctions registers the spatial functions on the connections
// the database/sql "sqlite" driver opens from now on. A name another
// package registered first is kept.
func registerSQLFunctions() {
	registerSQL.Do(func() {
		for _, f := range spatialFuncs {
			fn := f.fn
			err := sqlite.RegisterDeterministicScalarFunction(f.name, 1, func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
				b, _ := args[0].([]byte)
				if b == nil {
					return nil, nil
				}
				v, ok := fn(b)
				if !ok {
					return nil, nil
				}
				return v, nil
			})
			if err != nil && !strings.Contains(err.Error(), "already registered") {
				panic(errors.Join(errors.New("gpkg: register "+f.name), err))
			}
		}
	})
}

// The raw connections' functions: C-callable Go functions (transpiled
// SQLite calls them through their address), one per name.
func rawIsEmpty(tls *libc.TLS, ctx uintptr, argc int32, argv uintptr) { rawCall(tls, ctx, argv, 0) }
func rawMinX(tls *libc.TLS, ctx uintptr, argc int32, argv uintptr)    { rawCall(tls, ctx, argv, 1) }
func rawMaxX(tls *libc.TLS, ctx uintptr, argc int32, argv uintptr)    { rawCall(tls, ctx, argv, 2) }
func rawMinY(tls *libc.TLS, ctx uintptr, argc int32, argv uintptr)    { rawCall(tls, ctx, argv, 3) }
func rawMaxY(tls *libc.TLS, ctx uintptr, argc int32, argv uintptr)    { rawCall(tls, ctx, argv, 4) }

func rawCall(tls *libc.TLS, ctx, argv uintptr, i int) {
	v := *(*uintptr)(ptr(argv))
	if sqlite3.Xsqlite3_value_type(tls, v) != sqlite3.SQLITE_BLOB {
		sqlite3.Xsqlite3_result_null(tls, ctx)
		return
	}
	b := cbytes(sqlite3.Xsqlite3_value_blob(tls, v), int(sqlite3.Xsqlite3_value_bytes(tls, v)))
	r, ok := spatialFuncs[i].fn(b)
	if !ok {
		sqlite3.Xsqlite3_result_null(tls, ctx)
		return
	}
	if i == 0 {
		sqlite3.Xsqlite3_result_int(tls, ctx, int32(r))
		return
	}
	sqlite3.Xsqlite3_result_double(tls, ctx, r)
}

// cFunc returns the address of a Go function as transpiled C code calls
// it (the representation modernc.org/sqlite relies on for its own
// callbacks).
func cFunc(f func(*libc.TLS, uintptr, int32, uintptr)) uintptr {
	return *(*uintptr)(unsafe.Pointer(&struct {
		f func(*libc.TLS, uintptr, int32, uintptr)
	}{f}))
}

// registerSpatial registers the spatial functions on a raw connection.
func (c *rawConn) registerSpatial() error {
	fns := []func(*libc.TLS, uintptr, int32, uintptr){rawIsEmpty, rawMinX, rawMaxX, rawMinY, rawMaxY}
	for i, f := range spatialFuncs {
		name, err := libc.CString(f.name)
		if err != nil {
			return err
		}
		rc := sqlite3.Xsqlite3_create_function(c.tls, c.db, name, 1,
			sqlite3.SQLITE_UTF8|sqlite3.SQLITE_DETERMINISTIC, 0, cFunc(fns[i]), 0, 0)
		libc.Xfree(c.tls, name)
		if rc != sqlite3.SQLITE_OK {
			return c.err(rc)
		}
	}
	return nil
}
