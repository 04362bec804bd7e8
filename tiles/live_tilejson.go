package tiles

import (
	"math"

	"github.com/paulmach/orb"
)

// liveDescriptions describe the live layers in TileJSON.
var liveDescriptions = map[string]string{
	LayerSensors:   "sensors at their component's place, with their alarm state; clustered above the feature limit (point_count)",
	LayerAlarms:    "open alarms at their sensor's place; clustered above the feature limit (point_count)",
	LayerIncidents: "open cases (案卷) at their location; clustered above the feature limit (point_count)",
}

// liveFields are the fields of a live layer, as TileJSON lists them.
func liveFields(layer string) map[string]string {
	f := map[string]string{"point_count": "Number: points this feature stands for (1 unless clustered)"}
	add := func(kv ...string) {
		for i := 0; i < len(kv); i += 2 {
			f[kv[i]] = kv[i+1]
		}
	}
	switch layer {
	case LayerSensors:
		add("id", "String: sensor id", "kind", "String: sensor kind (cover_gas, water_level, ...)", "name", "String: name of the kind",
			"code", "String: 16-digit code of the bound component", "unit", "String", "online", "Boolean: reporting and not silent",
			"alarm", "String: none, open or retired", "alarms", "Number: open alarms")
	case LayerAlarms:
		add("id", "String: alarm id (sensor#rule)", "sensor", "String: sensor id", "code", "String: component code",
			"kind", "String: sensor kind", "rule_kind", "String: threshold, rate or silence", "count", "Number: readings in breach",
			"raised", "String: RFC 3339 time raised", "retired", "Boolean: the component was retired", "reason", "String")
	case LayerIncidents:
		add("id", "String: case id", "state", "String: reported, registered, dispatched, in_progress, handled, verified, returned, sent_back or suspended",
			"type", "String: component or event", "class", "String: component class (4 digits) or event class", "dept", "String: responsible department code",
			"grid", "String: grid code", "code", "String: component code", "source", "String: inspector, hotline, app, sensor, open311 or video",
			"overdue", "Boolean: past its deadline", "supervised", "Boolean: under supervision (督办)")
	}
	return f
}

// TileJSON describes a live layer served at tilesURL (a template with
// {z}, {x} and {y}) over bounds (the city's box; zero for the world).
func (l *Live) TileJSON(layer, tilesURL string, bounds orb.Bound) TileJSON {
	tj := TileJSON{
		TileJSON: "3.0.0", Name: "citytwin " + layer, Scheme: "xyz", Tiles: []string{tilesURL},
		MinZoom: 0, MaxZoom: TileJSONMaxZoom, VectorLayers: []VectorLayer{},
		Bounds: [4]float64{-180, -maxLat, 180, maxLat},
	}
	if IsLiveLayer(layer) {
		tj.VectorLayers = []VectorLayer{{ID: layer, Description: liveDescriptions[layer], MinZoom: 0, MaxZoom: TileJSONMaxZoom, Fields: liveFields(layer)}}
	}
	if !bounds.IsZero() {
		tj.Bounds = [4]float64{bounds.Min[0], bounds.Min[1], bounds.Max[0], bounds.Max[1]}
		c := bounds.Center()
		tj.Center = [3]float64{c[0], c[1], math.Min(12, TileJSONMaxZoom)}
	}
	return tj
}
