package gpkg

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"citytwin/parts"
)

// lockChildEnv names the file a child process of TestLockRefusesSecondWriter
// tries to open; set only in the child.
const lockChildEnv = "CITYTWIN_GPKG_LOCK_CHILD"

// TestLockRefusesSecondWriter opens a file, then has a second process
// (this test binary again) open it: it is refused with ErrLocked naming
// the first process's pid, while ogrinfo still reads the file. Once the
// first closes it, the second opens it. (Within one process the lock is
// shared: see fileLock.)
func TestLockRefusesSecondWriter(t *testing.T) {
	if path := os.Getenv(lockChildEnv); path != "" {
		s, err := Open(context.Background(), path)
		if err != nil {
			fmt.Printf("locked=%v: %v\n", errors.Is(err, ErrLocked), err)
			return
		}
		s.Close()
		fmt.Println("opened")
		return
	}
	path := writeSample(t)
	s := openT(t, path)
	child := func() string {
		cmd := exec.Command(os.Args[0], "-test.run=^TestLockRefusesSecondWriter$", "-test.count=1")
		cmd.Env = append(os.Environ(), lockChildEnv+"="+path)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("child: %v\n%s", err, out)
		}
		return string(out)
	}
	out := child()
	want := fmt.Sprintf("in use by another citytwin process (pid %d)", os.Getpid())
	if !strings.Contains(out, "locked=true") || !strings.Contains(out, want) {
		t.Fatalf("second process opening a locked file said:\n%s\nwant ErrLocked and %q", out, want)
	}
	// Readers are not kept out.
	if out := ogrinfo(t, "-ro", "-so", path, "parts"); !strings.Contains(out, "Feature Count: 3") {
		t.Errorf("ogrinfo while the store is open:\n%s", out)
	}
	// Writes from the holder go on.
	p := sampleParts(t)[1]
	p.Version = 2
	if err := s.PutParts(context.Background(), []parts.Part{p}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if out := child(); !strings.Contains(out, "opened") {
		t.Fatalf("second process after the first closed the file said:\n%s", out)
	}
}
