package gpkg

import (
	"context"
	"strings"
	"testing"

	"citytwin/parts"

	"github.com/paulmach/orb"
)

// rtreeBox reads the box the rtree holds for the part with code.
func rtreeBox(t *testing.T, s *Store, code parts.Code) (orb.Bound, bool) {
	t.Helper()
	var b orb.Bound
	err := s.db.QueryRow(`SELECT r.minx, r.miny, r.maxx, r.maxy FROM rtree_parts_geom r JOIN parts p ON p.fid = r.id WHERE p.code = ?`,
		code.String()).Scan(&b.Min[0], &b.Min[1], &b.Max[0], &b.Max[1])
	if err != nil {
		return b, false
	}
	return b, true
}

// TestRtreeIndex checks the gpkg_rtree_index extension: registered on the
// geometry tables, filled by Writer, kept in step by the write path
// (insert, update of the geometry), and read by GDAL.
func TestRtreeIndex(t *testing.T) {
	path := writeSample(t)
	s := openT(t, path)
	ctx := context.Background()
	var n int
	if err := s.db.QueryRow(`SELECT count(*) FROM gpkg_extensions WHERE extension_name = 'gpkg_rtree_index'
  AND table_name IN ('parts', 'grids', 'sensors', 'cases') AND column_name = 'geom'`).Scan(&n); err != nil || n != 4 {
		t.Fatalf("gpkg_extensions rows: %d, %v", n, err)
	}
	ps := sampleParts(t)
	var rows, withGeom int
	s.db.QueryRow(`SELECT count(*) FROM rtree_parts_geom`).Scan(&rows)
	s.db.QueryRow(`SELECT count(*) FROM parts WHERE geom IS NOT NULL`).Scan(&withGeom)
	if rows != withGeom || rows == 0 {
		t.Fatalf("rtree_parts_geom has %d rows, parts %d with a geometry", rows, withGeom)
	}
	s.db.QueryRow(`SELECT count(*) FROM rtree_grids_geom`).Scan(&rows)
	if rows != len(sampleGrids(t)) {
		t.Fatalf("rtree_grids_geom has %d rows", rows)
	}
	for _, p := range ps {
		b, ok := rtreeBox(t, s, p.Code)
		want := p.Geometry.Bound()
		// the rtree stores float32 boxes rounded outwards
		if !ok || b.Min[0] > want.Min[0] || b.Min[1] > want.Min[1] || b.Max[0] < want.Max[0] || b.Max[1] < want.Max[1] ||
			b.Max[0]-b.Min[0] > want.Max[0]-want.Min[0]+1e-4 {
			t.Fatalf("part %s: rtree box %v (%v), geometry box %v", p.Code, b, ok, want)
		}
	}
	// The write path keeps it in step: a moved part moves in the rtree,
	// a new part is added.
	moved := ps[0]
	moved.Geometry = orb.Point{104.5, 30.9}
	moved.Version = loadParts(t, s)[moved.Code].Version + 1
	added := ps[0]
	added.Code = mustCode(t, "3205080101000999")
	added.Geometry = orb.LineString{{104.1, 30.1}, {104.2, 30.3}}
	added.Version = 1
	if err := s.PutParts(ctx, []parts.Part{moved, added}); err != nil {
		t.Fatal(err)
	}
	if b, ok := rtreeBox(t, s, moved.Code); !ok || !b.Contains(orb.Point{104.5, 30.9}) || b.Max[0]-b.Min[0] > 1e-4 {
		t.Errorf("moved part: rtree box %v %v", b, ok)
	}
	if b, ok := rtreeBox(t, s, added.Code); !ok || !b.Contains(orb.Point{104.1, 30.1}) || !b.Contains(orb.Point{104.2, 30.3}) {
		t.Errorf("added line: rtree box %v %v", b, ok)
	}
	s.Close()

	// GDAL sees the spatial index and uses it for a spatial filter.
	out := ogrinfo(t, "-ro", path, "-sql", "SELECT HasSpatialIndex('parts', 'geom') AS p, HasSpatialIndex('grids', 'geom') AS g")
	if !strings.Contains(out, "p (Integer) = 1") || !strings.Contains(out, "g (Integer) = 1") {
		t.Errorf("GDAL finds no spatial index:\n%s", out)
	}
	out = ogrinfo(t, "-ro", "-so", "-spat", "104.49", "30.89", "104.51", "30.91", path, "parts")
	if !strings.Contains(out, "Feature Count: 1\n") {
		t.Errorf("GDAL spatial filter over the moved part:\n%s", out)
	}
}
