package gpkg

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"reflect"
	"testing"
	"time"

	"citytwin/tokens"
)

func TestTokens(t *testing.T) {
	ctx := context.Background()
	hash := func(s string) []byte { h := sha256.Sum256([]byte(s)); return h[:] }
	created := time.Date(2026, 11, 23, 9, 30, 0, 0, time.UTC)
	admin := tokens.Token{Hash: hash("a"), Role: tokens.Admin, Created: created}
	dept := tokens.Token{Hash: hash("d"), Role: tokens.Department, Dept: "water", Created: created.Add(time.Hour)}

	cases := map[string]func(t *testing.T, path string){
		"file from Create": func(t *testing.T, path string) {},
		"file without a tokens table": func(t *testing.T, path string) {
			db, err := sql.Open("sqlite", path)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if _, err := db.Exec(`DROP TABLE tokens; DELETE FROM gpkg_contents WHERE table_name = 'tokens'`); err != nil {
				t.Fatal(err)
			}
		},
	}
	for name, prepare := range cases {
		t.Run(name, func(t *testing.T) {
			path := writeSample(t)
			prepare(t, path)
			s := openT(t, path)
			if _, err := s.TokenByHash(ctx, admin.Hash); !errors.Is(err, tokens.ErrNotFound) {
				t.Errorf("TokenByHash before PutToken: %v, want tokens.ErrNotFound", err)
			}
			for _, tok := range []tokens.Token{admin, dept} {
				if err := s.PutToken(ctx, tok); err != nil {
					t.Fatal(err)
				}
			}
			for _, want := range []tokens.Token{admin, dept} {
				got, err := s.TokenByHash(ctx, want.Hash)
				if err != nil || !reflect.DeepEqual(got, want) {
					t.Errorf("TokenByHash = %+v, %v; want %+v", got, err, want)
				}
			}
			bad := tokens.Token{Hash: hash("x"), Role: tokens.Department, Created: created}
			if err := s.PutToken(ctx, bad); !errors.Is(err, tokens.ErrInvalidRole) {
				t.Errorf("PutToken of a department token without department: %v, want ErrInvalidRole", err)
			}
		})
	}
}

// TestStoreInterfaces checks that Store satisfies tokens.Store.
func TestStoreInterfaces(t *testing.T) {
	var _ tokens.Store = (*Store)(nil)
}
