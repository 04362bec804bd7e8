package api

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
)

type status struct {
	Status string `json:"status"`
	Parts  int    `json:"parts,omitempty"`
	Grids  int    `json:"grids,omitempty"`
	// Reads and Writes say what the server does now: "served" or
	// "refused" (writes, while the store is down).
	Reads  string `json:"reads,omitempty"`
	Writes string `json:"writes,omitempty"`
	// Store and Feed are the store's state and, on PostGIS, the change
	// feed's position and lag (Config.Health).
	Store *StoreHealth `json:"store,omitempty"`
	Feed  any          `json:"feed,omitempty"`
}

// Health is what /readyz asks of the store and the change feed of other
// replicas (Config.Health); package app implements it.
type Health interface {
	// Health checks the store within ctx (a short deadline) and returns
	// its state and the change feed's (nil without one).
	Health(ctx context.Context) (StoreHealth, any)
}

// StoreHealth is the state of the store as /readyz reports it.
type StoreHealth struct {
	Kind   string `json:"kind"` // "gpkg" or "postgis"
	Up     bool   `json:"up"`
	Reason string `json:"reason,omitempty"` // why it is down
	// Stale is set when this replica missed changes it can no longer
	// read (the log was pruned past its position): restart it.
	Stale bool `json:"stale,omitempty"`
}

// healthTimeout bounds the store check of /readyz.
const healthTimeout = time.Second

// healthz answers 200 while the process is up.
func (s *Server) healthz(c echo.Context) error {
	return writeJSON(c, http.StatusOK, mediaJSON, status{Status: "ok"})
}

// readyz answers 200 once SetReady(true) while the store answers; 503
// before (and after SetReady(false), e.g. while shutting down) as a
// problem, and, while the store is down, 503 with the status document:
// reads and tiles are still served from memory, writes are refused until
// the store is back (it says why, and the change feed's position).
func (s *Server) readyz(c echo.Context) error {
	if !s.ready.Load() {
		return ErrNotReady
	}
	st := status{Status: "ready", Parts: s.twin.Parts().Len(), Grids: s.twin.Grids().Len(), Reads: "served", Writes: "served"}
	code := http.StatusOK
	if s.cfg.Health != nil {
		ctx, cancel := context.WithTimeout(c.Request().Context(), healthTimeout)
		sh, feed := s.cfg.Health.Health(ctx)
		cancel()
		st.Store, st.Feed = &sh, feed
		if !sh.Up {
			st.Status, st.Writes, code = "store-down", "refused", http.StatusServiceUnavailable
			c.Response().Header().Set("Retry-After", "1")
		} else if sh.Stale {
			st.Status = "stale"
		}
	}
	return writeJSON(c, code, mediaJSON, st)
}

// serveMetrics serves the server's own Prometheus registry.
func (s *Server) serveMetrics(c echo.Context) error {
	s.promHandler.ServeHTTP(c.Response(), c.Request())
	return nil
}

// RegisterMetrics adds collectors to the registry served at /metrics (the
// store's and the change feed's, from package app).
func (s *Server) RegisterMetrics(cs ...prometheus.Collector) error {
	for _, c := range cs {
		if err := s.metrics.Register(c); err != nil {
			return err
		}
	}
	return nil
}

// storeReason is the reason of a request the store failed (503): what
// the client may know of it, never the database's own text.
func storeReason(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "the store did not answer in time"
	case errors.As(err, &ne):
		return "the store cannot be reached"
	}
	return "the store failed"
}
