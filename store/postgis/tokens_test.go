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
	var _ tokens.Manager = s
	// Expiry and revocation.
	if !got.Expires.IsZero() || !got.Revoked.IsZero() {
		t.Errorf("a token issued without TTL: %+v", got)
	}
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	_, exp, err := tokens.IssueSpec(ctx, s, tokens.Spec{Role: tokens.Inspector, TTL: 720 * time.Hour}, now)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.TokenByHash(ctx, exp.Hash); err != nil || !got.Expires.Equal(now.Add(720*time.Hour)) {
		t.Errorf("expiry read back as %+v, %v", got, err)
	}
	at := now.Add(time.Minute + 250*time.Millisecond)
	rev, err := tokens.Revoke(ctx, s, exp.ID(), at)
	if err != nil || !rev.Revoked.Equal(at) {
		t.Fatalf("Revoke = %+v, %v", rev, err)
	}
	if again, err := s.RevokeToken(ctx, exp.Hash, at.Add(time.Hour)); err != nil || !again.Revoked.Equal(at) {
		t.Errorf("a second revocation: %v, %v; want the first time kept", again.Revoked, err)
	}
	if err := s.PutToken(ctx, exp); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.TokenByHash(ctx, exp.Hash); !got.Revoked.Equal(at) {
		t.Errorf("PutToken of a revoked hash un-revoked it: %+v", got)
	}
	if _, err := s.RevokeToken(ctx, tokens.Hash("ct_nothing"), at); !errors.Is(err, tokens.ErrNotFound) {
		t.Errorf("revoking an unknown hash: %v, want ErrNotFound", err)
	}
	list, err := s.ListTokens(ctx)
	if err != nil || len(list) != 2 || !list[0].Created.Before(list[1].Created) {
		t.Errorf("ListTokens = %+v, %v; want 2 tokens, oldest first", list, err)
	}
	if err := s.PutToken(ctx, tokens.Token{Hash: []byte{1}, Role: tokens.Department}); err == nil {
		t.Error("a department token without a department was stored")
	}
	s.Close()
	if _, err := s.TokenByHash(ctx, tok.Hash); err == nil {
		t.Error("read from a closed store")
	}
}
