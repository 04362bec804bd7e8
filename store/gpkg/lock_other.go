//go:build !unix

package gpkg

// fileLock is a no-op where flock(2) does not exist: there, SQLite's
// per-transaction locks are the only guard against a second writer.
type fileLock struct{}

func lockFile(string) (*fileLock, error) { return &fileLock{}, nil }

func (*fileLock) unlock() error { return nil }
