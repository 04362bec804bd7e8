package tokens

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"sync"
	"time"
)

// VerifierOptions configures NewVerifier. The zero value is usable.
type VerifierOptions struct {
	// TTL is how long a token found in the store is trusted without asking
	// it again; 0 means one minute.
	TTL time.Duration
	// Size bounds the number of cached tokens; 0 means 1024.
	Size int
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// Verifier checks secrets against a Store, with a small cache of the
// tokens it found so that a busy client costs no store read per request.
// Unknown tokens are not cached: callers rate-limit failures.
type Verifier struct {
	st   Store
	ttl  time.Duration
	size int
	now  func() time.Time

	mu    sync.Mutex
	cache map[[sha256.Size]byte]cached
}

type cached struct {
	tok     Token
	expires time.Time
}

// NewVerifier returns a Verifier over st.
func NewVerifier(st Store, o VerifierOptions) *Verifier {
	if o.TTL <= 0 {
		o.TTL = time.Minute
	}
	if o.Size <= 0 {
		o.Size = 1024
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Verifier{st: st, ttl: o.TTL, size: o.Size, now: o.Now, cache: make(map[[sha256.Size]byte]cached)}
}

// Verify returns the token whose secret is s. It fails with an error
// wrapping ErrMalformed when s is not a token, ErrNotFound when no store
// holds it, or the store's error.
func (v *Verifier) Verify(ctx context.Context, s string) (Token, error) {
	if err := Check(s); err != nil {
		return Token{}, err
	}
	key := sha256.Sum256([]byte(s))
	now := v.now()
	v.mu.Lock()
	c, ok := v.cache[key]
	v.mu.Unlock()
	if ok && now.Before(c.expires) {
		return c.tok, nil
	}
	t, err := v.st.TokenByHash(ctx, key[:])
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return Token{}, err
		}
		return Token{}, fmt.Errorf("tokens: looking up token: %w", err)
	}
	if subtle.ConstantTimeCompare(t.Hash, key[:]) != 1 {
		return Token{}, fmt.Errorf("%w: the store returned another token", ErrNotFound)
	}
	v.mu.Lock()
	if len(v.cache) >= v.size {
		v.evictLocked(now)
	}
	v.cache[key] = cached{tok: t, expires: now.Add(v.ttl)}
	v.mu.Unlock()
	return t, nil
}

// Forget drops a token from the cache (after it is revoked).
func (v *Verifier) Forget(hash []byte) {
	var key [sha256.Size]byte
	copy(key[:], hash)
	v.mu.Lock()
	delete(v.cache, key)
	v.mu.Unlock()
}

// evictLocked drops expired entries, and when none had expired, about a
// quarter of the cache (map order is random enough).
func (v *Verifier) evictLocked(now time.Time) {
	n := len(v.cache)
	for k, c := range v.cache {
		if !now.Before(c.expires) {
			delete(v.cache, k)
		}
	}
	if len(v.cache) < n {
		return
	}
	drop := max(1, n/4)
	for k := range v.cache {
		delete(v.cache, k)
		drop--
		if drop == 0 {
			return
		}
	}
}
