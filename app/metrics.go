package app

import (
	"github.com/prometheus/client_golang/prometheus"

	"citytwin/mqtt"
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
			counter("citytwin_mqtt_readings_accepted_total", "Readings decoded from MQTT and handed to the rules.", stat(func(s mqtt.Stats) uint64 { return s.Accepted })),
			counter("citytwin_mqtt_rejected_total", "MQTT messages or readings refused (malformed, too large, bad value...).", stat(func(s mqtt.Stats) uint64 { return s.RejectedTotal() })),
			counter("citytwin_mqtt_reconnects_total", "Reconnections of the readings subscriber.", stat(func(s mqtt.Stats) uint64 { return s.Reconnects })),
			gauge("citytwin_mqtt_queue_depth", "MQTT messages waiting for the workers.", stat(func(s mqtt.Stats) uint64 { return uint64(s.QueueDepth) })),
		)
		ic := m.counter
		cs = append(cs,
			counter("citytwin_sensor_readings_evaluated_total", "Readings evaluated against their sensor's rules (MQTT).", func() float64 {
				ic.mu.Lock()
				defer ic.mu.Unlock()
				return float64(ic.accepted)
			}),
			counter("citytwin_alarms_raised_total", "Alarms raised by readings (MQTT).", func() float64 {
				ic.mu.Lock()
				defer ic.mu.Unlock()
				return float64(ic.raised)
			}),
		)
	}
	for _, c := range cs {
		if err := r.Register(c); err != nil {
			return err
		}
	}
	return nil
}
