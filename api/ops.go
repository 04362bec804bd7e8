package api

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

type status struct {
	Status string `json:"status"`
	Parts  int    `json:"parts,omitempty"`
	Grids  int    `json:"grids,omitempty"`
}

// healthz answers 200 while the process is up.
func (s *Server) healthz(c echo.Context) error {
	return writeJSON(c, http.StatusOK, mediaJSON, status{Status: "ok"})
}

// readyz answers 200 once SetReady(true), 503 before (and after
// SetReady(false), e.g. while shutting down).
func (s *Server) readyz(c echo.Context) error {
	if !s.ready.Load() {
		return ErrNotReady
	}
	return writeJSON(c, http.StatusOK, mediaJSON, status{Status: "ready", Parts: s.twin.Parts().Len(), Grids: s.twin.Grids().Len()})
}

// serveMetrics serves the server's own Prometheus registry.
func (s *Server) serveMetrics(c echo.Context) error {
	s.promHandler.ServeHTTP(c.Response(), c.Request())
	return nil
}
