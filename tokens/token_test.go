package tokens

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestGenerate(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		s, err := Generate(nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(s) != Len || !strings.HasPrefix(s, Prefix) {
			t.Fatalf("Generate() = %q, want %d characters starting with %q", s, Len, Prefix)
		}
		if err := Check(s); err != nil {
			t.Fatalf("Check(Generate()) = %v", err)
		}
		if seen[s] {
			t.Fatalf("Generate() repeated %q", s)
		}
		seen[s] = true
	}
	// Deterministic from a fixed reader: 32 zero bytes.
	s, err := Generate(bytes.NewReader(make([]byte, 32)))
	if err != nil {
		t.Fatal(err)
	}
	if want := Prefix + strings.Repeat("A", 43); s != want {
		t.Errorf("Generate(zeros) = %q, want %q", s, want)
	}
	if _, err := Generate(bytes.NewReader(make([]byte, 5))); err == nil {
		t.Error("Generate(short reader) succeeded")
	}
}

func TestCheck(t *testing.T) {
	good, _ := Generate(nil)
	tests := map[string]struct {
		in string
		ok bool
	}{
		"generated":      {good, true},
		"empty":          {"", false},
		"no prefix":      {"xx_" + good[3:], false},
		"short":          {good[:len(good)-1], false},
		"long":           {good + "A", false},
		"bad alphabet":   {good[:10] + "+" + good[11:], false},
		"padding":        {good[:len(good)-1] + "=", false},
		"non-zero trail": {Prefix + strings.Repeat("A", 42) + "B", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := Check(tc.in)
			if (err == nil) != tc.ok {
				t.Fatalf("Check(%q) = %v, want ok=%v", tc.in, err, tc.ok)
			}
			if err != nil {
				if !errors.Is(err, ErrMalformed) {
					t.Errorf("error %v does not wrap ErrMalformed", err)
				}
				if tc.in != "" && strings.Contains(err.Error(), tc.in) {
					t.Errorf("error %q quotes the secret", err)
				}
			}
		})
	}
}

func FuzzCheck(f *testing.F) {
	good, _ := Generate(bytes.NewReader(make([]byte, 32)))
	f.Add(good)
	f.Add("")
	f.Add("ct_")
	f.Add("Bearer ct_abc")
	f.Fuzz(func(t *testing.T, s string) {
		err := Check(s)
		if err == nil && (len(s) != Len || !strings.HasPrefix(s, Prefix)) {
			t.Fatalf("Check(%q) accepted a string of the wrong form", s)
		}
		if err != nil && !errors.Is(err, ErrMalformed) {
			t.Fatalf("Check(%q) = %v, not ErrMalformed", s, err)
		}
	})
}

func TestHash(t *testing.T) {
	h := Hash("ct_x")
	want := sha256.Sum256([]byte("ct_x"))
	if !bytes.Equal(h, want[:]) {
		t.Errorf("Hash = %x, want %x", h, want)
	}
	if bytes.Equal(Hash("a"), Hash("b")) {
		t.Error("Hash(a) == Hash(b)")
	}
}

func TestParseRole(t *testing.T) {
	tests := map[string]struct {
		in   string
		want Role
		ok   bool
	}{
		"inspector":  {"inspector", Inspector, true},
		"department": {"department", Department, true},
		"admin":      {"admin", Admin, true},
		"public":     {"public", "", false},
		"upper":      {"ADMIN", "", false},
		"empty":      {"", "", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := ParseRole(tc.in)
			if (err == nil) != tc.ok || got != tc.want {
				t.Fatalf("ParseRole(%q) = %q, %v; want %q ok=%v", tc.in, got, err, tc.want, tc.ok)
			}
			if err != nil && !errors.Is(err, ErrInvalidRole) {
				t.Errorf("error %v does not wrap ErrInvalidRole", err)
			}
		})
	}
}

func TestIssue(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 12, 0, 0, 500, time.UTC)
	tests := map[string]struct {
		role Role
		dept string
		ok   bool
	}{
		"admin":                 {Admin, "", true},
		"inspector":             {Inspector, "", true},
		"department":            {Department, "water", true},
		"department no dept":    {Department, "", false},
		"public is not a token": {"public", "", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var st Memory
			secret, tok, err := Issue(ctx, &st, tc.role, tc.dept, now)
			if (err == nil) != tc.ok {
				t.Fatalf("Issue(%q, %q) = %v, want ok=%v", tc.role, tc.dept, err, tc.ok)
			}
			if !tc.ok {
				if !errors.Is(err, ErrInvalidRole) {
					t.Errorf("error %v does not wrap ErrInvalidRole", err)
				}
				if len(st.m) != 0 {
					t.Error("an invalid token was stored")
				}
				return
			}
			if err := Check(secret); err != nil {
				t.Fatalf("issued secret is malformed: %v", err)
			}
			got, err := st.TokenByHash(ctx, Hash(secret))
			if err != nil {
				t.Fatal(err)
			}
			if got.Role != tc.role || got.Dept != tc.dept || !got.Created.Equal(now.Truncate(time.Second)) {
				t.Errorf("stored %+v, want role %q dept %q created %v", got, tc.role, tc.dept, now)
			}
			if !bytes.Equal(tok.Hash, Hash(secret)) || tok.ID() != got.ID() || len(tok.ID()) != 16 {
				t.Errorf("token %+v does not match the secret's hash", tok)
			}
			for _, stored := range st.m {
				if bytes.Contains(stored.Hash, []byte(secret)) {
					t.Error("the secret itself was stored")
				}
			}
		})
	}
}

type countingStore struct {
	Memory
	reads atomic.Int32
}

func (c *countingStore) TokenByHash(ctx context.Context, h []byte) (Token, error) {
	c.reads.Add(1)
	return c.Memory.TokenByHash(ctx, h)
}

func TestVerifier(t *testing.T) {
	ctx := context.Background()
	st := &countingStore{}
	secret, _, err := Issue(ctx, st, Department, "water", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	v := NewVerifier(st, VerifierOptions{TTL: time.Minute, Size: 2, Now: func() time.Time { return now }})

	tok, err := v.Verify(ctx, secret)
	if err != nil || tok.Role != Department || tok.Dept != "water" {
		t.Fatalf("Verify = %+v, %v", tok, err)
	}
	for range 5 {
		if _, err := v.Verify(ctx, secret); err != nil {
			t.Fatal(err)
		}
	}
	if n := st.reads.Load(); n != 1 {
		t.Errorf("6 verifications read the store %d times, want 1 (cached)", n)
	}
	now = now.Add(2 * time.Minute)
	if _, err := v.Verify(ctx, secret); err != nil {
		t.Fatal(err)
	}
	if n := st.reads.Load(); n != 2 {
		t.Errorf("after the TTL the store was read %d times in all, want 2", n)
	}

	unknown, _ := Generate(nil)
	if _, err := v.Verify(ctx, unknown); !errors.Is(err, ErrNotFound) {
		t.Errorf("Verify(unknown) = %v, want ErrNotFound", err)
	}
	if _, err := v.Verify(ctx, "nonsense"); !errors.Is(err, ErrMalformed) {
		t.Errorf("Verify(nonsense) = %v, want ErrMalformed", err)
	}
	reads := st.reads.Load()
	if _, err := v.Verify(ctx, "nonsense"); err == nil || st.reads.Load() != reads {
		t.Error("a malformed token reached the store")
	}

	// The cache stays within its size.
	for range 5 {
		s, _, err := Issue(ctx, st, Admin, "", time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := v.Verify(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(v.cache); n > 2 {
		t.Errorf("cache holds %d tokens, want at most 2", n)
	}
	v.Forget(Hash(secret))
}

// TestVerifierConcurrent verifies from many goroutines at once (run with
// -race): every one gets its token, and the cache stays bounded.
func TestVerifierConcurrent(t *testing.T) {
	ctx := context.Background()
	var st Memory
	var secrets []string
	for range 8 {
		s, _, err := Issue(ctx, &st, Inspector, "", time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		secrets = append(secrets, s)
	}
	v := NewVerifier(&st, VerifierOptions{Size: 4})
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				if _, err := v.Verify(ctx, secrets[(g+i)%len(secrets)]); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := len(v.cache); n > 4 {
		t.Errorf("cache holds %d tokens, want at most 4", n)
	}
}
