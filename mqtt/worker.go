package mqtt

import (
	"errors"
	"fmt"

	paho "github.com/eclipse/paho.mqtt.golang"

	"citytwin/sensors"
)

// work decodes the messages of q, hands their readings to the Handler in
// batches and acknowledges the messages once the Handler returned.
func (s *Subscriber) work(q chan paho.Message) {
	defer s.wg.Done()
	flood := newFloodMeter(s.o.FloodLimit)
	var rs []sensors.Reading
	var msgs []paho.Message
	for {
		m, ok := <-q
		if !ok {
			return
		}
		msgs = append(msgs[:0], m)
		rs = s.decode(rs[:0], m, flood)
	drain:
		for len(rs) < s.o.MaxBatch {
			select {
			case m, ok = <-q:
				if !ok {
					break drain
				}
				msgs = append(msgs, m)
				rs = s.decode(rs, m, flood)
			default:
				break drain
			}
		}
		if len(rs) > 0 {
			s.h.HandleReadings(rs)
			s.ctr.accepted.Add(uint64(len(rs)))
			s.ctr.batches.Add(1)
		}
		for _, m := range msgs {
			m.Ack()
		}
		s.ctr.depth.Add(-int64(len(msgs)))
		clear(msgs) // let the payloads go
		if !ok {
			return
		}
	}
}

// decode appends the readings of m to rs, or rejects m.
func (s *Subscriber) decode(rs []sensors.Reading, m paho.Message, flood *floodMeter) []sensors.Reading {
	topic := m.Topic()
	sensor, batch, ok := splitTopic(s.o.Prefix, topic)
	if !ok {
		s.reject(rBadTopic, topic, errors.New("not a readings topic"))
		return rs
	}
	now := s.o.Now()
	n := len(rs)
	if batch {
		out, err := sensors.AppendReadings(rs, m.Payload(), now)
		if len(out) < n {
			out = rs[:n]
		}
		rs = out
		if err != nil {
			// The parser keeps the good elements of a batch and reports
			// the first bad one with the count it skipped.
			skipped := 1
			var pe *sensors.PayloadError
			if errors.As(err, &pe) && pe.Skipped > 1 {
				skipped = pe.Skipped
			}
			r := classify(err)
			for range skipped - 1 {
				s.ctr.rejected[r].Add(1)
				s.h.Rejected(reasons[r])
			}
			s.reject(r, topic, err)
		}
	} else {
		id, err := sensors.ParseID(sensor)
		if err != nil {
			s.reject(rBadSensor, topic, err)
			return rs
		}
		r, err := sensors.ParseValue(id, m.Payload(), now)
		if err != nil {
			s.reject(classify(err), topic, err)
			return rs
		}
		rs = append(rs, r)
	}
	for i := n; i < len(rs); i++ {
		if flood.add(rs[i].Sensor, now) {
			s.ctr.floods.Add(1)
			s.log.Warn("flood", "mqtt: sensor flooding", "sensor", rs[i].Sensor, "limit_per_second", s.o.FloodLimit, "topic", topic)
		}
	}
	return rs
}

// classify names the reason of a parser error.
func classify(err error) reason {
	switch {
	case errors.Is(err, sensors.ErrBadValue):
		return rBadValue
	case errors.Is(err, sensors.ErrTooLarge):
		return rTooLarge
	case errors.Is(err, sensors.ErrInvalid):
		return rBadSensor
	}
	return rMalformed
}

// reject counts a rejection, tells the Handler and logs it, rate-limited.
func (s *Subscriber) reject(r reason, topic string, err error) {
	s.ctr.rejected[r].Add(1)
	s.h.Rejected(reasons[r])
	s.log.Warn(reasons[r], "mqtt: message rejected", "reason", reasons[r], "topic", truncate(topic, 200), "error", truncate(fmt.Sprint(err), 300))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
