package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"citytwin/app"
	"citytwin/incidents"
	"citytwin/mqtt"
	"citytwin/parts"
	"citytwin/sensors"
	"citytwin/twin"
)

// simulatorActor is who binds the demo's simulated sensors.
var simulatorActor = incidents.Actor{Name: "simulator", Role: incidents.RoleAdmin}

// startSimulation binds n simulated sensors ("sim-<kind>-<i>") to
// components of the classes their kinds fit, spread over the city, and
// publishes their readings at rate per second to the service's broker
// under prefix until ctx is done: the demo of `serve --simulate`.
func startSimulation(ctx context.Context, a *app.App, n int, rate float64, prefix string, log *slog.Logger) error {
	url := a.BrokerURL()
	if url == "" {
		return fmt.Errorf("%w: serve: --simulate needs MQTT (drop --no-mqtt)", errUsage)
	}
	ss, err := bindSimulated(ctx, a.Twin, n)
	if err != nil {
		return fmt.Errorf("serve: --simulate: %w", err)
	}
	if len(ss) == 0 {
		return fmt.Errorf("serve: --simulate: no component of a class any sensor kind fits")
	}
	log.Info("simulating sensors", "sensors", len(ss), "readings_per_second", rate, "broker", url)
	go func() {
		pub, err := mqtt.NewPublisher(ctx, mqtt.PublisherOptions{Broker: url, Logger: log})
		if err != nil {
			log.Error("simulated sensors: no publisher", "err", err)
			return
		}
		defer pub.Close()
		cfg := simConfig{Sensors: len(ss), Rate: rate, MQTT: url, Prefix: prefix, Seed: 1, Batch: 1}
		if err := simulate(ctx, cfg, newSimValues(cfg.Seed, ss), pub, io.Discard); err != nil && ctx.Err() == nil {
			log.Warn("simulated sensors stopped", "err", err)
		}
	}()
	return nil
}

// bindSimulated returns the simulated sensors already bound, topped up to
// n with new ones, kinds taking turns, each kind's components picked at
// even strides over the registry so that they spread over the city.
func bindSimulated(ctx context.Context, tw *twin.Twin, n int) ([]simSensor, error) {
	var out []simSensor
	taken := make(map[parts.Code]bool)
	tw.Sensors().Each(func(s sensors.Sensor, _ sensors.Status) bool {
		if strings.HasPrefix(string(s.ID), "sim-") && len(out) < n {
			out = append(out, simSensor{ID: s.ID, Kind: s.Kind, Rules: s.Rules})
			taken[s.Code] = true
		}
		return true
	})
	missing := n - len(out)
	if missing <= 0 {
		return out, nil
	}
	kinds := sensors.Kinds()
	byKind := make([][]parts.Code, len(kinds))
	tw.Parts().Each(func(p parts.Part) bool {
		if p.Retired || taken[p.Code] {
			return true
		}
		for i, k := range kinds {
			if k.Fits(p.Class) {
				byKind[i] = append(byKind[i], p.Code)
				break
			}
		}
		return true
	})
	per := (missing + len(kinds) - 1) / len(kinds)
	var add []sensors.Sensor
	for i, k := range kinds {
		codes := byKind[i]
		take := min(per, len(codes))
		for j := range take {
			code := codes[j*len(codes)/take]
			id := sensors.ID(fmt.Sprintf("sim-%s-%d", k.Kind, j))
			if _, _, ok := tw.Sensors().Get(id); ok {
				continue
			}
			add = append(add, sensors.Sensor{ID: id, Kind: k.Kind, Unit: k.Unit, Code: code, Rules: k.Rules})
		}
	}
	add = add[:min(len(add), missing)]
	if len(add) > 0 {
		bound, err := tw.PutSensors(ctx, add, nil, simulatorActor)
		if err != nil {
			return nil, err
		}
		for _, s := range bound {
			out = append(out, simSensor{ID: s.ID, Kind: s.Kind, Rules: s.Rules})
		}
	}
	return out, nil
}
