package main

import (
	"fmt"
	"io"
	"log/slog"
)

// newLogger returns the structured logger of serve's --log-format and
// --log-level: to w as text (key=value lines) or json (one object a line),
// from level (debug, info, warn or error) up. A bad value is a usage error.
func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	switch level {
	case "debug":
		lv = slog.LevelDebug
	case "info":
		lv = slog.LevelInfo
	case "warn":
		lv = slog.LevelWarn
	case "error":
		lv = slog.LevelError
	default:
		return nil, fmt.Errorf("%w: serve: --log-level %q: want debug, info, warn or error", errUsage, level)
	}
	o := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, o)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, o)), nil
	}
	return nil, fmt.Errorf("%w: serve: --log-format %q: want text or json", errUsage, format)
}
