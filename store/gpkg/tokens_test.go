package gpkg

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
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

// TestStoreInterfaces checks that Store and TokenStore satisfy
// tokens.Manager.
func TestStoreInterfaces(t *testing.T) {
	var _ tokens.Manager = (*Store)(nil)
	var _ tokens.Manager = (*TokenStore)(nil)
}

// TestTokenExpiryRevocation checks that expiry and revocation are stored
// and read back, through Store and through a TokenStore opened beside it
// (the token commands while a server runs), and that a tokens table
// written before the columns existed takes them.
func TestTokenExpiryRevocation(t *testing.T) {
	ctx := context.Background()
	created := time.Date(2026, 11, 23, 9, 30, 0, 0, time.UTC)
	old := tokens.Token{Hash: tokens.Hash("ct_old"), Role: tokens.Inspector, Created: created}
	for _, legacy := range []bool{false, true} {
		t.Run(fmt.Sprint("legacy table=", legacy), func(t *testing.T) {
			path := writeSample(t)
			if legacy {
				db, err := sql.Open("sqlite", path)
				if err != nil {
					t.Fatal(err)
				}
				_, err = db.Exec(`DROP TABLE IF EXISTS tokens;
CREATE TABLE tokens (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, hash TEXT UNIQUE NOT NULL, role TEXT NOT NULL, dept TEXT, created DATETIME NOT NULL);
INSERT INTO tokens (hash, role, created) VALUES ('` + hex.EncodeToString(old.Hash) + `', 'inspector', '2026-11-23T09:30:00.000Z')`)
				db.Close()
				if err != nil {
					t.Fatal(err)
				}
			}
			server := openT(t, path)
			if legacy {
				got, err := server.TokenByHash(ctx, old.Hash)
				if err != nil || !reflect.DeepEqual(got, old) {
					t.Fatalf("a token of the legacy table: %+v, %v; want %+v", got, err, old)
				}
			}
			cli, err := OpenTokens(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			defer cli.Close()
			secret, tok, err := tokens.IssueSpec(ctx, cli, tokens.Spec{Role: tokens.Admin, TTL: 720 * time.Hour}, created)
			if err != nil {
				t.Fatal(err)
			}
			got, err := server.TokenByHash(ctx, tokens.Hash(secret))
			if err != nil || !reflect.DeepEqual(got, tok) || !got.Expires.Equal(created.Add(720*time.Hour)) {
				t.Fatalf("the server reads %+v, %v; want %+v", got, err, tok)
			}
			at := created.Add(time.Hour + 250*time.Millisecond)
			rev, err := tokens.Revoke(ctx, cli, tok.ID(), at)
			if err != nil || !rev.Revoked.Equal(at) {
				t.Fatalf("Revoke = %+v, %v", rev, err)
			}
			got, err = server.TokenByHash(ctx, tok.Hash)
			if err != nil || !got.Revoked.Equal(at) || !errors.Is(got.Usable(at), tokens.ErrRevoked) {
				t.Fatalf("after the revocation the server reads %+v, %v", got, err)
			}
			// Revoking again keeps the first time; re-issuing the hash does
			// not undo it.
			if again, err := server.RevokeToken(ctx, tok.Hash, at.Add(time.Hour)); err != nil || !again.Revoked.Equal(at) {
				t.Errorf("a second revocation: %v, %v", again.Revoked, err)
			}
			if err := server.PutToken(ctx, tok); err != nil {
				t.Fatal(err)
			}
			if got, _ := cli.TokenByHash(ctx, tok.Hash); !got.Revoked.Equal(at) {
				t.Errorf("PutToken of a revoked hash un-revoked it: %+v", got)
			}
			if _, err := server.RevokeToken(ctx, tokens.Hash("ct_nothing"), at); !errors.Is(err, tokens.ErrNotFound) {
				t.Errorf("revoking an unknown hash: %v, want ErrNotFound", err)
			}
			list, err := cli.ListTokens(ctx)
			want := 1
			if legacy {
				want = 2
			}
			if err != nil || len(list) != want {
				t.Fatalf("ListTokens = %d tokens, %v; want %d", len(list), err, want)
			}
		})
	}
}

// TestOpenTokensRefusesOtherFiles checks that OpenTokens runs Open's checks.
func TestOpenTokensRefusesOtherFiles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.gpkg")
	if err := os.WriteFile(path, []byte("not a database"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenTokens(context.Background(), path); !errors.Is(err, ErrNotGeoPackage) {
		t.Errorf("OpenTokens(not a database) = %v, want ErrNotGeoPackage", err)
	}
}
