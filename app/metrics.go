package app

import (
	"github.com/prometheus/client_golang/prometheus"

	"citytwin/mqtt"
	"citytwin/twin"
)

// registerMetrics adds the notifier's and MQTT's counts to /metrics.
func (a *App) registerMetrics(r prometheus.Registerer) error {
	counter := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, f)
	}
	gauge := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f)
	}
	n := a.Notifier
	cs := []prometheus.Collector{
		counter("citytwin_notifications_delivered_total", "Dispatch notifications delivered (MQTT or webhook).",
			func() float64 { return float64(n.Stats().Delivered) }),
		counter("citytwin_notifications_retried_total", "Dispatch notification attempts that failed and will be retried.",
			func() float64 { return float64(n.Stats().Retried) }),
		counter("citytwin_notifications_dead_total", "Dispatch notifications given up after their last attempt.",
			func() float64 { return float64(n.Stats().Dead) }),
		gauge("citytwin_grid_relocations_pending", "Areas of stored grid writes whose components' grid codes wait for a retried re-location (the store refused it; the sweep retries every second).",
			func() float64 { return float64(a.Twin.RelocationsPending()) }),
	}
	if m := a.mq; m != nil {
		stat := func(f func(s mqtt.Stats) uint64) func() float64 {
			return func() float64 {
				s, _ := m.Stats()
				return float64(f(s))
			}
		}
		cs = append(cs,
			gauge("citytwin_mqtt_connected", "1 while the readings subscriber is connected to the broker.",
				func() float64 {
					if s, ok := m.Stats(); ok && s.Connected {
						return 1
					}
					return 0
				}),
			counter("citytwin_mqtt_messages_total", "MQTT messages received on the readings topics.", stat(func(s mqtt.Stats) uint64 { return s.Messages })),
			counter("citytwin_mqtt_reconnects_total", "Reconnections of the readings subscriber.", stat(func(s mqtt.Stats) uint64 { return s.Reconnects })),
			counter("citytwin_mqtt_floods_total", "Seconds in which one sensor sent more readings than the flood limit (counted and logged; the rules still see them).", stat(func(s mqtt.Stats) uint64 { return s.Floods })),
			gauge("citytwin_mqtt_queue_depth", "MQTT messages waiting for the workers.", stat(func(s mqtt.Stats) uint64 { return uint64(s.QueueDepth) })),
		)
		cs = append(cs, m.accepted, m.rejected)
	}
	cs = append(cs, a.alarms.raised, a.alarms.cleared)
	for _, c := range cs {
		if err := r.Register(c); err != nil {
			return err
		}
	}
	return nil
}

// alarmCounters count alarms raised and cleared, whatever brought the
// reading (MQTT, POST /readings, a silence sweep): fed by the twin's
// changes.
type alarmCounters struct {
	raised, cleared prometheus.Counter
}

func newAlarmCounters() alarmCounters {
	return alarmCounters{
		raised:  prometheus.NewCounter(prometheus.CounterOpts{Name: "citytwin_alarms_raised_total", Help: "Alarms raised (and stored)."}),
		cleared: prometheus.NewCounter(prometheus.CounterOpts{Name: "citytwin_alarms_cleared_total", Help: "Alarms cleared (and stored)."}),
	}
}

// follow counts the alarm changes of c.
func (ac alarmCounters) follow(c twin.Change) {
	if c.Alarm == nil {
		return
	}
	switch c.Op {
	case twin.OpAdd:
		ac.raised.Inc()
	case twin.OpRetire:
		ac.cleared.Inc()
	}
}
