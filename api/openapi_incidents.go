package api

import "fmt"

// openAPIIncidents describes /incidents, /departments, /responsibilities,
// /calendar and /open311/v2. Their schemas are inline: they are used
// nowhere else.
func (s *Server) openAPIIncidents(paths jsonObj) {
	s.openAPICases(paths)
	openAPIDepartments(paths)
	openAPIOpen311(paths)
}

// oaCaseFeature is the schema of a case as a GeoJSON Feature.
func oaCaseFeature() jsonObj {
	entry := oaObject([]string{"time", "actor", "action", "to"}, jsonObj{
		"time":   jsonObj{"type": "string", "format": "date-time"},
		"actor":  oaObject([]string{"name", "role"}, jsonObj{"name": oaStr("token id, or public"), "role": oaStr("inspector, operator, department, admin, public"), "dept": oaStr("")}),
		"action": oaStr("create, merge, register, reject, dispatch, accept, report, verify, close, return, send_back, suspend, resume, supervise, ..."),
		"from":   oaStr("the state before"), "to": oaStr("the state after"), "note": oaStr("why"),
		"dept": oaStr("the case's department after the step"), "media": oaArrayOf(oaStr("a link")),
	})
	route := oaObject([]string{"rule", "evidence"}, jsonObj{
		"rule": oaEnum("component-owner", "component-maintainer", "nearest-component", "class-table", "street-office", "manual"),
		"evidence": oaObject(nil, jsonObj{
			"code": oaStr("the component"), "distance": oaNumber("metres to the nearest component"),
			"table": oaStr("the table row, district/type:class"), "grid": oaStr(""), "street": oaStr(""), "reason": oaStr(""),
		}),
	})
	nullableTime := jsonObj{"type": "string", "format": "date-time", "nullable": true}
	props := oaObject([]string{"id", "version", "state", "dept", "route"}, jsonObj{
		"id": oaPattern(`^C\d{8}-[0-9A-Z]{10}$`, "the case id"), "version": oaInteger("the version (ETag)"),
		"source": oaEnum("inspector", "hotline", "app", "sensor", "open311", "video"),
		"type":   oaEnum("component", "event"), "class": oaPattern(`^\d{4}$`, "the component or event class"),
		"class_name": oaStr(""), "code": oaStr("the component (16 digits), when known"), "grid": oaStr("the unit grid"),
		"description": oaStr(""), "media": oaArrayOf(oaStr("a link")),
		"reporters": oaArrayOf(oaObject(nil, jsonObj{"name": oaStr(""), "contact": oaStr(""), "source": oaStr(""),
			"time": jsonObj{"type": "string", "format": "date-time"}})),
		"dept": oaStr("the responsible department"), "route": route,
		"state": oaEnum("reported", "registered", "rejected", "dispatched", "in_progress", "handled", "verified", "closed", "returned", "sent_back", "suspended"),
		"prior": oaStr("the state a suspended case left"), "supervised": jsonObj{"type": "boolean"}, "overdue": jsonObj{"type": "boolean"},
		"reported": jsonObj{"type": "string", "format": "date-time"}, "due": nullableTime, "closed": nullableTime,
		"history": oaArrayOf(entry), "merged": jsonObj{"type": "boolean", "description": "intake only: the report joined this open case"},
	})
	return oaObject([]string{"type", "id", "geometry", "properties"}, jsonObj{
		"type": oaEnum("Feature"), "id": oaStr("the case id"), "geometry": oaSchemaRef("Geometry"), "properties": props,
	})
}

// openAPICases describes /incidents.
func (s *Server) openAPICases(paths jsonObj) {
	feature := oaCaseFeature()
	withTag := func(desc string) jsonObj {
		return jsonObj{"description": desc,
			"headers": jsonObj{"ETag": jsonObj{"schema": jsonObj{"type": "string"}, "description": "the version, e.g. \"3\""}},
			"content": oaContent(mediaGeoJSON, feature)}
	}
	unprocessable := oaProblemResponse("the point is in no grid of the city, or no department could be found")
	conflict := oaProblemResponse("the case's state does not allow the action: state and allowed name what it does allow")
	report := oaObject(nil, jsonObj{
		"code": oaPattern(`^\d{16}$`, "the component; or give lon and lat"),
		"lon":  oaNumber("longitude (WGS84)"), "lat": oaNumber("latitude (WGS84)"),
		"type":        oaEnum("component", "event"),
		"class":       oaPattern(`^\d{4}$`, "the class; the code's when a code is given"),
		"description": oaStr(""), "media": oaArrayOf(oaStr("a link")),
		"source":   oaStr("inspector (inspector and admin tokens), sensor (idem), hotline, app (the default), open311, video"),
		"reporter": oaObject(nil, jsonObj{"name": oaStr(""), "contact": oaStr("")}),
	})
	statsRow := oaObject([]string{"key", "due", "closed", "closedOnTime", "closureRate", "onTimeRate"}, jsonObj{
		"key": oaStr("the department, street, grid or class key"), "due": oaInteger("cases due in the period"),
		"closed": oaInteger("of them closed"), "closedOnTime": oaInteger("of them closed by their deadline"),
		"closureRate": oaNumber("结案率, percent"), "onTimeRate": oaNumber("按期结案率, percent"),
	})
	maxLimit := min(s.cfg.MaxLimit, 1000)
	paths["/incidents"] = jsonObj{
		"get": oaOp("incidents", "listIncidents", "Search cases",
			"Cases (without their history) in id order, with numberMatched and a next link while more remain.",
			[]any{
				oaQueryParam("state", "states, comma-separated", jsonObj{"type": "string"}),
				oaQueryParam("dept", "the responsible department", jsonObj{"type": "string"}),
				oaQueryParam("class", "the class", oaPattern(`^\d{4}$`, "")),
				oaQueryParam("type", "component or event", oaEnum("component", "event")),
				oaParamRef("grid"), oaParamRef("bboxRest"),
				oaQueryParam("overdue", "past the deadline and still open", oaEnum("true", "false")),
				oaQueryParam("limit", fmt.Sprintf("cases per page, at most %d", maxLimit),
					jsonObj{"type": "integer", "minimum": 1, "maximum": maxLimit, "default": min(s.cfg.DefaultLimit, maxLimit)}),
				oaParamRef("cursor"),
			},
			oaErrorRefs(jsonObj{"200": oaResponse("a page of cases", mediaGeoJSON, oaObject([]string{"type", "features"},
				jsonObj{"type": oaEnum("FeatureCollection"), "features": oaArrayOf(feature), "numberMatched": oaInteger(""),
					"numberReturned": oaInteger(""), "links": oaArrayOf(jsonObj{"type": "object"})}))}, "400", "401", "429")),
		"post": oaWithBody(oaOp("incidents", "reportIncident", "Report a problem",
			"Intake: the report is routed to the responsible department (route names the rule and its evidence). "+
				"Reports from trusted sources (inspector, sensor) are registered and dispatched at once with a deadline. "+
				"A report of the same class near an open case is merged into it (200, merged true). Anyone may report.",
			nil, oaErrorRefs(jsonObj{"201": withTag("the new case"), "200": withTag("the open case the report was merged into"),
				"422": unprocessable}, "400", "401", "403", "413", "415", "429", "503")),
			"a report: code, or lon and lat", mediaJSON, report),
	}
	paths["/incidents/stats"] = jsonObj{"get": oaOp("incidents", "incidentStats", "Evaluation rates",
		"Cases due in [from, to) by department, street, grid or class: due, closed, closed on time, "+
			"结案率 closureRate = closed / due and 按期结案率 onTimeRate = closedOnTime / due, in percent.",
		[]any{
			oaQueryParam("from", "a date (2006-01-02, in the calendar's zone) or RFC 3339 time; default 30 days before to", jsonObj{"type": "string"}),
			oaQueryParam("to", "idem, exclusive; default now", jsonObj{"type": "string"}),
			oaQueryParam("by", "the grouping; only the total without", oaEnum("dept", "street", "grid", "class")),
		},
		oaErrorRefs(jsonObj{"200": oaResponse("the rates", mediaJSON, oaObject(nil, jsonObj{
			"from": jsonObj{"type": "string", "format": "date-time"}, "to": jsonObj{"type": "string", "format": "date-time"},
			"by": oaStr(""), "rows": oaArrayOf(statsRow), "total": statsRow,
		}))}, "400", "401", "429"))}
	id := oaPathParam("id", "the case id", oaPattern(`^C\d{8}-[0-9A-Z]{10}$`, ""))
	paths["/incidents/{id}"] = jsonObj{"parameters": []any{id},
		"get": oaOp("incidents", "getIncident", "Get a case", "The case with its history. If-None-Match with its ETag gives 304.", nil,
			oaErrorRefs(jsonObj{"200": withTag("the case"), "304": jsonObj{"description": "not modified"}}, "400", "401", "404", "429"))}
	ifMatch := jsonObj{"name": "If-Match", "in": "header", "required": false, "schema": jsonObj{"type": "string"},
		"description": "the version the action applies to; a stale one is 412 (of two concurrent actions one wins)"}
	paths["/incidents/{id}/actions"] = jsonObj{"parameters": []any{id},
		"post": oaWithBody(oaOp("incidents", "actIncident", "Act on a case",
			"A step of the seven-step loop. Operators register, reject, dispatch (dept re-routes), close, suspend, resume and "+
				"supervise; the case's department accepts, returns (note why) and reports back (note or media); inspectors and "+
				"operators verify or send back (note why); an admin may do everything.",
			[]any{ifMatch}, oaErrorRefs(jsonObj{"200": withTag("the case after the action"), "409": conflict},
				"400", "401", "403", "404", "412", "413", "415", "429", "503")),
			"the action", mediaJSON, oaObject([]string{"action"}, jsonObj{
				"action": oaEnum("register", "reject", "dispatch", "accept", "report", "verify", "close", "return", "send_back", "suspend", "resume", "supervise"),
				"note":   oaStr("why; required by return and send_back"), "dept": oaStr("dispatch only: another department"),
				"media": oaArrayOf(oaStr("evidence links")),
			}))}
}

// openAPIDepartments describes /departments, /responsibilities and /calendar.
func openAPIDepartments(paths jsonObj) {
	dept := oaObject([]string{"code", "name"}, jsonObj{
		"code": oaPattern(`^[A-Za-z0-9_.-]{1,64}$`, ""), "name": oaStr(""), "contact": oaStr(""),
		"topic":   oaStr("MQTT topic of its dispatches; default citytwin/dispatch/{code}"),
		"webhook": oaStr("http(s) URL its dispatches are posted to"), "version": oaInteger(""),
	})
	row := oaObject([]string{"district", "type", "class", "dept"}, jsonObj{
		"district": oaStr("6-digit county code, or * for every district"), "type": oaEnum("component", "event"),
		"class": oaPattern(`^\d{4}$`, ""), "dept": oaStr("the responsible department"), "version": oaInteger(""),
	})
	limit := oaObject([]string{"amount", "unit"}, jsonObj{"class": oaStr("a class key (event:0102) or a bare class"),
		"amount": oaInteger(""), "unit": oaEnum("hours", "days")})
	cal := oaObject(nil, jsonObj{
		"location": oaStr("IANA zone, default Asia/Shanghai"), "dayStart": oaStr("HH:MM"), "dayEnd": oaStr("HH:MM"),
		"weekend":  oaArrayOf(jsonObj{"type": "integer", "minimum": 0, "maximum": 6, "description": "0 Sunday .. 6 Saturday"}),
		"holidays": oaArrayOf(oaStr("2006-01-02, a day off")), "workdays": oaArrayOf(oaStr("2006-01-02, a swapped working day (调休)")),
		"limits": oaArrayOf(limit), "default": limit,
	})
	admin := []string{"400", "401", "403", "412", "413", "415", "429", "503"}
	code := oaPathParam("code", "the department code", jsonObj{"type": "string"})
	ifMatch := jsonObj{"name": "If-Match", "in": "header", "required": false, "schema": jsonObj{"type": "string"}, "description": "the version"}
	paths["/departments"] = jsonObj{"get": oaOp("departments", "listDepartments", "Departments", "Every department, by code.", nil,
		oaErrorRefs(jsonObj{"200": oaResponse("the departments", mediaJSON, oaObject(nil, jsonObj{"departments": oaArrayOf(dept)}))}, "401", "429"))}
	paths["/departments/{code}"] = jsonObj{"parameters": []any{code},
		"get": oaOp("departments", "getDepartment", "Get a department", "", nil,
			oaErrorRefs(jsonObj{"200": oaResponse("the department", mediaJSON, dept)}, "401", "404", "429")),
		"put": oaWithBody(oaOp("departments", "putDepartment", "Add or change a department", "Admins only.", []any{ifMatch},
			oaErrorRefs(jsonObj{"200": oaResponse("changed", mediaJSON, dept), "201": oaResponse("added", mediaJSON, dept)}, admin...)),
			"the department", mediaJSON, dept),
		"delete": oaOp("departments", "deleteDepartment", "Delete a department", "Admins only; cases keep the code.", []any{ifMatch},
			oaErrorRefs(jsonObj{"204": jsonObj{"description": "deleted"}}, "401", "403", "404", "412", "429", "503")),
	}
	paths["/responsibilities"] = jsonObj{"get": oaOp("departments", "listResponsibilities", "The class responsibility table",
		"Rows by key; filter by district, type and class.", []any{
			oaQueryParam("district", "", jsonObj{"type": "string"}), oaQueryParam("type", "", oaEnum("component", "event")),
			oaQueryParam("class", "", jsonObj{"type": "string"})},
		oaErrorRefs(jsonObj{"200": oaResponse("the rows", mediaJSON, oaObject(nil, jsonObj{"responsibilities": oaArrayOf(row)}))}, "400", "401", "429"))}
	typ := oaQueryParam("type", "the type of a bare class (default: component for a component class)", oaEnum("component", "event"))
	paths["/responsibilities/{district}/{class}"] = jsonObj{"parameters": []any{
		oaPathParam("district", "6-digit county code, or *", jsonObj{"type": "string"}),
		oaPathParam("class", "a class key such as event:0505 or component:0111, or a bare class", jsonObj{"type": "string"})},
		"get": oaOp("departments", "getResponsibility", "Get a table row", "", []any{typ},
			oaErrorRefs(jsonObj{"200": oaResponse("the row", mediaJSON, row)}, "400", "401", "404", "429")),
		"put": oaWithBody(oaOp("departments", "putResponsibility", "Set a table row", "Admins only: in the district the class is dept's.", nil,
			oaErrorRefs(jsonObj{"200": oaResponse("changed", mediaJSON, row), "201": oaResponse("added", mediaJSON, row)}, admin...)),
			"the row: {\"dept\": ...}", mediaJSON, row),
		"delete": oaOp("departments", "deleteResponsibility", "Delete a table row", "Admins only.", []any{typ},
			oaErrorRefs(jsonObj{"204": jsonObj{"description": "deleted"}}, "400", "401", "403", "404", "429", "503")),
	}
	paths["/calendar"] = jsonObj{
		"get": oaOp("departments", "getCalendar", "The work calendar",
			"Working hours, weekend, holidays, swapped working days and the deadline of each class.", nil,
			oaErrorRefs(jsonObj{"200": oaResponse("the calendar", mediaJSON, cal)}, "401", "429")),
		"put": oaWithBody(oaOp("departments", "putCalendar", "Replace the work calendar", "Admins only; deadlines already set stay.", nil,
			oaErrorRefs(jsonObj{"200": oaResponse("the calendar", mediaJSON, cal)}, "400", "401", "403", "413", "415", "429", "503")),
			"the calendar", mediaJSON, cal),
	}
}

// openAPIOpen311 describes /open311/v2 (GeoReport v2, JSON only).
func openAPIOpen311(paths jsonObj) {
	errSchema := oaArrayOf(oaObject([]string{"code", "description"},
		jsonObj{"code": oaInteger("the HTTP status"), "description": oaStr("")}))
	errs := oaResponse("GeoReport errors", mediaJSON, errSchema)
	unavailable := oaResponse("try again after Retry-After: still loading, past the route's deadline, or the store does not answer", mediaJSON, errSchema)
	unavailable["headers"] = jsonObj{"Retry-After": jsonObj{"schema": jsonObj{"type": "integer"}, "description": "seconds to wait"}}
	fail := func(r jsonObj) jsonObj {
		r["400"], r["401"], r["404"], r["503"], r["default"] = errs, errs, errs, unavailable, errs
		return r
	}
	request := oaObject([]string{"service_request_id", "status", "service_code"}, jsonObj{
		"service_request_id": oaStr("the case id"), "status": oaEnum("open", "closed"), "status_notes": oaStr(""),
		"service_name": oaStr(""), "service_code": oaStr("component-0111, event-0505, ..."), "description": oaStr(""),
		"agency_responsible": oaStr("the responsible department"), "service_notice": oaStr(""),
		"requested_datetime": oaStr("w3c datetime"), "updated_datetime": oaStr(""), "expected_datetime": oaStr("the deadline"),
		"address": oaStr("the unit grid"), "address_id": oaStr("the component code"), "lat": oaNumber(""), "long": oaNumber(""),
		"media_url": oaStr(""), "zipcode": jsonObj{"type": "string", "nullable": true},
	})
	apiKey := oaQueryParam("api_key", "an API token (instead of Authorization: Bearer)", jsonObj{"type": "string"})
	jur := oaQueryParam("jurisdiction_id", "ignored: one jurisdiction", jsonObj{"type": "string"})
	paths["/open311/v2/services.json"] = jsonObj{"get": oaOp("open311", "open311Services", "GeoReport services",
		"The component classes (component-NNNN) and event classes (event-NNNN), grouped by major class.", []any{jur},
		fail(jsonObj{"200": oaResponse("the services", mediaJSON, oaArrayOf(oaObject(nil, jsonObj{
			"service_code": oaStr(""), "service_name": oaStr(""), "description": oaStr(""), "metadata": jsonObj{"type": "boolean"},
			"type": oaEnum("realtime"), "keywords": oaArrayOf(oaStr("")), "group": oaStr("the major class"),
		})))}))}
	post := oaObject([]string{"service_code"}, jsonObj{
		"api_key": oaStr("an API token"), "service_code": oaStr(""), "lat": oaNumber(""), "long": oaNumber(""),
		"address_id": oaStr("a component code, instead of lat and long"), "description": oaStr(""), "media_url": oaStr(""),
		"email": oaStr(""), "phone": oaStr(""), "first_name": oaStr(""), "last_name": oaStr(""), "device_id": oaStr(""), "account_id": oaStr(""),
	})
	created := oaArrayOf(oaObject(nil, jsonObj{"service_request_id": oaStr(""), "service_notice": oaStr(""),
		"account_id": jsonObj{"type": "string", "nullable": true}}))
	paths["/open311/v2/requests.json"] = jsonObj{
		"get": oaOp("open311", "open311Requests", "GeoReport service requests",
			"Newest first, at most 1000; the last 90 days unless dates or ids are given.", []any{jur, apiKey,
				oaQueryParam("service_request_id", "ids, comma-separated", jsonObj{"type": "string"}),
				oaQueryParam("service_code", "service codes, comma-separated", jsonObj{"type": "string"}),
				oaQueryParam("start_date", "w3c datetime", jsonObj{"type": "string"}),
				oaQueryParam("end_date", "w3c datetime", jsonObj{"type": "string"}),
				oaQueryParam("status", "", oaEnum("open", "closed"))},
			fail(jsonObj{"200": oaResponse("the requests", mediaJSON, oaArrayOf(request))})),
		"post": jsonObj{"tags": []any{"open311"}, "operationId": "open311Post", "summary": "Create a GeoReport service request",
			"description": "Intake with source open311: authorised by api_key, a bearer token, or anonymously when the server allows it.",
			"parameters":  []any{jur, apiKey},
			"requestBody": jsonObj{"required": true, "content": jsonObj{
				"application/x-www-form-urlencoded": jsonObj{"schema": post}, mediaJSON: jsonObj{"schema": post}}},
			"responses": fail(jsonObj{"201": oaResponse("the new request", mediaJSON, created),
				"200": oaResponse("merged into an open request", mediaJSON, created),
				"408": oaRef("responses", "RequestTimeout")})},
	}
	paths["/open311/v2/requests/{id}.json"] = jsonObj{"get": oaOp("open311", "open311Request", "One GeoReport service request", "",
		[]any{oaPathParam("id", "the service_request_id", jsonObj{"type": "string"}), jur, apiKey},
		fail(jsonObj{"200": oaResponse("a list of one request", mediaJSON, oaArrayOf(request))}))}
}
