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

// TestVerifierStates checks that expired and revoked tokens are refused,
// from the cache too, and that a revocation in the store counts within
// MaxTTL even for a token the verifier has cached.
func TestVerifierStates(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	st := &countingStore{}
	secret, tok, err := IssueSpec(ctx, st, Spec{Role: Inspector, TTL: time.Hour}, now)
	if err != nil {
		t.Fatal(err)
	}
	if !tok.Expires.Equal(now.Add(time.Hour)) {
		t.Fatalf("Expires = %v, want %v", tok.Expires, now.Add(time.Hour))
	}
	v := NewVerifier(st, VerifierOptions{TTL: time.Hour, Now: clock}) // cut to MaxTTL
	if _, err := v.Verify(ctx, secret); err != nil {
		t.Fatal(err)
	}
	if !v.Cached(secret) {
		t.Error("Cached = false right after a successful Verify")
	}
	// Revoked in the store behind the verifier's back (another replica).
	if _, err := st.RevokeToken(ctx, tok.Hash, now); err != nil {
		t.Fatal(err)
	}
	now = now.Add(MaxTTL - time.Millisecond)
	if _, err := v.Verify(ctx, secret); err != nil {
		t.Errorf("within the cache TTL: %v (the cache is allowed to answer)", err)
	}
	now = now.Add(time.Millisecond)
	_, err = v.Verify(ctx, secret)
	var se *StateError
	if !errors.Is(err, ErrRevoked) || !errors.As(err, &se) || se.ID != tok.ID() {
		t.Fatalf("Verify %v after the revocation = %v, want a *StateError wrapping ErrRevoked", MaxTTL, err)
	}
	if strings.Contains(err.Error(), secret) {
		t.Error("the error quotes the secret")
	}
	if v.Cached(secret) {
		t.Error("Cached = true for a revoked token")
	}

	// Expiry is checked on every use, cached or not.
	secret2, _, err := IssueSpec(ctx, st, Spec{Role: Admin, TTL: 10 * time.Second}, now)
	if err != nil {
		t.Fatal(err)
	}
	now = now.Add(9500 * time.Millisecond)
	if _, err := v.Verify(ctx, secret2); err != nil {
		t.Fatal(err)
	}
	reads := st.reads.Load()
	now = now.Add(500 * time.Millisecond)
	if _, err := v.Verify(ctx, secret2); !errors.Is(err, ErrExpired) {
		t.Errorf("Verify at expiry = %v, want ErrExpired", err)
	}
	if st.reads.Load() != reads {
		t.Error("an expired cached token was read again within the TTL")
	}
	if _, _, err := IssueSpec(ctx, st, Spec{Role: Admin, TTL: -time.Second}, now); !errors.Is(err, ErrInvalidTTL) {
		t.Errorf("negative TTL: %v, want ErrInvalidTTL", err)
	}
}

// TestVerifierNegativeCache checks that a flood of one unknown token reads
// the store once per NegativeTTL.
func TestVerifierNegativeCache(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	st := &countingStore{}
	v := NewVerifier(st, VerifierOptions{NegativeTTL: 2 * time.Second, Size: 4, Now: func() time.Time { return now }})
	unknown, _ := Generate(nil)
	for range 1000 {
		if _, err := v.Verify(ctx, unknown); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Verify(unknown) = %v", err)
		}
	}
	if n := st.reads.Load(); n != 1 {
		t.Errorf("1000 checks of one unknown token read the store %d times, want 1", n)
	}
	// A token issued meanwhile is found once the entry is stale.
	now = now.Add(2 * time.Second)
	if _, err := v.Verify(ctx, unknown); !errors.Is(err, ErrNotFound) || st.reads.Load() != 2 {
		t.Errorf("after NegativeTTL: %v, %d reads; want a second read", err, st.reads.Load())
	}
	// The negative cache stays bounded.
	for range 100 {
		s, _ := Generate(nil)
		_, _ = v.Verify(ctx, s)
	}
	if n := len(v.neg); n > 16 {
		t.Errorf("the negative cache holds %d secrets, want at most 16", n)
	}
	off := NewVerifier(st, VerifierOptions{NegativeTTL: -1})
	before := st.reads.Load()
	for range 3 {
		_, _ = off.Verify(ctx, unknown)
	}
	if st.reads.Load()-before != 3 {
		t.Error("NegativeTTL < 0 still cached an unknown token")
	}
}

// slowStore blocks TokenByHash until release is closed.
type slowStore struct {
	countingStore
	release chan struct{}
}

func (s *slowStore) TokenByHash(ctx context.Context, h []byte) (Token, error) {
	<-s.release
	return s.countingStore.TokenByHash(ctx, h)
}

// TestVerifierSharedLookup checks that concurrent checks of one secret
// that is not cached share one store read.
func TestVerifierSharedLookup(t *testing.T) {
	ctx := context.Background()
	st := &slowStore{release: make(chan struct{})}
	secret, _, err := Issue(ctx, &st.countingStore, Inspector, "", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	v := NewVerifier(st, VerifierOptions{})
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for range 32 {
		wg.Go(func() {
			if _, err := v.Verify(ctx, secret); err != nil {
				errs <- err
			}
		})
	}
	time.Sleep(50 * time.Millisecond)
	close(st.release)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := st.reads.Load(); n != 1 {
		t.Errorf("32 concurrent checks read the store %d times, want 1", n)
	}
}

func TestFindRevoke(t *testing.T) {
	ctx := context.Background()
	var st Memory
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	secret, tok, err := Issue(ctx, &st, Inspector, "", now)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := Generate(nil)
	tests := map[string]struct {
		ref  string
		want error
	}{
		"secret":         {secret, nil},
		"id":             {tok.ID(), nil},
		"id upper case":  {strings.ToUpper(tok.ID()), nil},
		"short prefix":   {tok.ID()[:MinIDLen], nil},
		"too short":      {tok.ID()[:MinIDLen-1], ErrMalformed},
		"not hex":        {"zzzzzzzzzz", ErrMalformed},
		"unknown id":     {"0000000000000000", ErrNotFound},
		"unknown secret": {other, ErrNotFound},
		"bad secret":     {"ct_abc", ErrMalformed},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := Find(ctx, &st, tc.ref)
			if tc.want == nil {
				if err != nil || got.ID() != tok.ID() {
					t.Fatalf("Find = %v, %v; want %s", got.ID(), err, tok.ID())
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("Find = %v, want %v", err, tc.want)
			}
			if strings.HasPrefix(tc.ref, Prefix) && strings.Contains(err.Error(), tc.ref) {
				t.Errorf("error %q quotes the secret", err)
			}
		})
	}
	got, err := Revoke(ctx, &st, tok.ID(), now.Add(time.Minute))
	if err != nil || !got.Revoked.Equal(now.Add(time.Minute)) {
		t.Fatalf("Revoke = %+v, %v", got, err)
	}
	again, err := Revoke(ctx, &st, secret, now.Add(time.Hour))
	if err != nil || !again.Revoked.Equal(got.Revoked) {
		t.Errorf("a second Revoke = %v, %v; want the first time kept", again.Revoked, err)
	}
	if err := again.Usable(now); !errors.Is(err, ErrRevoked) {
		t.Errorf("Usable after Revoke = %v", err)
	}
	list, err := st.ListTokens(ctx)
	if err != nil || len(list) != 1 || list[0].Revoked.IsZero() {
		t.Errorf("ListTokens = %+v, %v", list, err)
	}
}
