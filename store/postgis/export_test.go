package postgis

import (
	"context"

	"citytwin/parts"
)

// LoadPartsWith is LoadParts over up to conns connections, in ranges of
// blocks heap blocks, handing over chunks of chunk parts with ahead of them
// decoded ahead of fn. exported, if not nil, runs when the first
// connection has exported its snapshot.
func (s *Store) LoadPartsWith(ctx context.Context, fn func(p parts.Part) error, conns, blocks, chunk, ahead int, exported func() error) error {
	return s.loadParts(ctx, fn, loadOptions{conns: conns, blocks: blocks, chunk: chunk, ahead: ahead, exported: exported})
}

// AcquiredConns is the number of connections of the pool in use.
func (s *Store) AcquiredConns() int32 { return s.pool.Stat().AcquiredConns() }
