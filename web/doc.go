// Package web holds the citytwin map page (MapLibre GL JS) as embedded
// static files. scripts/web.sh installs MapLibre from the npm registry into
// static/vendor before the binary is built; without it the page says so.
package web
