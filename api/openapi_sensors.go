package api

import (
	"fmt"
	"strings"

	"citytwin/sensors"
)

// openAPISensors describes /sensors, /readings, /alarms and /events. Its
// schemas are inline: the paths are all that hook it into the document.
func (s *Server) openAPISensors(paths jsonObj) {
	var kinds []string
	for _, k := range sensors.Kinds() {
		kinds = append(kinds, string(k.Kind))
	}
	point := oaObject([]string{"type", "coordinates"}, jsonObj{
		"type":        oaEnum("Point"),
		"coordinates": jsonObj{"type": "array", "minItems": 2, "maxItems": 2, "items": jsonObj{"type": "number"}},
	})
	point["nullable"] = true
	point["description"] = "the representative point of the component the sensor is on; null for an unknown component"
	dur := jsonObj{"type": "string", "description": `a duration such as "10m" or "90s" (a number is seconds)`}
	num := func(desc string) jsonObj { return oaNumber(desc) }
	rule := oaObject([]string{"kind"}, jsonObj{
		"kind":       oaEnum(string(sensors.Threshold), string(sensors.Rate), string(sensors.Silence)),
		"above":      num("threshold: raise when the value is above this"),
		"clearBelow": num("threshold: clear when the value falls below this (hysteresis; default above)"),
		"below":      num("threshold: raise when the value is below this"),
		"clearAbove": num("threshold: clear when the value rises above this (default below)"),
		"delta":      num("rate: raise when the value changed by this much within window"),
		"window":     dur,
		"after":      dur,
	})
	sensorBody := oaObject([]string{"kind", "code"}, jsonObj{
		"id":    oaPattern(`^[A-Za-z0-9_.:-]{1,64}$`, "the sensor id (required in a bulk body; in a PUT it must be the path's)"),
		"kind":  oaEnum(kinds...),
		"unit":  oaStr("the unit of its values; the kind's when absent"),
		"code":  oaPattern(`^\d{16}$`, "the component the sensor is on"),
		"rules": jsonObj{"type": "array", "maxItems": sensors.MaxRules, "items": rule, "description": "the kind's default rules when absent or empty"},
	})
	ts := jsonObj{"type": "string", "format": "date-time"}
	nts := jsonObj{"type": "string", "format": "date-time", "nullable": true}
	alarmProps := oaObject([]string{"id", "sensor", "code", "state"}, jsonObj{
		"id":       oaStr("<sensor>#<rule index>"),
		"sensor":   oaStr("the sensor id"),
		"code":     oaStr("the component code"),
		"kind":     oaEnum(kinds...),
		"rule":     oaInteger("the index of the rule in the sensor's rules"),
		"ruleKind": oaEnum(string(sensors.Threshold), string(sensors.Rate), string(sensors.Silence)),
		"state":    oaEnum(string(sensors.AlarmOpen), string(sensors.AlarmCleared)),
		"raised":   ts, "updated": ts, "cleared": ts,
		"count":   oaInteger("readings that breached the rule while it was open"),
		"peak":    num("the most extreme value of the breach"),
		"value":   num("the last value"),
		"retired": jsonObj{"type": "boolean", "description": "the component was retired (作废) while the alarm was open"},
		"reason":  oaStr("why it was raised or cleared"),
		"version": oaInteger("counts the alarm's changes"),
	})
	alarmFeature := oaObject([]string{"type", "id", "geometry", "properties"}, jsonObj{
		"type": oaEnum("Feature"), "id": oaStr("the alarm id"), "geometry": point, "properties": alarmProps,
	})
	sensorProps := oaObject([]string{"id", "kind", "unit", "code", "rules", "version"}, jsonObj{
		"id": oaStr("the sensor id"), "kind": oaEnum(kinds...), "unit": oaStr(""), "code": oaStr("the component code"),
		"rules": oaArrayOf(rule), "version": oaInteger("the version of its binding and rules (the ETag)"), "updated": ts,
		"state": oaObject(nil, jsonObj{
			"value": jsonObj{"type": "number", "nullable": true, "description": "the last value; null before the first reading"},
			"time":  nts, "online": jsonObj{"type": "boolean"},
			"readings": oaInteger("readings accepted since the server started"),
		}),
		"alarms": jsonObj{"type": "array", "items": alarmProps, "description": "its open alarms"},
	})
	sensorFeature := oaObject([]string{"type", "id", "geometry", "properties"}, jsonObj{
		"type": oaEnum("Feature"), "id": oaStr("the sensor id"), "geometry": point, "properties": sensorProps,
	})
	collection := func(feature jsonObj) jsonObj {
		return oaObject([]string{"type", "features"}, jsonObj{
			"type": oaEnum("FeatureCollection"), "features": oaArrayOf(feature),
			"numberMatched": oaInteger("matches over every page"), "numberReturned": oaInteger(""),
			"timeStamp": ts,
			"links":     oaArrayOf(oaObject([]string{"href", "rel"}, jsonObj{"href": oaStr(""), "rel": oaStr("self or next"), "type": oaStr("")})),
		})
	}
	withTag := func(desc string) jsonObj {
		return jsonObj{"description": desc,
			"headers": jsonObj{"ETag": jsonObj{"schema": jsonObj{"type": "string"}, "description": "the version, e.g. \"3\""}},
			"content": oaContent(mediaGeoJSON, sensorFeature)}
	}
	ifMatch := jsonObj{"name": "If-Match", "in": "header", "required": false, "schema": jsonObj{"type": "string"},
		"description": "the version the change applies to (\"3\"); a mismatch is 412"}
	kindParam := oaQueryParam("kind", "sensor kinds, comma-separated: "+strings.Join(kinds, ", "), jsonObj{"type": "string"})
	codeParam := oaQueryParam("code", "the component code", oaPattern(`^\d{16}$`, ""))
	page := []any{oaParamRef("bboxRest"), kindParam, codeParam, oaParamRef("limitRest"), oaParamRef("cursor")}
	writers := "Departments, for the components they own or maintain, and admins."

	paths["/sensors"] = jsonObj{
		"get": oaOp("sensors", "listSensors", "Search sensors",
			"Sensors at their components' places, in id order, paged (the cursor is stable while sensors come and go).",
			append(page, oaQueryParam("alarm", "only sensors with (open) or without (none) an open alarm", oaEnum("open", "none"))),
			oaErrorRefs(jsonObj{"200": oaResponse("a page of sensors", mediaGeoJSON, collection(sensorFeature))}, "400", "401", "429")),
		"post": oaWithBody(oaOp("sensors", "putSensors", "Register or rebind sensors",
			fmt.Sprintf("Up to %d sensors, all or nothing; a failing record is named by its index. %s", s.cfg.MaxChanges, writers), nil,
			oaErrorRefs(jsonObj{"200": oaResponse("the sensors as stored", mediaGeoJSON, collection(sensorFeature))},
				"400", "401", "403", "412", "413", "415", "429", "503")),
			"an array of sensors, each with its id", mediaJSON, oaArrayOf(sensorBody)),
	}
	id := oaPathParam("id", "the sensor id", oaPattern(`^[A-Za-z0-9_.:-]{1,64}$`, ""))
	paths["/sensors/{id}"] = jsonObj{
		"parameters": []any{id},
		"get": oaOp("sensors", "getSensor", "Get a sensor",
			"The sensor at its component's place, with its live state and open alarms.", nil,
			oaErrorRefs(jsonObj{"200": withTag("the sensor")}, "400", "401", "404", "429")),
		"put": oaWithBody(oaOp("sensors", "putSensor", "Register or rebind a sensor",
			"201 when new, 200 when it changed; rebinding to another component clears its open alarms. "+writers,
			[]any{ifMatch}, oaErrorRefs(jsonObj{"200": withTag("the sensor, changed"), "201": withTag("the sensor, registered")},
				"400", "401", "403", "412", "413", "415", "429", "503")),
			"the sensor", mediaJSON, sensorBody),
		"delete": oaOp("sensors", "deleteSensor", "Remove a sensor", "Its open alarms clear. "+writers, []any{ifMatch},
			oaErrorRefs(jsonObj{"200": oaResponse("the sensor as it was", mediaGeoJSON, sensorFeature)}, "400", "401", "403", "404", "412", "429", "503")),
	}
	reading := oaObject([]string{"sensor", "value"}, jsonObj{
		"sensor": oaStr("the sensor id"), "value": num("a finite number"),
		"time": jsonObj{"type": "string", "format": "date-time", "description": "RFC 3339 (or Unix seconds); now when absent"},
	})
	paths["/readings"] = jsonObj{"post": oaWithBody(oaOp("sensors", "postReadings", "Send readings",
		fmt.Sprintf("For devices that speak HTTP: one reading or an array of up to %d (at most 1 MiB). Readings of unknown sensors, "+
			"with values that are not finite numbers, from the future or the far past, duplicate or out of order are counted "+
			"as rejected by reason, as are a department's readings for sensors on components it neither owns nor maintains. "+
			"Departments (a device token is a department's) and admins.", sensors.MaxBatch), nil,
		oaErrorRefs(jsonObj{"202": oaResponse("what became of the readings", mediaJSON, oaObject([]string{"accepted", "rejected"}, jsonObj{
			"accepted": oaInteger("readings evaluated"),
			"rejected": jsonObj{"type": "object", "additionalProperties": jsonObj{"type": "integer"}, "description": "readings refused, by reason"},
			"raised":   oaInteger("alarms raised"), "cleared": oaInteger("alarms cleared"),
		}))}, "400", "401", "403", "413", "415", "429", "503")),
		"a reading or an array of readings", mediaJSON, jsonObj{"oneOf": []any{reading, oaArrayOf(reading)}})}
	paths["/alarms"] = jsonObj{"get": oaOp("sensors", "listAlarms", "Search alarms",
		"Open alarms and the last cleared alarm of every rule of the registered sensors, at their components' places, in id order, paged.",
		append([]any{oaQueryParam("state", "open or cleared; both when absent", oaEnum(string(sensors.AlarmOpen), string(sensors.AlarmCleared)))}, page...),
		oaErrorRefs(jsonObj{"200": oaResponse("a page of alarms", mediaGeoJSON, collection(alarmFeature))}, "400", "401", "429"))}
	paths["/events"] = jsonObj{"get": oaOp("sensors", "events", "Live feed (server-sent events)",
		"A text/event-stream of "+strings.Join(eventTypes, ", ")+"; every event has an id. Last-Event-ID (or lastEventId) resumes "+
			fmt.Sprintf("after that event from the last %d; when they do not reach back so far a reset event comes first (reload the state). ", eventBuffer)+
			"Comments every 15 s keep the stream open. Alarm and sensor events carry their GeoJSON Feature; incident events the case's "+
			"id, state, dept, type, class and version at its location; tiles.changed the layers and bbox whose tiles changed. "+
			"A client that falls behind is dropped and resumes when it reconnects.",
		[]any{
			oaQueryParam("types", "event types, comma-separated; every type when absent", jsonObj{"type": "string"}),
			oaQueryParam("lastEventId", "as the Last-Event-ID header, for clients that cannot send it", jsonObj{"type": "string", "pattern": `^\d+$`}),
			jsonObj{"name": "Last-Event-ID", "in": "header", "required": false, "schema": jsonObj{"type": "string"}, "description": "the id of the last event seen"},
		},
		oaErrorRefs(jsonObj{"200": jsonObj{"description": "the event stream",
			"content": jsonObj{"text/event-stream": jsonObj{"schema": jsonObj{"type": "string"}}}}}, "400", "401", "429"))}
}
