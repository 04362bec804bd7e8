package gpkg

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"

	"citytwin/ingest"
)

// LayerReader reads the features of one layer (feature table) of any
// GeoPackage, such as a city's export from QGIS or GDAL, as import
// sources: every column but the geometry as text, the geometry decoded.
// The file is opened read-only and never changed.
type LayerReader struct {
	db   *sql.DB
	rows *sql.Rows
	cols []string
	geom int
}

// Layers lists the feature tables of the GeoPackage at path.
func Layers(ctx context.Context, path string) ([]string, error) {
	db, err := openReadOnly(path)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT table_name FROM gpkg_contents WHERE data_type = 'features' ORDER BY table_name`)
	if err != nil {
		return nil, fmt.Errorf("gpkg: layers of %s: %w", path, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, fmt.Errorf("gpkg: layers of %s: %w", path, err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

func openReadOnly(path string) (*sql.DB, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("gpkg: %s: %w", path, err)
	}
	if _, herr := checkHeader(abs); herr != nil {
		herr.Path = path
		return nil, herr
	}
	registerSQLFunctions()
	db, err := sql.Open("sqlite", fileURI(abs, fmt.Sprintf("mode=ro&_pragma=busy_timeout(%d)", busyTimeoutMS)))
	if err != nil {
		return nil, fmt.Errorf("gpkg: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	return db, nil
}

// OpenLayer opens layer of the GeoPackage at path. An unknown layer gives
// an error that lists the layers there are.
func OpenLayer(ctx context.Context, path, layer string) (*LayerReader, error) {
	db, err := openReadOnly(path)
	if err != nil {
		return nil, err
	}
	var geomCol string
	err = db.QueryRowContext(ctx, `SELECT column_name FROM gpkg_geometry_columns WHERE table_name = ?`, layer).Scan(&geomCol)
	if errors.Is(err, sql.ErrNoRows) {
		db.Close()
		layers, _ := Layers(ctx, path)
		return nil, fmt.Errorf("gpkg: %s has no feature layer %q (layers: %s)", path, layer, strings.Join(layers, ", "))
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("gpkg: layer %s of %s: %w", layer, path, err)
	}
	rows, err := db.QueryContext(ctx, `SELECT * FROM "`+strings.ReplaceAll(layer, `"`, `""`)+`"`)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("gpkg: layer %s of %s: %w", layer, path, err)
	}
	cols, err := rows.Columns()
	if err != nil {
		rows.Close()
		db.Close()
		return nil, fmt.Errorf("gpkg: layer %s of %s: %w", layer, path, err)
	}
	lr := &LayerReader{db: db, rows: rows, cols: cols, geom: -1}
	for i, c := range cols {
		if strings.EqualFold(c, geomCol) {
			lr.geom = i
		}
	}
	return lr, nil
}

// Next returns the next feature, io.EOF at the end.
func (lr *LayerReader) Next() (ingest.Feature, error) {
	if !lr.rows.Next() {
		if err := lr.rows.Err(); err != nil {
			return ingest.Feature{}, err
		}
		return ingest.Feature{}, io.EOF
	}
	vals := make([]any, len(lr.cols))
	ptrs := make([]any, len(lr.cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := lr.rows.Scan(ptrs...); err != nil {
		return ingest.Feature{}, err
	}
	f := ingest.Feature{Fields: make(map[string]string, len(lr.cols))}
	for i, v := range vals {
		if i == lr.geom {
			b, _ := v.([]byte)
			if b == nil {
				f.GeometryError = "missing"
				continue
			}
			g, err := DecodeGeometry(b)
			if err != nil {
				f.GeometryError = err.Error()
				continue
			}
			f.Geometry = g
			continue
		}
		switch x := v.(type) {
		case nil:
		case []byte:
			f.Fields[lr.cols[i]] = string(x)
		case string:
			f.Fields[lr.cols[i]] = x
		case int64:
			f.Fields[lr.cols[i]] = strconv.FormatInt(x, 10)
		case float64:
			f.Fields[lr.cols[i]] = strconv.FormatFloat(x, 'f', -1, 64)
		case bool:
			f.Fields[lr.cols[i]] = strconv.FormatBool(x)
		default:
			f.Fields[lr.cols[i]] = fmt.Sprint(x)
		}
	}
	return f, nil
}

// Close closes the file.
func (lr *LayerReader) Close() error {
	lr.rows.Close()
	return lr.db.Close()
}
