package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progress reports long work: a bar on a terminal, plain lines (at most one
// every two seconds per stage) when not on one.
type progress struct {
	w     io.Writer
	tty   bool
	mu    sync.Mutex
	stage string
	bar   *progressbar.ProgressBar
	last  time.Time
	start time.Time
}

func newProgress(w io.Writer) *progress {
	tty := false
	if f, ok := w.(*os.File); ok {
		tty = term.IsTerminal(int(f.Fd()))
	}
	return &progress{w: w, tty: tty}
}

// Update reports done of total for stage (total 0 when unknown).
func (p *progress) Update(stage string, done, total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if stage != p.stage {
		p.finishLocked()
		p.stage, p.start = stage, time.Now()
		if p.tty {
			max := int64(total)
			if max <= 0 {
				max = -1
			}
			p.bar = progressbar.NewOptions64(max,
				progressbar.OptionSetWriter(p.w),
				progressbar.OptionSetDescription(stage),
				progressbar.OptionShowCount(),
				progressbar.OptionShowIts(),
				progressbar.OptionThrottle(100*time.Millisecond),
				progressbar.OptionClearOnFinish(),
			)
		}
	}
	if p.tty {
		_ = p.bar.Set(done)
		return
	}
	now := time.Now()
	if now.Sub(p.last) < 2*time.Second && !(total > 0 && done >= total) {
		return
	}
	p.last = now
	if total > 0 {
		fmt.Fprintf(p.w, "%s: %d / %d (%.0f%%) %.1fs\n", stage, done, total, 100*float64(done)/float64(total), now.Sub(p.start).Seconds())
	} else {
		fmt.Fprintf(p.w, "%s: %d %.1fs\n", stage, done, now.Sub(p.start).Seconds())
	}
}

// Done closes the current stage.
func (p *progress) Done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.finishLocked()
	p.stage = ""
}

func (p *progress) finishLocked() {
	if p.bar != nil {
		_ = p.bar.Finish()
		p.bar = nil
	}
}
