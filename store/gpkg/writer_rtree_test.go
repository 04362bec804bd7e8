package gpkg

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"citytwin/parts"

	"github.com/paulmach/orb"
)

// schemaObjects returns the triggers and rtree tables of db, name => SQL.
func schemaObjects(t *testing.T, db *sql.DB) map[string]string {
	t.Helper()
	rows, err := db.Query(`SELECT name, sql FROM sqlite_master WHERE type = 'trigger' OR name GLOB 'rtree_*' AND sql NOT NULL`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var name, q string
		if err := rows.Scan(&name, &q); err != nil {
			t.Fatal(err)
		}
		out[name] = q
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestWriterRtree checks that the Writer, which loads without the rtree
// insert triggers, commits the file the migrations make: the same triggers
// and rtree tables, and one rtree entry per non-empty geometry with its box,
// for parts (points, lines, polygons) and grids.
func TestWriterRtree(t *testing.T) {
	// The reference: the new-file schema as the migrations create it.
	registerSQLFunctions()
	ref, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "ref.gpkg"))
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	schema, err := newFileSQL()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ref.Exec(schema); err != nil {
		t.Fatal(err)
	}
	want := schemaObjects(t, ref)
	if !strings.Contains(want["rtree_parts_geom_insert"], "INSERT OR REPLACE INTO rtree_parts_geom") {
		t.Fatalf("reference schema has no rtree insert trigger: %v", want)
	}

	// More rows than one INSERT batch, of every geometry kind.
	path := filepath.Join(t.TempDir(), "city.gpkg")
	w, err := Create(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	base := sampleParts(t)
	var ps []parts.Part
	for i := range 60*batchRows + 7 {
		p := base[i%len(base)]
		p.Code = mustCode(t, fmt.Sprintf("%s%06d", p.Code.String()[:10], 100000+i))
		x, y := 104+float64(i%101)*1e-3, 30.5+float64(i/101)*1e-4
		switch i % 3 {
		case 0:
			p.Geometry = orb.Point{x, y}
		case 1:
			p.Geometry = orb.LineString{{x, y}, {x + 2e-4, y + 1e-4}}
		default:
			p.Geometry = orb.Polygon{{{x, y}, {x + 3e-4, y}, {x + 3e-4, y + 2e-4}, {x, y}}}
		}
		ps = append(ps, p)
	}
	if err := w.AddParts(ps); err != nil {
		t.Fatal(err)
	}
	if err := w.AddGrids(sampleGrids(t)); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	s := openT(t, path)
	defer s.Close()
	got := schemaObjects(t, s.db)
	for name, q := range want {
		if got[name] != q {
			t.Errorf("%s after Writer:\n%s\nmigrations make:\n%s", name, got[name], q)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("%s after Writer only", name)
		}
	}

	// The entries are exactly those the module makes of the rows (the
	// insert trigger, or INSERT ... SELECT): one per non-empty geometry, the
	// same float32 boxes rounded outwards.
	conn, err := s.db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, table := range []string{"parts", "grids"} {
		ref := "temp.ref_" + table
		if _, err := conn.ExecContext(context.Background(), `CREATE VIRTUAL TABLE `+ref+` USING rtree(id, minx, maxx, miny, maxy);
INSERT INTO `+ref+` SELECT fid, ST_MinX(geom), ST_MaxX(geom), ST_MinY(geom), ST_MaxY(geom) FROM `+table+`
  WHERE geom NOT NULL AND NOT ST_IsEmpty(geom)`); err != nil {
			t.Fatal(err)
		}
		var rows, geoms, missing, extra int
		conn.QueryRowContext(context.Background(), `SELECT count(*) FROM rtree_`+table+`_geom`).Scan(&rows)
		conn.QueryRowContext(context.Background(), `SELECT count(*) FROM `+table+` WHERE geom NOT NULL AND NOT ST_IsEmpty(geom)`).Scan(&geoms)
		conn.QueryRowContext(context.Background(), `SELECT count(*) FROM (SELECT * FROM `+ref+` EXCEPT SELECT * FROM rtree_`+table+`_geom)`).Scan(&missing)
		conn.QueryRowContext(context.Background(), `SELECT count(*) FROM (SELECT * FROM rtree_`+table+`_geom EXCEPT SELECT * FROM `+ref+`)`).Scan(&extra)
		if rows == 0 || rows != geoms || missing != 0 || extra != 0 {
			t.Errorf("rtree_%s_geom: %d entries for %d non-empty geometries; %d entries missing, %d not the module's", table, rows, geoms, missing, extra)
		}
	}
	// The module's own check of the tree: node sizes, boxes that hold their
	// children, the %_rowid and %_parent maps.
	for _, rt := range []string{"rtree_parts_geom", "rtree_grids_geom", "rtree_sensors_geom"} {
		var check string
		if err := s.db.QueryRow(`SELECT rtreecheck(?)`, rt).Scan(&check); err != nil || check != "ok" {
			t.Errorf("rtreecheck(%s): %q %v", rt, check, err)
		}
	}
	// A spatial query through the rtree finds what a scan finds.
	var viaRtree, viaScan int
	s.db.QueryRow(`SELECT count(*) FROM rtree_parts_geom WHERE maxx >= 104.05 AND minx <= 104.1 AND maxy >= 30.5 AND miny <= 30.51`).Scan(&viaRtree)
	s.db.QueryRow(`SELECT count(*) FROM parts WHERE ST_MaxX(geom) >= 104.05 AND ST_MinX(geom) <= 104.1 AND ST_MaxY(geom) >= 30.5 AND ST_MinY(geom) <= 30.51`).Scan(&viaScan)
	if viaRtree == 0 || viaRtree != viaScan {
		t.Errorf("rtree query finds %d parts, a scan %d", viaRtree, viaScan)
	}
	for _, p := range ps[:6] {
		b, ok := rtreeBox(t, s, p.Code)
		g := p.Geometry.Bound()
		if !ok || !b.Contains(g.Min) || !b.Contains(g.Max) {
			t.Errorf("part %s: rtree box %v %v, geometry box %v", p.Code, b, ok, g)
		}
	}

	// The triggers are back: the write path keeps the rtree in step.
	added := ps[0]
	added.Code = mustCode(t, added.Code.String()[:10]+"999999")
	added.Geometry = orb.Point{104.7, 30.2}
	added.Version = 1
	if err := s.PutParts(context.Background(), []parts.Part{added}); err != nil {
		t.Fatal(err)
	}
	if b, ok := rtreeBox(t, s, added.Code); !ok || !b.Contains(orb.Point{104.7, 30.2}) {
		t.Errorf("part added after the load: rtree box %v %v", b, ok)
	}
}
