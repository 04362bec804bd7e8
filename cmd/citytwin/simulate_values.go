package main

import (
	"math"
	"math/rand/v2"
	"strconv"
	"time"

	"citytwin/sensors"
)

// Rates of the simulated faults.
const (
	simFaultRate    = 0.001 // readings sent as NaN or malformed payloads
	simSpikeShare   = 0.005 // sensors spiking at any moment
	simSpikeMin     = 4     // readings a spike lasts, at least ...
	simSpikeMax     = 10    // ... and at most
	simSilentShare  = 0.01  // devices that never publish
	simDriftPerStep = 0.02  // standard deviation of a drift step, in Spreads
	simDriftMax     = 2.0   // largest drift, in Spreads
)

// simSensor is a bound sensor the simulator plays.
type simSensor struct {
	ID   sensors.ID
	Kind sensors.Kind
	// Rules of the sensor (its kind's when empty): spikes cross its first
	// threshold.
	Rules []sensors.Rule
}

// simDevice is the state of one simulated device.
type simDevice struct {
	id             sensors.ID
	normal, spread float64
	spikeTo        float64 // a value beyond the threshold, well past the clear level
	silent         bool
	spikeLeft      int     // readings left in the current spike
	calm           int     // readings after a spike before the next may start (the alarm clears)
	drift          float64 // slow offset, a bounded random walk
}

// simReading is one generated reading: a value, or a fault (a payload the
// service must reject).
type simReading struct {
	Sensor sensors.ID
	Value  float64
	Fault  simFault
	Spike  bool
}

// simFault is the kind of a faulty reading.
type simFault uint8

const (
	faultNone      simFault = iota
	faultNaN                // {"value":NaN}: not JSON, a device bug
	faultMalformed          // a truncated payload
)

// simValues generates the readings of a set of devices: values around
// their kind's Normal ± Spread with slow drifts, spikes over a threshold
// lasting several readings, occasional faults and silent devices. It is
// deterministic for a seed and not safe for concurrent use.
type simValues struct {
	rnd    *rand.Rand
	devs   []simDevice
	live   []int // indexes of the devices that publish
	next   int   // round robin over live
	spikeP float64
}

func newSimValues(seed uint64, ss []simSensor) *simValues {
	v := &simValues{rnd: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
	// A spike starts with the probability that keeps simSpikeShare of the
	// sensors spiking: share = p*L/(1+p*L) with L the mean length.
	meanLen := float64(simSpikeMin+simSpikeMax) / 2
	v.spikeP = simSpikeShare / (meanLen * (1 - simSpikeShare))
	v.devs = make([]simDevice, len(ss))
	for i, s := range ss {
		d := simDevice{id: s.ID, spread: 1}
		if ki, ok := sensors.LookupKind(s.Kind); ok {
			d.normal, d.spread = ki.Normal, ki.Spread
			if len(s.Rules) == 0 {
				s.Rules = ki.Rules
			}
		}
		d.spikeTo = spikeValue(s.Rules, d.normal, d.spread)
		d.silent = v.rnd.Float64() < simSilentShare
		v.devs[i] = d
		if !d.silent {
			v.live = append(v.live, i)
		}
	}
	return v
}

// spikeValue is a value that raises the first threshold rule and stays
// past its clear level: 20 % beyond the limit (a value 10 spreads off
// normal without a threshold).
func spikeValue(rules []sensors.Rule, normal, spread float64) float64 {
	for _, r := range rules {
		if r.Kind != sensors.Threshold {
			continue
		}
		if r.Above != nil {
			return *r.Above + math.Max(math.Abs(*r.Above)*0.2, spread)
		}
		if r.Below != nil {
			return *r.Below - math.Max(math.Abs(*r.Below)*0.2, spread)
		}
	}
	return normal + 10*spread
}

// Live is the number of devices that publish.
func (v *simValues) Live() int { return len(v.live) }

// Silent is the number of devices that never publish.
func (v *simValues) Silent() int { return len(v.devs) - len(v.live) }

// Next returns the next reading, the devices taking turns; ok is false when
// every device is silent.
func (v *simValues) Next() (r simReading, ok bool) {
	if len(v.live) == 0 {
		return simReading{}, false
	}
	d := &v.devs[v.live[v.next]]
	v.next = (v.next + 1) % len(v.live)
	r.Sensor = d.id
	d.drift += v.rnd.NormFloat64() * simDriftPerStep * d.spread
	d.drift = math.Max(-simDriftMax*d.spread, math.Min(simDriftMax*d.spread, d.drift))
	if d.calm > 0 {
		d.calm--
	} else if d.spikeLeft == 0 && v.rnd.Float64() < v.spikeP {
		d.spikeLeft = simSpikeMin + v.rnd.IntN(simSpikeMax-simSpikeMin+1)
	}
	if d.spikeLeft > 0 {
		d.spikeLeft--
		if d.spikeLeft == 0 {
			d.calm = simSpikeMax
		}
		r.Spike = true
		r.Value = d.spikeTo + v.rnd.Float64()*d.spread*0.1*math.Copysign(1, d.spikeTo-d.normal)
	} else {
		r.Value = d.normal + d.drift + v.rnd.NormFloat64()*d.spread
		if d.normal >= 0 && r.Value < 0 {
			r.Value = 0 // no negative depths, fills or tilts
		}
	}
	if f := v.rnd.Float64(); f < simFaultRate {
		r.Fault = faultNaN
		if f < simFaultRate/2 {
			r.Fault = faultMalformed
		}
	}
	return r, true
}

// appendValue appends the payload of one sensor's topic:
// {"value":12.5,"time":"..."}.
func appendValue(dst []byte, r simReading, now time.Time) []byte {
	switch r.Fault {
	case faultNaN:
		return append(dst, `{"value":NaN}`...)
	case faultMalformed:
		return append(dst, `{"value":12.`...)
	}
	dst = append(dst, `{"value":`...)
	dst = strconv.AppendFloat(dst, r.Value, 'g', 6, 64)
	dst = append(dst, `,"time":"`...)
	dst = now.UTC().AppendFormat(dst, time.RFC3339Nano)
	return append(dst, `"}`...)
}

// appendBatchElem appends one element of a batch array:
// {"sensor":"id","value":12.5,"time":"..."}; a fault is an element with a
// NaN-like string value, which the parser rejects alone.
func appendBatchElem(dst []byte, r simReading, now time.Time) []byte {
	dst = append(dst, `{"sensor":`...)
	dst = strconv.AppendQuote(dst, string(r.Sensor))
	if r.Fault != faultNone {
		return append(dst, `,"value":"NaN"}`...)
	}
	dst = append(dst, `,"value":`...)
	dst = strconv.AppendFloat(dst, r.Value, 'g', 6, 64)
	dst = append(dst, `,"time":"`...)
	dst = now.UTC().AppendFormat(dst, time.RFC3339Nano)
	return append(dst, `"}`...)
}
