package postgis_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"citytwin/tokens"
)

func TestTokens(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.TokenByHash(ctx, tokens.Hash("ct_nothing")); !errors.Is(err, tokens.ErrNotFound) {
		t.Fatalf("unknown hash: %v, want tokens.ErrNotFound", err)
	}
	secret, tok, err := tokens.Issue(ctx, s, tokens.Department, "water", time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.TokenByHash(ctx, tokens.Hash(secret))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Hash, tok.Hash) || got.Role != tokens.Department || got.Dept != "water" || !got.Created.Equal(tok.Created) {
		t.Errorf("read back %+v, stored %+v", got, tok)
	}
	if err := s.PutToken(ctx, tokens.Token{Hash: []byte{1}, Role: tokens.Department}); err == nil {
		t.Error("a department token without a department was stored")
	}
	s.Close()
	if _, err := s.TokenByHash(ctx, tok.Hash); err == nil {
		t.Error("read from a closed store")
	}
}
