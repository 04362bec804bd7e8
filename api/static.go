package api

import (
	"errors"
	"io/fs"
	"net/http"
	"path"
	"strings"

	"github.com/labstack/echo/v4"
)

// registerStatic serves the map page of Config.Static at / and its assets
// (app.js, app.css, vendor/...) by name, so that unknown API paths still get
// a problem+json 404 rather than a file server's page.
func (s *Server) registerStatic(e *echo.Echo) {
	if s.cfg.Static == nil {
		return
	}
	serve := func(name string) echo.HandlerFunc {
		return func(c echo.Context) error {
			name := name
			if name == "" {
				name = "vendor/" + strings.TrimPrefix(path.Clean("/"+c.Param("*")), "/")
			}
			f, err := fs.Stat(s.cfg.Static, name)
			if err != nil || f.IsDir() {
				return echo.NewHTTPError(http.StatusNotFound, "no such file: /"+name)
			}
			c.Response().Header().Set("Cache-Control", "no-cache")
			http.ServeFileFS(c.Response(), c.Request(), s.cfg.Static, name)
			return nil
		}
	}
	e.GET("/", serve("index.html"))
	entries, err := fs.ReadDir(s.cfg.Static, ".")
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		s.log.Warn("map page files unreadable", "err", err)
	}
	for _, de := range entries {
		if !de.IsDir() && de.Name() != "index.html" {
			e.GET("/"+de.Name(), serve(de.Name()))
		}
	}
	e.GET("/vendor/*", serve(""))
}
