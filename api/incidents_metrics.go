package api

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"

	"citytwin/incidents"
	"citytwin/twin"
)

// caseMetrics count intake and actions through the API.
type caseMetrics struct {
	opened  *prometheus.CounterVec // by source and routing rule
	merged  *prometheus.CounterVec // by source
	actions *prometheus.CounterVec // by action and result
}

func newCaseMetrics(reg prometheus.Registerer) (*caseMetrics, error) {
	m := &caseMetrics{
		opened: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "citytwin", Subsystem: "cases", Name: "opened_total",
			Help: "Cases opened through the API (POST /incidents, Open311), by source and the rule that routed them.",
		}, []string{"source", "rule"}),
		merged: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "citytwin", Subsystem: "cases", Name: "merged_total",
			Help: "Reports merged into an open case of the same class nearby, by source.",
		}, []string{"source"}),
		actions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "citytwin", Subsystem: "cases", Name: "actions_total",
			Help: "Case actions through the API by action and result (ok, forbidden, state, stale, invalid, error).",
		}, []string{"action", "result"}),
	}
	for _, c := range []prometheus.Collector{m.opened, m.merged, m.actions} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// reported counts an accepted report.
func (m *caseMetrics) reported(src incidents.Source, rule string, merged bool) {
	if merged {
		m.merged.WithLabelValues(string(src)).Inc()
		return
	}
	m.opened.WithLabelValues(string(src), rule).Inc()
}

// acted counts an action and how it ended.
func (m *caseMetrics) acted(a incidents.Action, err error) {
	result := "ok"
	switch {
	case err == nil:
	case errors.Is(err, incidents.ErrNotAllowed), errors.Is(err, ErrForbidden), errors.Is(err, ErrUnauthorized):
		result = "forbidden"
	case errors.Is(err, incidents.ErrBadTransition):
		result = "state"
	case errors.Is(err, incidents.ErrVersionMismatch), errors.Is(err, twin.ErrConflict):
		result = "stale"
	case errors.Is(err, incidents.ErrInvalid), errors.Is(err, incidents.ErrNotFound), errors.Is(err, ErrBadRequest):
		result = "invalid"
	default:
		result = "error"
	}
	m.actions.WithLabelValues(string(a), result).Inc()
}
