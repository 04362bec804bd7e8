package api

import "github.com/prometheus/client_golang/prometheus"

// Metrics returns the server's Prometheus registry, served at /metrics, so
// that the parts wired around the API (MQTT, the notification outbox) can
// add their own collectors.
func (s *Server) Metrics() prometheus.Registerer { return s.metrics }
