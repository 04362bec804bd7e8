package migrations

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
)

// files holds the migrations of every store.
//
//go:embed postgis/*.sql gpkg/*.sql
var files embed.FS

// Store names, the directories of their migrations.
const (
	PostGISStore    = "postgis"
	GeoPackageStore = "gpkg"
)

// Migration is one versioned SQL file: Version from its four-digit
// prefix, Name from the rest of its file name, SQL its content (one or
// more statements).
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// File is the migration's file name, "0001_base.sql".
func (m Migration) File() string { return fmt.Sprintf("%04d_%s.sql", m.Version, m.Name) }

// PostGIS returns the migrations of store/postgis in version order.
func PostGIS() ([]Migration, error) { return Load(files, PostGISStore) }

// GeoPackage returns the migrations of store/gpkg in version order.
func GeoPackage() ([]Migration, error) { return Load(files, GeoPackageStore) }

// Latest is the version of the last migration of ms, 0 for none.
func Latest(ms []Migration) int {
	if len(ms) == 0 {
		return 0
	}
	return ms[len(ms)-1].Version
}

// Load reads the migrations NNNN_name.sql of directory dir of fsys, in
// version order. Versions start at 1 and have no gaps or repeats; a file
// that breaks the rules gives a *FileError.
func Load(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, &FileError{Path: dir, Reason: err.Error()}
	}
	var ms []Migration
	for _, e := range entries {
		p := path.Join(dir, e.Name())
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			return nil, &FileError{Path: p, Reason: "not an .sql file"}
		}
		m, err := parseName(strings.TrimSuffix(e.Name(), ".sql"))
		if err != nil {
			return nil, &FileError{Path: p, Reason: err.Error()}
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return nil, &FileError{Path: p, Reason: err.Error()}
		}
		if strings.TrimSpace(string(b)) == "" {
			return nil, &FileError{Path: p, Reason: "empty"}
		}
		m.SQL = string(b)
		ms = append(ms, m)
	}
	slices.SortFunc(ms, func(a, b Migration) int { return a.Version - b.Version })
	for i, m := range ms {
		if m.Version != i+1 {
			return nil, &FileError{Path: path.Join(dir, m.File()), Reason: fmt.Sprintf("version %d where %d was expected (versions run 1, 2, 3 ... without gaps or repeats)", m.Version, i+1)}
		}
	}
	return ms, nil
}

// parseName splits "0001_base" into version 1 and name "base".
func parseName(s string) (Migration, error) {
	num, name, ok := strings.Cut(s, "_")
	if !ok || len(num) != 4 || name == "" {
		return Migration{}, fmt.Errorf("name %q is not NNNN_name.sql", s+".sql")
	}
	v, err := strconv.Atoi(num)
	if err != nil || v < 1 {
		return Migration{}, fmt.Errorf("name %q does not start with a version 0001..9999", s+".sql")
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
			return Migration{}, fmt.Errorf("name %q: use lower-case letters, digits and _", s+".sql")
		}
	}
	return Migration{Version: v, Name: name}, nil
}
