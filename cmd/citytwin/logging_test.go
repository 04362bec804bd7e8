package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestNewLogger(t *testing.T) {
	var buf bytes.Buffer
	log, err := newLogger(&buf, "json", "warn")
	if err != nil {
		t.Fatal(err)
	}
	log.Info("hidden")
	log.Warn("shown", "k", 1)
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil || m["msg"] != "shown" || m["level"] != "WARN" {
		t.Fatalf("json at warn wrote %q (%v)", buf.String(), err)
	}
	buf.Reset()
	log, err = newLogger(&buf, "text", "debug")
	if err != nil {
		t.Fatal(err)
	}
	log.Debug("d")
	if !strings.Contains(buf.String(), "level=DEBUG msg=d") {
		t.Fatalf("text at debug wrote %q", buf.String())
	}
	for _, bad := range [][2]string{{"xml", "info"}, {"json", "verbose"}} {
		if _, err := newLogger(&buf, bad[0], bad[1]); !errors.Is(err, errUsage) {
			t.Errorf("%v: %v, want a usage error", bad, err)
		}
	}
	var out, errOut bytes.Buffer
	if err := runServe(context.Background(), []string{"--log-format", "yaml"}, &out, &errOut); !errors.Is(err, errUsage) {
		t.Errorf("serve --log-format yaml: %v, want a usage error", err)
	}
}
