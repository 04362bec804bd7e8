package web

import (
	"embed"
	"io/fs"
)

//go:embed static
var static embed.FS

// Files returns the page's files: index.html, app.js, app.css and, when
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
