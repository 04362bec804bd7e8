package main

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"citytwin/api"
	"citytwin/store/gpkg"
	"citytwin/tokens"
)

// TestTokenCommands creates, lists and revokes tokens with the CLI while a
// server's store (and its verifier) has the same GeoPackage open, as
// `citytwin serve` does: the revoked token is refused within a second.
func TestTokenCommands(t *testing.T) {
	ctx := context.Background()
	city := filepath.Join(t.TempDir(), "city.gpkg")
	if _, _, err := runCmd(t, "gen", "--out", city, "--components", "200", "--grids", "20"); err != nil {
		t.Fatal(err)
	}
	server, err := gpkg.Open(ctx, city)
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	auth := api.NewTokenAuth(server, tokens.VerifierOptions{})

	create := func(args ...string) string {
		t.Helper()
		out, errOut, err := runCmd(t, append([]string{"token", "create", "--data", city}, args...)...)
		if err != nil {
			t.Fatalf("token create %v: %v", args, err)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		secret := lines[len(lines)-1]
		if tokens.Check(secret) != nil {
			t.Fatalf("token create printed %q / %q", out, errOut)
		}
		return secret
	}
	inspector := create("--role", "inspector", "--ttl", "720h")
	admin := create("--role", "admin")
	for _, s := range []string{inspector, admin} {
		if _, err := auth.Authenticate(ctx, s); err != nil {
			t.Fatalf("the server refuses a token just created: %v", err)
		}
	}
	insp, _ := server.TokenByHash(ctx, tokens.Hash(inspector))
	if d := time.Until(insp.Expires); d < 719*time.Hour || d > 720*time.Hour {
		t.Errorf("--ttl 720h: the token expires in %v", d)
	}

	out, _, err := runCmd(t, "token", "list", "--data", city)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "ID") || !strings.Contains(out, insp.ID()) ||
		!strings.Contains(out, insp.Expires.Format(time.RFC3339)) || !strings.Contains(out, "never") ||
		strings.Contains(out, inspector) {
		t.Fatalf("token list:\n%s", out)
	}

	// Revoke by ID (flags after the argument too) while the server runs.
	out, _, err = runCmd(t, "token", "revoke", insp.ID(), "--data", city)
	if err != nil || !strings.Contains(out, "revoked token "+insp.ID()) {
		t.Fatalf("token revoke: %v %q", err, out)
	}
	time.Sleep(tokens.MaxTTL)
	if _, err := auth.Authenticate(ctx, inspector); !errors.Is(err, tokens.ErrRevoked) {
		t.Errorf("%v after token revoke the server answers %v, want ErrRevoked", tokens.MaxTTL, err)
	}
	// Revoke by secret, read from stdin.
	var stdout, stderr bytes.Buffer
	if err := runTokenRevoke(ctx, []string{"--data", city, "-"}, strings.NewReader(admin+"\n"), &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	out, _, _ = runCmd(t, "token", "list", "--data", city)
	for _, line := range strings.Split(strings.TrimSpace(out), "\n")[1:] {
		if f := strings.Fields(line); f[len(f)-1] == "-" {
			t.Errorf("token list shows a revoked token as not revoked:\n%s", out)
		}
	}
	for _, tok := range []string{inspector, admin} {
		got, _ := server.TokenByHash(ctx, tokens.Hash(tok))
		if got.Revoked.IsZero() {
			t.Errorf("token %s not revoked in the store", got.ID())
		}
	}

	errs := map[string]struct {
		args  []string
		usage bool
		want  string
	}{
		"revoke unknown id":  {[]string{"token", "revoke", "--data", city, "0000000000000000"}, false, "no such token"},
		"revoke short id":    {[]string{"token", "revoke", "--data", city, "abc"}, false, "hex digits"},
		"revoke nothing":     {[]string{"token", "revoke", "--data", city}, true, "one TOKEN"},
		"revoke two":         {[]string{"token", "revoke", "--data", city, "a", "b"}, true, "one TOKEN"},
		"create negative":    {[]string{"token", "create", "--role", "admin", "--ttl", "-1h", "--data", city}, true, "negative"},
		"list without store": {[]string{"token", "list"}, true, "--data"},
		"list both stores":   {[]string{"token", "list", "--data", city, "--pg", "postgres://x"}, true, "not both"},
		"unknown subcommand": {[]string{"token", "burn"}, true, "token list"},
	}
	for name, tc := range errs {
		t.Run(name, func(t *testing.T) {
			_, _, err := runCmd(t, tc.args...)
			if err == nil || errors.Is(err, errUsage) != tc.usage || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%v: error %v (usage %v), want usage=%v mentioning %q", tc.args, err, errors.Is(err, errUsage), tc.usage, tc.want)
			}
		})
	}
}
