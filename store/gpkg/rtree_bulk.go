package gpkg

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"math"
	"slices"

	sqlite3 "modernc.org/sqlite/lib"
)

// The bulk load of an empty gpkg_rtree_index table, as GDAL (>= 3.5,
// ogr_sqlite_rtree_bulk_loader) does for a new layer: the boxes are read
// once, packed into a tree in memory (sort-tile-recursive) and written
// straight into the rtree module's shadow tables (%_node, %_rowid,
// %_parent) in the module's own format. Inserting row by row through the
// module (INSERT ... SELECT) costs a tree descent, a node rewrite and three
// shadow-table writes per row: three times the rest of a 2,000,000-part gen.
// The entries are those INSERT ... SELECT gives (one per non-empty
// geometry, the same float32 boxes rounded outwards); only the grouping of
// the entries into nodes differs, which no reader depends on.

// rtreeMaxCells is SQLite's RTREE_MAXCELLS: the node size of a new rtree
// is capped at 4 + 24*51 bytes for 2-dimensional float32 boxes.
const (
	rtreeMaxCells = 51
	rtreeCellSize = 8 + 4*4
)

// rtreeEntry is one cell: a row id (leaf) or child node number.
type rtreeEntry struct {
	id                     int64
	minx, maxx, miny, maxy float32
}

// rtreeDown and rtreeUp round a double to a float32 that is not above
// (below) it, as SQLite's rtreeValueDown and rtreeValueUp do: the nearest
// float32, moved one step when it is on the wrong side.
func rtreeDown(d float64) float32 {
	f := float32(d)
	if float64(f) > d {
		x := math.Float32bits(f)
		if x&0x80000000 != 0 {
			x++
		} else {
			x--
		}
		f = math.Float32frombits(x)
	}
	return f
}

func rtreeUp(d float64) float32 {
	f := float32(d)
	if float64(f) < d {
		x := math.Float32bits(f)
		if x&0x80000000 != 0 {
			x--
		} else {
			x++
		}
		f = math.Float32frombits(x)
	}
	return f
}

// bulkLoadRtree fills the empty rtree of r from its table, reporting
// ok=false (and writing nothing) when the rtree is not empty or not in the
// layout this loader writes; the caller then fills it row by row.
func (w *Writer) bulkLoadRtree(r rtreeIndex) (ok bool, err error) {
	rt := "rtree_" + r.table + "_" + r.column
	nodeSize, err := w.queryInt(fmt.Sprintf(`SELECT length(data) FROM %q WHERE nodeno = 1`, rt+"_node"))
	if err != nil || nodeSize != 4+rtreeCellSize*rtreeMaxCells {
		return false, err
	}
	if n, err := w.queryInt(fmt.Sprintf(`SELECT count(*) FROM %q`, rt+"_rowid")); err != nil || n != 0 {
		return false, err
	}
	c := fmt.Sprintf("%q", r.column)
	q, err := w.conn.prepare(fmt.Sprintf(`SELECT fid, ST_MinX(%s), ST_MaxX(%s), ST_MinY(%s), ST_MaxY(%s) FROM %q
  WHERE %s NOT NULL AND NOT ST_IsEmpty(%s)`, c, c, c, c, r.table, c, c))
	if err != nil {
		return false, err
	}
	defer q.close()
	var es []rtreeEntry
	for {
		row, err := q.step()
		if err != nil {
			return false, err
		}
		if !row {
			break
		}
		e := rtreeEntry{id: q.int64(0)}
		var d [4]float64
		for i := range d {
			if sqlite3.Xsqlite3_column_type(q.c.tls, q.p, int32(i+1)) == sqlite3.SQLITE_NULL {
				return false, nil // let the module report it
			}
			d[i] = sqlite3.Xsqlite3_column_double(q.c.tls, q.p, int32(i+1))
		}
		e.minx, e.maxx, e.miny, e.maxy = rtreeDown(d[0]), rtreeUp(d[1]), rtreeDown(d[2]), rtreeUp(d[3])
		if !(e.minx <= e.maxx && e.miny <= e.maxy) { // also NaN: the module refuses it
			return false, nil
		}
		es = append(es, e)
	}
	q.close()
	if len(es) == 0 {
		return true, nil
	}

	// Pack level by level until one node is left: the root, node 1.
	type node struct {
		cells  []rtreeEntry
		nodeno int64
	}
	var levels [][]node // leaves first
	for cur := es; ; {
		ns := strPack(cur)
		levels = append(levels, nil)
		lv := len(levels) - 1
		for _, cells := range ns {
			levels[lv] = append(levels[lv], node{cells: cells})
		}
		if len(ns) == 1 {
			break
		}
		cur = make([]rtreeEntry, len(ns))
		for i, cells := range ns {
			cur[i] = boxOf(cells)
			cur[i].id = int64(i) // the child's index in its level, numbered below
		}
	}
	// Number the nodes from the root (1) down, then point the cells of
	// inner nodes at their children's numbers.
	depth := len(levels) - 1
	next := int64(1)
	for lv := depth; lv >= 0; lv-- {
		for i := range levels[lv] {
			levels[lv][i].nodeno = next
			next++
		}
	}
	for lv := depth; lv > 0; lv-- {
		for i := range levels[lv] {
			for j := range levels[lv][i].cells {
				c := &levels[lv][i].cells[j]
				c.id = levels[lv-1][c.id].nodeno
			}
		}
	}

	nodeStmt, err := w.conn.prepare(fmt.Sprintf(`INSERT OR REPLACE INTO %q (nodeno, data) VALUES (?, ?)`, rt+"_node"))
	if err != nil {
		return false, err
	}
	defer nodeStmt.close()
	rowidStmt, err := w.conn.prepare(insertSQL(fmt.Sprintf("%q", rt+"_rowid"), []string{"rowid", "nodeno"}, rtreeMaxCells, ""))
	if err != nil {
		return false, err
	}
	defer rowidStmt.close()
	parentStmt, err := w.conn.prepare(fmt.Sprintf(`INSERT INTO %q (nodeno, parentnode) VALUES (?, ?)`, rt+"_parent"))
	if err != nil {
		return false, err
	}
	defer parentStmt.close()
	for lv := depth; lv >= 0; lv-- {
		for _, n := range levels[lv] {
			w.vals.reset()
			w.vals.int(n.nodeno)
			start := len(w.vals.buf)
			w.vals.buf = appendRtreeNode(w.vals.buf, n.cells, lv == depth, depth)
			w.vals.blobFrom(start)
			if err := nodeStmt.run(&w.vals); err != nil {
				return false, err
			}
			if lv > 0 {
				for _, cl := range n.cells {
					w.vals.reset()
					w.vals.int(cl.id)
					w.vals.int(n.nodeno)
					if err := parentStmt.run(&w.vals); err != nil {
						return false, err
					}
				}
				continue
			}
			w.vals.reset()
			for _, cl := range n.cells {
				w.vals.int(cl.id)
				w.vals.int(n.nodeno)
			}
			stmt := rowidStmt
			if len(n.cells) < rtreeMaxCells {
				if stmt, err = w.conn.prepare(insertSQL(fmt.Sprintf("%q", rt+"_rowid"), []string{"rowid", "nodeno"}, len(n.cells), "")); err != nil {
					return false, err
				}
			}
			err := stmt.run(&w.vals)
			if stmt != rowidStmt {
				stmt.close()
			}
			if err != nil {
				return false, err
			}
		}
	}
	return true, nil
}

// queryInt runs a query of one integer.
func (w *Writer) queryInt(q string) (int64, error) {
	s, err := w.conn.prepare(q)
	if err != nil {
		return 0, err
	}
	defer s.close()
	row, err := s.step()
	if err != nil || !row {
		return 0, err
	}
	return s.int64(0), nil
}

// strPack groups es into nodes of at most rtreeMaxCells, sort-tile-
// recursive: slices of the boxes sorted by x centre, each sorted by y.
// It reorders es.
func strPack(es []rtreeEntry) [][]rtreeEntry {
	nodes := (len(es) + rtreeMaxCells - 1) / rtreeMaxCells
	slabs := int(math.Ceil(math.Sqrt(float64(nodes))))
	perSlab := slabs * rtreeMaxCells
	cx := func(e rtreeEntry) float32 { return e.minx + e.maxx }
	cy := func(e rtreeEntry) float32 { return e.miny + e.maxy }
	slices.SortFunc(es, func(a, b rtreeEntry) int { return cmp.Or(cmp.Compare(cx(a), cx(b)), cmp.Compare(a.id, b.id)) })
	var out [][]rtreeEntry
	for s := 0; s < len(es); s += perSlab {
		slab := es[s:min(s+perSlab, len(es))]
		slices.SortFunc(slab, func(a, b rtreeEntry) int { return cmp.Or(cmp.Compare(cy(a), cy(b)), cmp.Compare(a.id, b.id)) })
		for i := 0; i < len(slab); i += rtreeMaxCells {
			out = append(out, slab[i:min(i+rtreeMaxCells, len(slab))])
		}
	}
	return out
}

// boxOf returns the box of cells.
func boxOf(cells []rtreeEntry) rtreeEntry {
	b := cells[0]
	for _, c := range cells[1:] {
		b.minx, b.maxx = min(b.minx, c.minx), max(b.maxx, c.maxx)
		b.miny, b.maxy = min(b.miny, c.miny), max(b.maxy, c.maxy)
	}
	return b
}

// appendRtreeNode appends a node in the rtree module's format: the tree's
// depth (root only), the cell count, the cells (id, then minx, maxx, miny,
// maxy as big-endian float32), zeros up to the node size.
func appendRtreeNode(b []byte, cells []rtreeEntry, root bool, depth int) []byte {
	start := len(b)
	d := uint16(0)
	if root {
		d = uint16(depth)
	}
	b = binary.BigEndian.AppendUint16(b, d)
	b = binary.BigEndian.AppendUint16(b, uint16(len(cells)))
	for _, c := range cells {
		b = binary.BigEndian.AppendUint64(b, uint64(c.id))
		for _, f := range []float32{c.minx, c.maxx, c.miny, c.maxy} {
			b = binary.BigEndian.AppendUint32(b, math.Float32bits(f))
		}
	}
	for len(b)-start < 4+rtreeCellSize*rtreeMaxCells {
		b = append(b, 0)
	}
	return b
}
