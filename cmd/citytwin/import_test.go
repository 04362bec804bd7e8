package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"citytwin/parts"
	"citytwin/store/gpkg"
	"citytwin/twin"
)

// feature is a GeoJSON feature as these tests write them.
type feature struct {
	Type       string         `json:"type"`
	Properties map[string]any `json:"properties"`
	Geometry   map[string]any `json:"geometry"`
}

// readFeatures reads the features of a file of ../shared/data.
func readFeatures(t *testing.T, name string) []feature {
	t.Helper()
	b, err := os.ReadFile(sharedData(t, name))
	if err != nil {
		t.Fatal(err)
	}
	var fc struct{ Features []feature }
	if err := json.Unmarshal(b, &fc); err != nil {
		t.Fatal(err)
	}
	return fc.Features
}

func writeFeatures(t *testing.T, path string, fs []feature) {
	t.Helper()
	b, err := json.Marshal(map[string]any{"type": "FeatureCollection", "features": fs})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func lonLat(f feature) (float64, float64) {
	c := f.Geometry["coordinates"].([]any)
	return c[0].(float64), c[1].(float64)
}

// loadCity opens a store file and returns its components.
func loadCity(t *testing.T, path string) []parts.Part {
	t.Helper()
	ctx := context.Background()
	st, err := gpkg.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tw, err := twin.Open(ctx, st, twin.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var out []parts.Part
	tw.Parts().Each(func(p parts.Part) bool { out = append(out, p); return true })
	return out
}

// TestImportTwoLayersOverlappingIDs: two layers of real data whose ids
// overlap (both numbered from 1), of the same class and of two classes,
// imported into one city, keep their own components; importing them again
// changes nothing and exits 0.
func TestImportTwoLayersOverlappingIDs(t *testing.T) {
	dir := t.TempDir()
	hyd := readFeatures(t, "cambridge_INFRA_Hydrants.geojson")
	lights := readFeatures(t, "cambridge_INFRA_StreetLights.geojson")
	renumber := func(fs []feature) []feature {
		out := make([]feature, len(fs))
		for i, f := range fs {
			out[i] = feature{Type: "Feature", Geometry: f.Geometry, Properties: map[string]any{"ID": i + 1, "Owner": f.Properties["Owner"]}}
		}
		return out
	}
	north, south := filepath.Join(dir, "hydrants_north.geojson"), filepath.Join(dir, "hydrants_south.geojson")
	lamps := filepath.Join(dir, "lamps.geojson")
	writeFeatures(t, north, renumber(hyd[:300]))
	writeFeatures(t, south, renumber(hyd[300:600]))
	writeFeatures(t, lamps, renumber(lights[:300]))
	city := filepath.Join(dir, "city.gpkg")
	for _, l := range []struct{ file, class string }{{north, "0113"}, {south, "0113"}, {lamps, "0118"}} {
		out, errOut, err := runCmd(t, "import", "--data", city, "--map", "code=ID,class="+l.class, l.file)
		if err != nil || !strings.Contains(out, "300 added") {
			t.Fatalf("import %s: %v\n%s\n%s", l.file, err, out, errOut)
		}
	}
	ps := loadCity(t, city)
	if len(ps) != 900 {
		t.Fatalf("%d components, want 900", len(ps))
	}
	bySource := map[string]int{}
	ids := map[string]bool{}
	for _, p := range ps {
		bySource[p.SourceName]++
		key := p.SourceName + "/" + p.SourceID
		if ids[key] {
			t.Fatalf("source id %s twice", key)
		}
		ids[key] = true
	}
	if bySource["hydrants_north"] != 300 || bySource["hydrants_south"] != 300 || bySource["lamps"] != 300 {
		t.Fatalf("components by source %v", bySource)
	}
	// Row 1 of each layer is its own component, where its layer put it.
	for _, p := range ps {
		if p.SourceID != "1" {
			continue
		}
		want := map[string]feature{"hydrants_north": hyd[0], "hydrants_south": hyd[300], "lamps": lights[0]}[p.SourceName]
		lon, lat := lonLat(want)
		if pt := p.Geometry.Bound().Center(); pt[0] != lon || pt[1] != lat {
			t.Errorf("%s id 1 at %v, its row at %v %v", p.SourceName, pt, lon, lat)
		}
	}
	// Again, both at once: a no-op with exit 0.
	out, errOut, err := runCmd(t, "import", "--data", city, "--map", "code=ID,class=0113", north, south)
	if err != nil || !strings.Contains(out, "0 added, 0 updated, 600 unchanged") || !strings.Contains(out, "nothing changed") {
		t.Fatalf("re-import: %v\n%s\n%s", err, out, errOut)
	}
	if n := countParts(t, city); n != 900 {
		t.Fatalf("%d components after the re-import", n)
	}
	// --source names the source: the same file under another name is
	// another source.
	out, _, err = runCmd(t, "import", "--data", city, "--source", "survey-2024", "--map", "code=ID,class=0113", north)
	if err != nil || !strings.Contains(out, "300 added") {
		t.Fatalf("--source: %v %s", err, out)
	}
}

// TestImportCSVGeometryColumns imports real hydrants as CSV with a WKT
// column and with a GeoJSON column.
func TestImportCSVGeometryColumns(t *testing.T) {
	dir := t.TempDir()
	hyd := readFeatures(t, "cambridge_INFRA_Hydrants.geojson")[:200]
	var wkt, gj strings.Builder
	wkt.WriteString("HYDRANT_ID;WKT;Owner\n")
	gj.WriteString("HYDRANT_ID,geojson\n")
	for i, f := range hyd {
		lon, lat := lonLat(f)
		fmt.Fprintf(&wkt, "W%d;POINT (%v %v);%v\n", i, lon, lat, f.Properties["ContractAuthority"])
		fmt.Fprintf(&gj, "G%d,\"{\"\"type\"\":\"\"Point\"\",\"\"coordinates\"\":[%v,%v]}\"\n", i, lon, lat)
	}
	fmt.Fprintf(&wkt, "bad;POINT (1 2;x\n")
	wp, gp := filepath.Join(dir, "wkt.csv"), filepath.Join(dir, "geojson.csv")
	os.WriteFile(wp, []byte(wkt.String()), 0o600)
	os.WriteFile(gp, []byte(gj.String()), 0o600)
	city := filepath.Join(dir, "city.gpkg")
	out, errOut, err := runCmd(t, "import", "--data", city, "--map", "code=HYDRANT_ID,class=0113,owner=Owner,geometry=WKT", wp)
	if err != nil || !strings.Contains(out, "200 added") || !strings.Contains(out, "1 skipped (1 bad geometry)") || !strings.Contains(errOut, "row 201") {
		t.Fatalf("WKT csv: %v\n%s\n%s", err, out, errOut)
	}
	out, errOut, err = runCmd(t, "import", "--data", city, "--map", "code=HYDRANT_ID,class=0113,geometry=geojson", gp)
	if err != nil || !strings.Contains(out, "200 added") {
		t.Fatalf("GeoJSON csv: %v\n%s\n%s", err, out, errOut)
	}
	if n := countParts(t, city); n != 400 {
		t.Fatalf("%d components, want 400", n)
	}
}

// TestImportPolygonLineAndGeoPackageLayers imports bus-shelter footprints
// (polygons) and benches (lines) drawn at real Cambridge street lights,
// once from GeoJSON and once from a GeoPackage layer made by GDAL.
func TestImportPolygonLineAndGeoPackageLayers(t *testing.T) {
	dir := t.TempDir()
	lights := readFeatures(t, "cambridge_INFRA_StreetLights.geojson")[:100]
	var shelters, benches []feature
	const d = 0.00003 // about 3 m
	for i, f := range lights {
		lon, lat := lonLat(f)
		shelters = append(shelters, feature{Type: "Feature", Properties: map[string]any{"id": i, "stop": fmt.Sprint("Stop ", i)},
			Geometry: map[string]any{"type": "Polygon", "coordinates": [][][]float64{{{lon, lat}, {lon + d, lat}, {lon + d, lat + d/2}, {lon, lat + d/2}, {lon, lat}}}}})
		benches = append(benches, feature{Type: "Feature", Properties: map[string]any{"id": i},
			Geometry: map[string]any{"type": "LineString", "coordinates": [][]float64{{lon, lat + d}, {lon + d/2, lat + d}}}})
	}
	sp, bp := filepath.Join(dir, "shelters.geojson"), filepath.Join(dir, "benches.geojson")
	writeFeatures(t, sp, shelters)
	writeFeatures(t, bp, benches)
	city := filepath.Join(dir, "city.gpkg")
	for _, l := range []struct{ file, mapping string }{{sp, "code=id,class=0203,label=stop"}, {bp, "code=id,class=0407"}} {
		out, errOut, err := runCmd(t, "import", "--data", city, "--map", l.mapping, l.file)
		if err != nil || !strings.Contains(out, "100 added") {
			t.Fatalf("import %s: %v\n%s\n%s", l.file, err, out, errOut)
		}
	}
	kinds := map[string]int{}
	for _, p := range loadCity(t, city) {
		kinds[p.Class.String()+" "+p.Geometry.GeoJSONType()]++
	}
	if kinds["0203 Polygon"] != 100 || kinds["0407 LineString"] != 100 {
		t.Fatalf("components %v", kinds)
	}

	// The same shelters from a GeoPackage layer (as a city exports it from
	// QGIS): --layer names the layer; without it the command lists them.
	ogr, err := exec.LookPath("ogr2ogr")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("ogr2ogr is not installed and CI is set")
		}
		t.Skip("no ogr2ogr")
	}
	export := filepath.Join(dir, "city-export.gpkg")
	if out, err := exec.Command(ogr, "-f", "GPKG", export, sp, "-nln", "shelters").CombinedOutput(); err != nil {
		t.Fatalf("ogr2ogr: %v\n%s", err, out)
	}
	if _, errOut, err := runCmd(t, "import", "--data", city, "--map", "code=id,class=0203", export); err == nil || !strings.Contains(err.Error()+errOut, "shelters") {
		t.Fatalf("import of a GeoPackage without --layer: %v %s", err, errOut)
	}
	out, errOut, err := runCmd(t, "import", "--data", city, "--layer", "shelters", "--map", "code=id,class=0203,label=stop", export)
	if err != nil || !strings.Contains(out, "100 added") {
		t.Fatalf("import of the GeoPackage layer: %v\n%s\n%s", err, out, errOut)
	}
	if n := countParts(t, city); n != 300 {
		t.Fatalf("%d components, want 300", n)
	}
}

// TestImportGridsRelocates imports a grid layer made from Cambridge's real
// fire engine districts after the hydrants: the grids are stored, the
// MultiPolygon districts and a self-intersecting polygon are rejected with
// their row and reason, and the hydrants inside the grids are re-located
// into them through the write path. Re-importing changes nothing.
func TestImportGridsRelocates(t *testing.T) {
	dir := t.TempDir()
	city := filepath.Join(dir, "city.gpkg")
	out, errOut, err := runCmd(t, "import", "--data", city, "--map", "code=HYDRANT_ID,class=0113", sharedData(t, "cambridge_INFRA_Hydrants.geojson"))
	if err != nil || !strings.Contains(out, "1960 outside every grid") {
		t.Fatalf("hydrants: %v\n%s\n%s", err, out, errOut)
	}
	districts := readFeatures(t, "cambridge_PUBLICSAFETY_FireEngineDistricts.geojson")
	var fs []feature
	for i, f := range districts {
		f.Properties["GRID_CODE"] = fmt.Sprintf("1101010010010%d", i+1)
		f.Properties["COMMUNITY"] = "110101001001"
		fs = append(fs, f)
	}
	fs = append(fs, feature{Type: "Feature", Properties: map[string]any{"GRID_CODE": "11010100100199", "ENGINE": "bow-tie"},
		Geometry: map[string]any{"type": "Polygon", "coordinates": [][][]float64{{{-71.0, 42.0}, {-70.99, 42.01}, {-70.99, 42.0}, {-71.0, 42.01}, {-71.0, 42.0}}}}})
	fs = append(fs, feature{Type: "Feature", Properties: map[string]any{"GRID_CODE": "1101010010019", "ENGINE": "short code"},
		Geometry: districts[0].Geometry})
	gp := filepath.Join(dir, "grids.geojson")
	writeFeatures(t, gp, fs)
	out, errOut, err = runCmd(t, "import", "--data", city, "--grids", "--map", "code=GRID_CODE,name=ENGINE,parent=COMMUNITY", gp)
	if err != nil {
		t.Fatalf("grids: %v\n%s\n%s", err, out, errOut)
	}
	t.Logf("%s%s", out, errOut)
	if !strings.Contains(out, "imported 6 grids") || !strings.Contains(out, "4 skipped") {
		t.Fatalf("grid import: %s", out)
	}
	for _, want := range []string{"row 9: geometry: grid 11010100100199: ring 0 crosses itself", "row 10: code:", "row 3: geometry: MultiPolygon with 2 polygons"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	located := 0
	for _, p := range loadCity(t, city) {
		if p.Grid != "" {
			located++
			if p.Version != 2 {
				t.Errorf("%s: version %d after re-location, want 2", p.Code, p.Version)
			}
		}
	}
	if located < 500 || !strings.Contains(out, fmt.Sprintf("%d components re-located", located)) {
		t.Fatalf("%d hydrants located in a grid; %s", located, out)
	}
	out, _, err = runCmd(t, "import", "--data", city, "--grids", "--map", "code=GRID_CODE,name=ENGINE,parent=COMMUNITY", gp)
	if err != nil || !strings.Contains(out, "0 added, 0 updated, 6 unchanged") || !strings.Contains(out, "0 components re-located") {
		t.Fatalf("grid re-import: %v %s", err, out)
	}
}

// TestImportOSM imports the Monaco extract with the shipped tag rules.
func TestImportOSM(t *testing.T) {
	dir := t.TempDir()
	city := filepath.Join(dir, "city.gpkg")
	pbf := sharedData(t, "monaco-latest.osm.pbf")
	out, errOut, err := runCmd(t, "import", "--data", city, pbf)
	if err != nil || !strings.Contains(out, "added") {
		t.Fatalf("osm: %v\n%s\n%s", err, out, errOut)
	}
	byClass := map[parts.Class]int{}
	for _, p := range loadCity(t, city) {
		byClass[p.Class]++
		if p.SourceName != "monaco-latest" || !(strings.HasPrefix(p.SourceID, "node/") || strings.HasPrefix(p.SourceID, "way/")) {
			t.Fatalf("%s: provenance %q %q", p.Code, p.SourceName, p.SourceID)
		}
	}
	for c, min := range map[parts.Class]int{118: 17, 407: 96, 203: 94, 305: 40} {
		if byClass[c] < min {
			t.Errorf("class %s: %d, want at least %d", c, byClass[c], min)
		}
	}
	out, _, err = runCmd(t, "import", "--data", city, pbf)
	if err != nil || !strings.Contains(out, "nothing changed") {
		t.Fatalf("osm re-import: %v %s", err, out)
	}
}

// TestImportFailureLeavesNoFile: a failed import into a new file leaves
// no file behind.
func TestImportFailureLeavesNoFile(t *testing.T) {
	dir := t.TempDir()
	city := filepath.Join(dir, "new.gpkg")
	csv := filepath.Join(dir, "bad.csv")
	os.WriteFile(csv, []byte("id,lon,lat\n1,104.06,30.65\n2,abc,30.65\n"), 0o600)
	if _, _, err := runCmd(t, "import", "--data", city, "--strict", "--map", "code=id,class=0118", csv); err == nil {
		t.Fatal("a --strict import of a bad row succeeded")
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "new.gpkg") {
			t.Errorf("a failed import left %s behind", e.Name())
		}
	}
}
