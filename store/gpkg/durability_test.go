package gpkg

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"citytwin/parts"
)

// killChildEnv names the file a child process of TestKilledAfterAck
// writes to; set only in the child.
const killChildEnv = "CITYTWIN_GPKG_KILL_CHILD"

// TestKilledAfterAck is the power-loss style test of the store's promise
// that a write is on disk when it returns: a child process (this test
// binary again) puts parts one by one and prints each acknowledged code;
// the parent kills it with SIGKILL in the middle of its writes, reopens the
// file and finds every acknowledged part. The store must also run with
// synchronous=FULL, which is what makes the promise hold through a power
// loss and not only through the death of the process.
func TestKilledAfterAck(t *testing.T) {
	if path := os.Getenv(killChildEnv); path != "" {
		writeUntilKilled(t, path)
		return
	}
	if testing.Short() {
		t.Skip("starts a child process")
	}
	path := writeSample(t)
	s := openT(t, path)
	var sync int
	if err := s.db.QueryRow(`PRAGMA synchronous`).Scan(&sync); err != nil || sync != 2 {
		t.Fatalf("PRAGMA synchronous = %d, %v; want 2 (FULL)", sync, err)
	}
	s.Close()

	cmd := exec.Command(os.Args[0], "-test.run=^TestKilledAfterAck$", "-test.count=1")
	cmd.Env = append(os.Environ(), killChildEnv+"="+path)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	const kill = 40 // acknowledgements before the kill
	var acked []parts.Code
	sc := bufio.NewScanner(out)
	timer := time.AfterFunc(60*time.Second, func() { _ = cmd.Process.Kill() })
	defer timer.Stop()
	for sc.Scan() {
		code, ok := strings.CutPrefix(sc.Text(), "ack ")
		if !ok {
			continue
		}
		c, err := parts.ParseCode(code)
		if err != nil {
			t.Fatalf("child printed %q: %v", sc.Text(), err)
		}
		acked = append(acked, c)
		if len(acked) == kill {
			// Right after the acknowledgement, while the next write runs.
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	_ = cmd.Wait()
	if len(acked) < kill {
		t.Fatalf("the child acknowledged %d writes before it ended, want %d", len(acked), kill)
	}

	s2 := openT(t, path)
	stored := map[parts.Code]parts.Part{}
	if err := s2.LoadParts(context.Background(), func(p parts.Part) error {
		stored[p.Code] = p
		return nil
	}); err != nil {
		t.Fatalf("reopening after the kill: %v", err)
	}
	for i, c := range acked {
		p, ok := stored[c]
		if !ok {
			t.Fatalf("acknowledged write %d (%s) is lost after kill -9", i, c)
		}
		if want := "ack " + strconv.Itoa(i); p.Name != want {
			t.Fatalf("%s: name %q, want %q", c, p.Name, want)
		}
	}
}

// writeUntilKilled is the child of TestKilledAfterAck: it puts parts one
// by one, printing "ack CODE" after each PutParts returns, until killed
// (or 10,000 writes).
func writeUntilKilled(t *testing.T, path string) {
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	p := sampleParts(t)[0]
	for i := range 10000 {
		c, err := parts.NewCode(320508, 101, uint32(100+i))
		if err != nil {
			t.Fatal(err)
		}
		p.Code, p.Name, p.Version = c, "ack "+strconv.Itoa(i), 1
		if err := s.PutParts(context.Background(), []parts.Part{p}); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(os.Stdout, "ack %s\n", c)
	}
}
