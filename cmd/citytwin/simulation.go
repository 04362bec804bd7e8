package main

import (
	"context"
	"log/slog"

	"citytwin/app"
)

// startSimulation binds n simulated sensors and publishes their readings
// at rate per second to the service's own broker, until ctx is done.
func startSimulation(ctx context.Context, a *app.App, n int, rate float64, log *slog.Logger) error {
	log.Warn("--simulate is not wired yet", "sensors", n, "rate", rate)
	return nil
}
