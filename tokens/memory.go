package tokens

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"
)

// Memory is a Manager in memory, for tests and for a server started
// without a database. The zero value is ready to use.
type Memory struct {
	mu sync.RWMutex
	m  map[string]Token
}

// PutToken stores t (replacing a token with the same hash).
func (m *Memory) PutToken(_ context.Context, t Token) error {
	if err := t.Validate(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.m == nil {
		m.m = make(map[string]Token)
	}
	t.Hash = append([]byte(nil), t.Hash...)
	m.m[string(t.Hash)] = t
	return nil
}

// TokenByHash returns the token with hash, or an error wrapping ErrNotFound.
func (m *Memory) TokenByHash(_ context.Context, hash []byte) (Token, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	t, ok := m.m[string(hash)]
	if !ok {
		return Token{}, fmt.Errorf("%w: no token with hash %x...", ErrNotFound, hash[:min(4, len(hash))])
	}
	return t, nil
}

// ListTokens returns every token, oldest first (then by hash).
func (m *Memory) ListTokens(context.Context) ([]Token, error) {
	m.mu.RLock()
	out := make([]Token, 0, len(m.m))
	for _, t := range m.m {
		out = append(out, t)
	}
	m.mu.RUnlock()
	slices.SortFunc(out, func(a, b Token) int {
		if c := a.Created.Compare(b.Created); c != 0 {
			return c
		}
		return bytes.Compare(a.Hash, b.Hash)
	})
	return out, nil
}

// RevokeToken marks the token with hash revoked at at (kept when it
// already is) and returns it.
func (m *Memory) RevokeToken(_ context.Context, hash []byte, at time.Time) (Token, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.m[string(hash)]
	if !ok {
		return Token{}, fmt.Errorf("%w: no token with hash %x...", ErrNotFound, hash[:min(4, len(hash))])
	}
	if t.Revoked.IsZero() {
		t.Revoked = at.UTC()
		m.m[string(hash)] = t
	}
	return t, nil
}
