package api

// openAPIOGCLive describes the items of the live OGC collections (sensors,
// open alarms, open cases): items takes bbox, limit and cursor.
func (s *Server) openAPIOGCLive(paths jsonObj, items []any) {
	fc := jsonObj{"type": "object", "required": []string{"type", "features"}, "properties": jsonObj{
		"type": oaEnum("FeatureCollection"), "features": oaArrayOf(jsonObj{"type": "object"}),
		"numberMatched": oaInteger(""), "numberReturned": oaInteger(""), "links": oaArrayOf(oaSchemaRef("Link")),
	}}
	feature := jsonObj{"type": "object", "required": []string{"type", "geometry", "properties"}, "properties": jsonObj{
		"type": oaEnum("Feature"), "id": oaStr(""), "geometry": oaSchemaRef("Geometry"), "properties": jsonObj{"type": "object"},
	}}
	for _, c := range []struct{ id, op, what, item string }{
		{collectionSensors, "Sensor", "sensors at their component's place, with their alarm state", "the sensor id"},
		{collectionAlarms, "Alarm", "open alarms at their sensor's place", "the alarm id (sensor#rule)"},
		{collectionIncidents, "Incident", "open cases, with state, department and overdue", "the case id"},
	} {
		paths["/ogc/collections/"+c.id+"/items"] = jsonObj{"get": oaOp("ogc", "ogc"+c.op+"Items", "The "+c.what,
			"In id order; numberMatched counts all pages, the next link gives the next page. A limit above the maximum is lowered to it.",
			items, oaErrorRefs(jsonObj{"200": oaResponse("a page of "+c.id, mediaGeoJSON, fc)}, "400", "401", "429"))}
		paths["/ogc/collections/"+c.id+"/items/{featureId}"] = jsonObj{"get": oaOp("ogc", "ogc"+c.op+"Item", "One of the "+c.id, "By "+c.item+".",
			[]any{oaPathParam("featureId", c.item, oaStr("")), oaParamRef("f")},
			oaErrorRefs(jsonObj{"200": oaResponse("the item", mediaGeoJSON, feature)}, "400", "401", "404", "429"))}
	}
}
