package gpkg

import (
	"bytes"
	"path/filepath"
	"testing"

	sqlite3 "modernc.org/sqlite/lib"
)

// TestRawDirectReads checks that the reads of text, blob and int64 from a
// column's Mem give what the sqlite3_column_* calls give, for every kind
// of value a column can hold.
func TestRawDirectReads(t *testing.T) {
	c, err := openRaw(filepath.Join(t.TempDir(), "raw.db"), openReadWrite|sqlite3.SQLITE_OPEN_CREATE)
	if err != nil {
		t.Fatal(err)
	}
	defer c.close()
	if err := c.exec(`CREATE TABLE t (a, b TEXT, c BLOB, d INTEGER);
INSERT INTO t VALUES ('abc', 'dé', x'0102', 42), (NULL, '', x'', NULL), (7, 2.5, 'txt', '12'),
  (-9, CAST(123 AS TEXT), zeroblob(3), 1.75), (x'00ff', 'a' || char(0) || 'b', 1e300, 9223372036854775807)`); err != nil {
		t.Fatal(err)
	}
	const q = `SELECT a, b, c, d, zeroblob(2), 1 + 1, 'lit' FROM t ORDER BY rowid`
	api := map[string]func(s *rawStmt, i int) []byte{
		"text": func(s *rawStmt, i int) []byte {
			n := sqlite3.Xsqlite3_column_bytes(s.c.tls, s.p, int32(i))
			if n <= 0 {
				return nil
			}
			return bytes.Clone(cbytes(sqlite3.Xsqlite3_column_text(s.c.tls, s.p, int32(i)), int(n)))
		},
		"blob": func(s *rawStmt, i int) []byte {
			p := sqlite3.Xsqlite3_column_blob(s.c.tls, s.p, int32(i))
			return bytes.Clone(cbytes(p, int(sqlite3.Xsqlite3_column_bytes(s.c.tls, s.p, int32(i)))))
		},
	}
	direct := map[string]func(s *rawStmt, i int) []byte{"text": (*rawStmt).text, "blob": (*rawStmt).blob}
	for kind := range api {
		for _, order := range []string{"direct first", "api first"} {
			s, err := c.prepare(q)
			if err != nil {
				t.Fatal(err)
			}
			for r := 0; ; r++ {
				row, err := s.step()
				if err != nil {
					t.Fatal(err)
				}
				if !row {
					break
				}
				for i := range 7 {
					var got, want []byte
					var gotInt, wantInt int64
					if order == "direct first" {
						got, gotInt = bytes.Clone(direct[kind](s, i)), s.int64(i)
						want, wantInt = api[kind](s, i), sqlite3.Xsqlite3_column_int64(s.c.tls, s.p, int32(i))
					} else {
						want, wantInt = api[kind](s, i), sqlite3.Xsqlite3_column_int64(s.c.tls, s.p, int32(i))
						got, gotInt = bytes.Clone(direct[kind](s, i)), s.int64(i)
					}
					if !bytes.Equal(got, want) || (got == nil) != (want == nil) {
						t.Errorf("%s, %s: row %d column %d: %q, the API gives %q", kind, order, r, i, got, want)
					}
					if gotInt != wantInt {
						t.Errorf("int64, %s: row %d column %d: %d, the API gives %d", order, r, i, gotInt, wantInt)
					}
				}
			}
			// Past the last row there is no result row: the API decides.
			if got := s.text(0); got != nil {
				t.Errorf("text after the last row: %q", got)
			}
			s.close()
		}
	}
}
