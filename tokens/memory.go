package tokens

import (
	"context"
	"fmt"
	"sync"
)

// Memory is a Store in memory, for tests and for a server started without
// a database. The zero value is ready to use.
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
