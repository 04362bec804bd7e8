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

// MaxTTL bounds VerifierOptions.TTL: a token revoked in the shared store
// (by another process or replica) is refused by every Verifier within
// MaxTTL, since none trusts what it found for longer.
const MaxTTL = time.Second

// StaleTTL is how long a token found in the store keeps counting while the
// store cannot be read (a database down): the API keeps serving the
// callers it knew. A token revoked meanwhile in a store this process
// cannot reach counts until then.
const StaleTTL = 10 * time.Minute

// VerifierOptions configures NewVerifier. The zero value is usable.
type VerifierOptions struct {
	// TTL is how long a token found in the store is trusted without asking
	// it again; 0 means, and anything above is cut to, MaxTTL.
	TTL time.Duration
	// NegativeTTL is how long a secret the store does not hold is answered
	// "unknown" without asking it again, so that a flood of one bad token
	// does not reach the store; 0 means 2 s, < 0 turns it off.
	NegativeTTL time.Duration
	// Size bounds the number of cached tokens, and apart from them the
	// number of cached unknown secrets; 0 means 1024 and 4096.
	Size int
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// Verifier checks secrets against a Store, with two small caches: the
// tokens it found (at most MaxTTL, so a revocation anywhere counts within
// a second) and the secrets it did not (NegativeTTL). Concurrent checks of
// one secret share one store read. Callers rate-limit the requests that
// would read the store (Cached tells which ones) before calling Verify.
type Verifier struct {
	st      Store
	ttl     time.Duration
	negTTL  time.Duration
	size    int
	negSize int
	now     func() time.Time

	mu     sync.Mutex
	cache  map[[sha256.Size]byte]cached
	neg    map[[sha256.Size]byte]time.Time // unknown secret -> until
	flight map[[sha256.Size]byte]*lookup
}

type cached struct {
	tok     Token
	expires time.Time
}

// lookup is a store read in flight; done is closed when tok and err are set.
type lookup struct {
	done chan struct{}
	tok  Token
	err  error
}

// NewVerifier returns a Verifier over st.
func NewVerifier(st Store, o VerifierOptions) *Verifier {
	if o.TTL <= 0 || o.TTL > MaxTTL {
		o.TTL = MaxTTL
	}
	if o.NegativeTTL == 0 {
		o.NegativeTTL = 2 * time.Second
	}
	negSize := 4096
	if o.Size <= 0 {
		o.Size = 1024
	} else {
		negSize = 4 * o.Size
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Verifier{
		st: st, ttl: o.TTL, negTTL: o.NegativeTTL, size: o.Size, negSize: negSize, now: o.Now,
		cache:  make(map[[sha256.Size]byte]cached),
		neg:    make(map[[sha256.Size]byte]time.Time),
		flight: make(map[[sha256.Size]byte]*lookup),
	}
}

// Cached reports whether Verify would accept s from the cache alone,
// without reading the store: a token found less than TTL ago, neither
// expired nor revoked.
func (v *Verifier) Cached(s string) bool {
	if len(s) != Len {
		return false
	}
	key := sha256.Sum256([]byte(s))
	now := v.now()
	v.mu.Lock()
	c, ok := v.cache[key]
	v.mu.Unlock()
	return ok && now.Before(c.expires) && c.tok.Usable(now) == nil
}

// Verify returns the token whose secret is s. It fails with an error
// wrapping ErrMalformed when s is not a token, ErrNotFound when no store
// holds it, ErrExpired or ErrRevoked (a *StateError) when it is no longer
// accepted, or the store's error.
func (v *Verifier) Verify(ctx context.Context, s string) (Token, error) {
	if err := Check(s); err != nil {
		return Token{}, err
	}
	key := sha256.Sum256([]byte(s))
	for {
		now := v.now()
		v.mu.Lock()
		if c, ok := v.cache[key]; ok && now.Before(c.expires) {
			v.mu.Unlock()
			return usable(c.tok, now)
		}
		if until, ok := v.neg[key]; ok {
			if now.Before(until) {
				v.mu.Unlock()
				return Token{}, fmt.Errorf("%w (cached)", ErrNotFound)
			}
			delete(v.neg, key)
		}
		if l, ok := v.flight[key]; ok {
			v.mu.Unlock()
			select {
			case <-l.done:
			case <-ctx.Done():
				return Token{}, ctx.Err()
			}
			if l.err != nil && ctx.Err() == nil && (errors.Is(l.err, context.Canceled) || errors.Is(l.err, context.DeadlineExceeded)) {
				continue // the reader's request gave up, not this one: read again
			}
			if l.err != nil {
				return Token{}, l.err
			}
			return usable(l.tok, v.now())
		}
		l := &lookup{done: make(chan struct{})}
		v.flight[key] = l
		v.mu.Unlock()

		l.tok, l.err = v.read(ctx, key)
		now = v.now()
		v.mu.Lock()
		delete(v.flight, key)
		switch {
		case l.err == nil:
			if len(v.cache) >= v.size {
				v.evictLocked(now)
			}
			v.cache[key] = cached{tok: l.tok, expires: now.Add(v.ttl)}
		case !errors.Is(l.err, ErrNotFound) && !errors.Is(l.err, context.Canceled) && !errors.Is(l.err, context.DeadlineExceeded) || errors.Is(l.err, ErrUnavailable):
			// The store failed (a database that went down): a token
			// found less than StaleTTL ago still counts, so reads with
			// it go on; others get ErrUnavailable (503), not a 500.
			if c, ok := v.cache[key]; ok && now.Sub(c.expires) < StaleTTL {
				l.tok, l.err = c.tok, nil
			} else if !errors.Is(l.err, ErrUnavailable) {
				l.err = fmt.Errorf("%w: %w", ErrUnavailable, l.err)
			}
		case errors.Is(l.err, ErrNotFound) && v.negTTL > 0:
			if len(v.neg) >= v.negSize {
				evict(v.neg, func(until time.Time) bool { return !now.Before(until) })
			}
			v.neg[key] = now.Add(v.negTTL)
		}
		v.mu.Unlock()
		close(l.done)
		if l.err != nil {
			return Token{}, l.err
		}
		return usable(l.tok, now)
	}
}

// read asks the store for the token with the hash key.
func (v *Verifier) read(ctx context.Context, key [sha256.Size]byte) (Token, error) {
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
	return t, nil
}

func usable(t Token, now time.Time) (Token, error) {
	if err := t.Usable(now); err != nil {
		return Token{}, err
	}
	return t, nil
}

// Forget drops a token from the cache (after it is revoked here, so that
// this process refuses it at once rather than within MaxTTL).
func (v *Verifier) Forget(hash []byte) {
	var key [sha256.Size]byte
	copy(key[:], hash)
	v.mu.Lock()
	delete(v.cache, key)
	v.mu.Unlock()
}

// evictLocked drops expired tokens, and when none had expired, about a
// quarter of the cache.
func (v *Verifier) evictLocked(now time.Time) {
	evict(v.cache, func(c cached) bool { return !now.Before(c.expires) })
}

// evict drops the entries of m that are stale, and when none was, about a
// quarter of m (map order is random enough).
func evict[V any](m map[[sha256.Size]byte]V, stale func(V) bool) {
	n := len(m)
	for k, e := range m {
		if stale(e) {
			delete(m, k)
		}
	}
	if len(m) < n {
		return
	}
	drop := max(1, n/4)
	for k := range m {
		delete(m, k)
		drop--
		if drop == 0 {
			return
		}
	}
}
