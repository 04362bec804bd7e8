package api

import "fmt"

// openAPIComponents returns the schemas, parameters, responses and
// security schemes the paths refer to.
func (s *Server) openAPIComponents() jsonObj {
	return jsonObj{
		"schemas":    s.openAPISchemas(),
		"parameters": s.openAPIParameters(),
		"responses":  openAPIResponses(),
		"securitySchemes": jsonObj{"bearer": jsonObj{"type": "http", "scheme": "bearer",
			"description": "an API token (ct_...) from `citytwin token create`; without one a request reads as the public, when the server allows it"}},
	}
}

func oaProblemResponse(desc string) jsonObj {
	return oaResponse(desc, mediaProblem, oaSchemaRef("Problem"))
}

func openAPIResponses() jsonObj {
	retry := jsonObj{"Retry-After": jsonObj{"schema": jsonObj{"type": "integer"}, "description": "seconds to wait"}}
	tooMany := oaProblemResponse("too many requests for this token (or, without one, this client address)")
	tooMany["headers"] = retry
	unavailable := oaProblemResponse("try again after Retry-After: the server is still loading (type not-ready); " +
		"the request ran past the deadline of its route (timeout: narrow it, with a smaller area, a filter or a page); " +
		"the server is busy with other expensive queries, areas and big boxes (busy); " +
		"or the store does not answer (store-unavailable: nothing was changed)")
	unavailable["headers"] = retry
	requestTimeout := oaProblemResponse("the request body did not arrive within the server's read timeout (a slow client); the connection is closed")
	requestTimeout["headers"] = jsonObj{"Connection": jsonObj{"schema": jsonObj{"type": "string", "enum": []any{"close"}}, "description": "close"}}
	unauthorized := oaProblemResponse("a token is needed, or the token sent is not valid")
	unauthorized["headers"] = jsonObj{"WWW-Authenticate": jsonObj{"schema": jsonObj{"type": "string"}, "description": `Bearer realm="citytwin"`}}
	return jsonObj{
		"BadRequest":           oaProblemResponse("a bad parameter or body; field and errors name every bad input"),
		"Unauthorized":         unauthorized,
		"Forbidden":            oaProblemResponse("the token's role may not do this"),
		"NotFound":             oaProblemResponse("no such resource"),
		"Gone":                 oaProblemResponse("the component is retired (作废)"),
		"Conflict":             oaProblemResponse("the code is already in use"),
		"PreconditionFailed":   oaProblemResponse("the version does not match (If-Match)"),
		"RequestTimeout":       requestTimeout,
		"TooLarge":             oaProblemResponse("the request body is larger than the limit"),
		"UnsupportedMediaType": oaProblemResponse("the body is not JSON"),
		"TooManyRequests":      tooMany,
		"Unavailable":          unavailable,
		"Error":                oaProblemResponse("an unexpected error; quote request_id when you report it"),
	}
}

func (s *Server) openAPIParameters() jsonObj {
	maxLimit := s.maxOGCLimit()
	bbox := jsonObj{"name": "bbox", "in": "query", "required": false, "style": "form", "explode": false,
		"description": "minLon,minLat,maxLon,maxLat in CRS84 (or 6 numbers with heights, which are ignored); features that intersect it",
		"schema":      jsonObj{"type": "array", "minItems": 4, "maxItems": 6, "items": jsonObj{"type": "number"}}}
	return jsonObj{
		"f":      oaQueryParam("f", "the encoding; JSON is the only one", oaEnum("json")),
		"cursor": oaQueryParam("cursor", "the position of the next page, from a next link; bound to the query it came from", jsonObj{"type": "string"}),
		"bbox":   bbox,
		"bbox-crs": oaQueryParam("bbox-crs", "the CRS of bbox; only CRS84", jsonObj{"type": "string", "format": "uri",
			"enum": []any{crs84}, "default": crs84}),
		"limit": oaQueryParam("limit", fmt.Sprintf("items per page; a limit above %d returns %d items and a next link", maxLimit, maxLimit),
			jsonObj{"type": "integer", "minimum": 1, "maximum": maxLimit, "default": s.cfg.DefaultLimit}),
		"bboxRest": oaQueryParam("bbox", "minLon,minLat,maxLon,maxLat (WGS84); the whole city when absent",
			jsonObj{"type": "string", "pattern": `^[-+.\deE]+(,[-+.\deE]+){3}$`}),
		"limitRest": oaQueryParam("limit", fmt.Sprintf("items per page, at most %d (more is a 400)", s.cfg.MaxLimit),
			jsonObj{"type": "integer", "minimum": 1, "maximum": s.cfg.MaxLimit, "default": s.cfg.DefaultLimit}),
		"class":         oaQueryParam("class", "minor classes, comma-separated (0101 water-supply cover, 0118 street lamp, ...)", oaPattern(`^\d{4}(,\d{4})*$`, "")),
		"major":         oaQueryParam("major", "major classes 1-6, comma-separated (01 public utilities ... 06 other)", jsonObj{"type": "string"}),
		"state":         oaQueryParam("state", "states, comma-separated: 完好 破损 丢失 占用 or intact damaged missing occupied", jsonObj{"type": "string"}),
		"owner":         oaQueryParam("owner", "the owner (权属单位, dept_owner) equals", jsonObj{"type": "string"}),
		"dept_owner":    oaQueryParam("dept_owner", "the owner (权属单位) equals", jsonObj{"type": "string"}),
		"dept":          oaQueryParam("dept", "the supervisor, owner or maintainer equals", jsonObj{"type": "string"}),
		"grid":          oaQueryParam("grid", "grid code or its 6/9/12-digit district, street or community prefix", oaPattern(`^\d{1,15}$`, "")),
		"grid_code":     oaQueryParam("grid_code", "grid code, or its 6/9/12-digit district, street or community prefix", oaPattern(`^\d{1,15}$`, "")),
		"changed_since": oaQueryParam("changed_since", "changed on or after this date (2006-01-02) or RFC 3339 time", jsonObj{"type": "string"}),
		"datetime": oaQueryParam("datetime", "changed on or after a day: an interval open at its end, e.g. 2026-01-01/..",
			jsonObj{"type": "string"}),
		"gridDept":     oaQueryParam("dept", "the responsible unit equals", jsonObj{"type": "string"}),
		"district":     oaQueryParam("district", "6-digit district code", oaPattern(`^\d{6}$`, "")),
		"street":       oaQueryParam("street", "9-digit street code", oaPattern(`^\d{9}$`, "")),
		"community":    oaQueryParam("community", "12-digit community code", oaPattern(`^\d{12}$`, "")),
		"collectionId": oaPathParam("collectionId", "parts or grids", oaEnum(collectionParts, collectionGrids)),
	}
}

func (s *Server) openAPISchemas() jsonObj {
	nullableStr := func(desc string) jsonObj { return jsonObj{"type": "string", "description": desc} }
	date := func(desc string) jsonObj { return jsonObj{"type": "string", "format": "date", "description": desc} }
	linkList := oaArrayOf(oaSchemaRef("Link"))
	partProps := oaObject(nil, jsonObj{
		"code":            oaPattern(`^\d{16}$`, "16-digit identification code"),
		"class":           oaPattern(`^\d{4}$`, "4-digit minor class, e.g. 0101"),
		"name":            nullableStr("name"),
		"dept_supervisor": nullableStr("supervising department (主管部门)"),
		"dept_owner":      nullableStr("owner / responsible unit (权属单位)"),
		"dept_maintainer": nullableStr("maintenance unit (养护单位)"),
		"grid_code":       oaPattern(`^(\d{14,15})?$`, "the unit grid that holds it"),
		"state":           oaEnum("完好", "破损", "丢失", "占用"),
		"retired":         jsonObj{"type": "boolean", "description": "作废"},
		"surveyed":        date("first-survey date"),
		"changed":         date("last-change date (read only)"),
		"source":          oaEnum("实测", "地形图", "调绘", "其它"),
		"photo":           nullableStr("photo URL or path (not shown to the public)"),
		"note":            nullableStr("note (not shown to the public)"),
		"source_name":     nullableStr("provenance: the file or feed the component was imported from; re-imports match rows only within it (not shown to the public; set by admins and departments, not inspectors)"),
		"source_id":       nullableStr("provenance: the component's id in that source (not shown to the public; set by admins and departments, not inspectors)"),
		"material":        nullableStr("material"),
		"label":           nullableStr("class-specific name: stop name (0203), sculpture (0406), site (0602)"),
		"version":         jsonObj{"type": "integer", "format": "int64", "minimum": 0, "description": "bumped by every write"},
		"distance":        oaNumber("metres from the query point (nearest only)"),
	})
	gridProps := oaObject(nil, jsonObj{
		"code":      oaPattern(`^\d{14,15}$`, "6 county + 3 street + 3 community + 2 (or 3) serial"),
		"name":      oaStr("name"),
		"dept":      oaStr("responsible unit"),
		"district":  oaPattern(`^\d{6}$`, ""),
		"street":    oaPattern(`^\d{9}$`, ""),
		"community": oaPattern(`^\d{12}$`, ""),
		"version":   jsonObj{"type": "integer", "format": "int64", "minimum": 0},
	})
	feature := func(props string) jsonObj {
		return oaObject([]string{"type", "geometry", "properties"}, jsonObj{
			"type":       oaEnum("Feature"),
			"id":         oaStr("the code"),
			"geometry":   oaSchemaRef("Geometry"),
			"properties": oaSchemaRef(props),
			"links":      linkList,
		})
	}
	collection := func(feat string) jsonObj {
		return oaObject([]string{"type", "features"}, jsonObj{
			"type":           oaEnum("FeatureCollection"),
			"features":       oaArrayOf(oaSchemaRef(feat)),
			"numberMatched":  jsonObj{"type": "integer", "minimum": 0},
			"numberReturned": jsonObj{"type": "integer", "minimum": 0},
			"timeStamp":      jsonObj{"type": "string", "format": "date-time"},
			"links":          linkList,
			"missing":        oaArrayOf(oaStr("a requested code that is unknown or retired")),
		})
	}
	bbox := oaArrayOf(jsonObj{"type": "array", "minItems": 4, "maxItems": 6, "items": jsonObj{"type": "number"}})
	return jsonObj{
		"Status": oaObject([]string{"status"}, jsonObj{"status": oaStr("ok or ready"), "parts": oaInteger(""), "grids": oaInteger("")}),
		"Link": oaObject([]string{"href", "rel"}, jsonObj{"href": oaStr(""), "rel": oaStr(""), "type": oaStr(""),
			"title": oaStr(""), "hreflang": oaStr("")}),
		"Problem": oaObject([]string{"type", "title", "status"}, jsonObj{
			"type": oaStr("a URI reference naming the problem"), "title": oaStr(""), "status": oaInteger("the HTTP status"),
			"detail": oaStr(""), "instance": oaStr("the request path"), "field": oaStr("the one bad input"),
			"reason": oaStr("why it is bad"), "errors": oaArrayOf(oaObject([]string{"field", "reason"}, jsonObj{"field": oaStr(""), "reason": oaStr("")})),
			"index": oaInteger("the failing change record"), "request_id": oaStr("X-Request-Id, to quote in reports"),
		}),
		"Geometry": oaObject([]string{"type"}, jsonObj{
			"type":        oaEnum("Point", "LineString", "Polygon", "MultiPolygon"),
			"coordinates": jsonObj{"type": "array", "items": jsonObj{}, "description": "GeoJSON coordinates, lon/lat (WGS84)"},
		}),
		"PartProperties": partProps,
		"PartFeature":    feature("PartProperties"),
		"PartCollection": collection("PartFeature"),
		"GridProperties": gridProps,
		"GridFeature":    feature("GridProperties"),
		"GridCollection": collection("GridFeature"),
		"PartChanges": oaObject(nil, jsonObj{
			"changes": oaArrayOf(oaObject([]string{"op"}, jsonObj{
				"op":         oaEnum("add", "modify", "retire"),
				"feature":    oaSchemaRef("PartFeature"),
				"code":       oaPattern(`^\d{16}$`, "the component of a retire"),
				"if_version": jsonObj{"type": "integer", "format": "int64"},
			})),
		}),
		"Counts": oaObject([]string{"by", "total", "counts"}, jsonObj{
			"by": oaEnum("class", "major"), "bbox": oaArrayOf(jsonObj{"type": "number"}), "grid": oaStr(""), "total": oaInteger(""),
			"counts": oaArrayOf(oaObject([]string{"count"}, jsonObj{"class": oaStr(""), "major": oaStr(""), "name": oaStr(""), "count": oaInteger("")})),
		}),
		"LandingPage": oaObject([]string{"links"}, jsonObj{"title": oaStr(""), "description": oaStr(""), "links": linkList}),
		"ConfClasses": oaObject([]string{"conformsTo"}, jsonObj{"conformsTo": oaArrayOf(jsonObj{"type": "string"})}),
		"Collection": oaObject([]string{"id", "links"}, jsonObj{
			"id": oaStr(""), "title": oaStr(""), "description": oaStr(""), "itemType": oaStr(""),
			"crs": oaArrayOf(jsonObj{"type": "string"}), "storageCrs": oaStr(""), "links": linkList,
			"extent": oaObject(nil, jsonObj{"spatial": oaObject(nil, jsonObj{"bbox": bbox, "crs": oaStr("")})}),
		}),
		"Division": oaObject([]string{"code", "name", "level"}, jsonObj{
			"code": oaStr("6, 9 or 12 digits; empty for the city"), "name": oaStr(""),
			"level":    oaEnum("city", "district", "street", "community"),
			"children": oaArrayOf(oaObject([]string{"code", "name", "level"}, jsonObj{"code": oaStr(""), "name": oaStr(""), "level": oaStr("")})),
		}),
		"TileJSON": oaObject([]string{"tilejson", "tiles"}, jsonObj{
			"tilejson": oaStr("3.0.0"), "name": oaStr(""), "scheme": oaEnum("xyz"), "tiles": oaArrayOf(jsonObj{"type": "string"}),
			"minzoom": oaInteger(""), "maxzoom": oaInteger(""), "bounds": oaArrayOf(jsonObj{"type": "number"}),
			"vector_layers": oaArrayOf(jsonObj{"type": "object"}),
		}),
		"Collections": oaObject([]string{"links", "collections"}, jsonObj{"links": linkList, "collections": oaArrayOf(oaSchemaRef("Collection"))}),
	}
}
