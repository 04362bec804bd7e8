//go:build unix

package gpkg

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
)

// fileLock is the exclusive lock a process holds on a GeoPackage while a
// Store has it open: a POSIX write lock (fcntl F_SETLK) on the file
// path+".lock". The kernel drops it when the process dies, so a crash
// leaves no stale lock, and tells a second process the pid of the holder.
// SQLite's own locks last one transaction; this one keeps a second
// citytwin process from writing behind the first for the Store's whole
// life. Readers (ogrinfo, QGIS, LoadParts) do not take it.
//
// POSIX locks belong to the process: a second Store of the same file in
// the same process (tests reopening a file to see what was written) is not
// refused, and closing either releases the process's lock.
type fileLock struct {
	f *os.File
}

// lockFile takes the lock of the GeoPackage at abs, or fails at once with
// a *LockError (wrapping ErrLocked) naming the process that holds it.
func lockFile(abs string) (*fileLock, error) {
	name := abs + ".lock"
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("gpkg: lock %s: %w", name, err)
	}
	lk := syscall.Flock_t{Type: syscall.F_WRLCK, Whence: io.SeekStart}
	if err := syscall.FcntlFlock(f.Fd(), syscall.F_SETLK, &lk); err != nil {
		defer f.Close()
		if errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EACCES) {
			probe := syscall.Flock_t{Type: syscall.F_WRLCK, Whence: io.SeekStart}
			pid := 0
			if syscall.FcntlFlock(f.Fd(), syscall.F_GETLK, &probe) == nil && probe.Type != syscall.F_UNLCK {
				pid = int(probe.Pid)
			}
			return nil, &LockError{Path: abs, PID: pid}
		}
		return nil, fmt.Errorf("gpkg: lock %s: %w", name, err)
	}
	return &fileLock{f: f}, nil
}

// unlock releases the lock. The lock file stays: removing it would race
// with a process opening it.
func (l *fileLock) unlock() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close() // closing the descriptor releases the lock
	l.f = nil
	return err
}
