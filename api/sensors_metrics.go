package api

import (
	"github.com/prometheus/client_golang/prometheus"

	"citytwin/twin"
)

// sensorMetrics count what POST /readings did with the readings it got.
type sensorMetrics struct {
	accepted prometheus.Counter
	rejected *prometheus.CounterVec // by reason (sensors.Reason, "forbidden")
}

// ReadingCounters returns the counters of readings accepted and refused
// (by reason) for one source ("http", "mqtt"): one metric family whatever
// the transport, so /metrics counts every reading per source and reason.
func ReadingCounters(source string) (accepted prometheus.Counter, rejected *prometheus.CounterVec) {
	accepted = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: "citytwin", Subsystem: "readings", Name: "accepted_total",
		Help:        "Sensor readings accepted and evaluated, by source.",
		ConstLabels: prometheus.Labels{"source": source},
	})
	rejected = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "citytwin", Subsystem: "readings", Name: "rejected_total",
		Help:        "Sensor readings refused, by source and reason (unknown_sensor, bad_value, future, too_old, duplicate, out_of_order, malformed, forbidden, ...).",
		ConstLabels: prometheus.Labels{"source": source},
	}, []string{"reason"})
	return accepted, rejected
}

// newSensorMetrics registers the readings counters of POST /readings and
// the gauge of bound sensors on reg. Registration only fails on a
// duplicate name, a programming error that every test shows: it panics.
func newSensorMetrics(reg *prometheus.Registry, tw *twin.Twin) *sensorMetrics {
	m := &sensorMetrics{}
	m.accepted, m.rejected = ReadingCounters("http")
	reg.MustRegister(m.accepted, m.rejected,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: "citytwin", Name: "sensors_bound", Help: "Sensors bound to components.",
		}, func() float64 { return float64(tw.Sensors().Len()) }))
	return m
}

// count records what became of a request's readings.
func (m *sensorMetrics) count(accepted int, rejected map[string]int) {
	m.accepted.Add(float64(accepted))
	for reason, n := range rejected {
		m.rejected.WithLabelValues(reason).Add(float64(n))
	}
}
