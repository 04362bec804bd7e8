package web

import (
	"embed"
	"io/fs"
)

// MapLibre GL JS comes from the npm registry at build time, never from the
// repository: `go generate ./web` (scripts/web.sh) copies it into
// static/vendor, where the embed below picks it up.
//
//go:generate ../scripts/web.sh

//go:embed static
var static embed.FS

// Files returns the page's files: index.html, app.js, names.js, app.css and, when
// scripts/web.sh has run, vendor/maplibre-gl.{js,css}.
func Files() fs.FS {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		// fs.Sub fails only on an invalid path, and "static" is valid.
		panic(err)
	}
	return sub
}

// HasMapLibre reports whether the vendored MapLibre GL JS is embedded.
func HasMapLibre() bool {
	_, err := fs.Stat(static, "static/vendor/maplibre-gl.js")
	return err == nil
}
