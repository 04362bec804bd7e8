package api

import (
	"fmt"

	"citytwin/tiles"
)

// openAPIOps describes /healthz, /readyz, /metrics and /openapi.json.
func (s *Server) openAPIOps(paths jsonObj) {
	health := oaResponse("the status", mediaJSON, oaSchemaRef("Status"))
	paths["/healthz"] = jsonObj{"get": oaPublic(oaOp("ops", "healthz", "Liveness", "200 while the process is up.", nil,
		jsonObj{"200": health}))}
	paths["/readyz"] = jsonObj{"get": oaPublic(oaOp("ops", "readyz", "Readiness",
		"200 with the counts of components and grids once the city is loaded, 503 before and while shutting down.", nil,
		oaErrorRefs(jsonObj{"200": health}, "503")))}
	paths["/metrics"] = jsonObj{"get": oaPublic(oaOp("ops", "metrics", "Prometheus metrics", "", nil,
		jsonObj{"200": jsonObj{"description": "metrics in the Prometheus text format",
			"content": jsonObj{"text/plain": jsonObj{"schema": jsonObj{"type": "string"}}}}}))}
	paths["/openapi.json"] = jsonObj{"get": oaPublic(oaOp("ops", "openapi", "This document", "", []any{oaParamRef("f")},
		jsonObj{"200": jsonObj{"description": "the OpenAPI 3.0 document",
			"content": jsonObj{mediaOpenAPI: jsonObj{"schema": jsonObj{"type": "object"}}}}}))}
}

// restFilterParams are the filter parameters of the /parts endpoints.
var restFilterParams = []any{oaParamRef("class"), oaParamRef("major"), oaParamRef("owner"), oaParamRef("dept"),
	oaParamRef("state"), oaParamRef("grid"), oaParamRef("changed_since")}

func oaParams(groups ...[]any) []any {
	var out []any
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}

// openAPIParts describes the /parts endpoints.
func (s *Server) openAPIParts(paths jsonObj) {
	page := oaResponse("a page of components in code order, with numberMatched and a next link while more remain",
		mediaGeoJSON, oaSchemaRef("PartCollection"))
	feature := oaResponse("the component", mediaGeoJSON, oaSchemaRef("PartFeature"))
	featureWithTag := jsonObj{"description": "the component; ETag is its version",
		"headers": jsonObj{"ETag": jsonObj{"schema": jsonObj{"type": "string"}, "description": "the version, e.g. \"3\""}},
		"content": oaContent(mediaGeoJSON, oaSchemaRef("PartFeature"))}
	ifMatch := jsonObj{"name": "If-Match", "in": "header", "required": false, "schema": jsonObj{"type": "string"},
		"description": "the version the change applies to (\"3\", W/\"3\" or *); a mismatch is 412"}

	paths["/parts"] = jsonObj{
		"get": oaOp("parts", "listParts", "Search components",
			"Components in a box (the whole city without bbox) that pass the filters, paged by code; "+
				"or, with codes=, a batch of components by code (unknown or retired codes listed in missing).",
			oaParams([]any{oaQueryParam("codes", fmt.Sprintf("up to %d component codes, comma-separated; not combined with other parameters", s.cfg.MaxCodes),
				jsonObj{"type": "string"}), oaParamRef("bboxRest"), oaParamRef("limitRest"), oaParamRef("cursor")}, restFilterParams),
			oaErrorRefs(jsonObj{"200": page}, "400", "401", "429")),
		"post": oaWithBody(oaOp("parts", "addPart", "Add a component",
			"Adds a component (version 1); its grid is located when grid_code is not given. Admins, and departments for the components they own or maintain.",
			nil, oaErrorRefs(jsonObj{"201": featureWithTag}, "400", "401", "403", "409", "413", "415", "429", "503")),
			"a GeoJSON Feature with the component's properties", mediaGeoJSON, oaSchemaRef("PartFeature")),
	}
	paths["/parts/nearest"] = jsonObj{"get": oaOp("parts", "nearestParts", "Nearest components",
		"The k components nearest to a point, nearest first, each with its distance in metres.",
		oaParams([]any{
			oaQueryParam("lon", "longitude (WGS84)", jsonObj{"type": "number", "minimum": -180, "maximum": 180}),
			oaQueryParam("lat", "latitude (WGS84)", jsonObj{"type": "number", "minimum": -90, "maximum": 90}),
			oaQueryParam("k", "how many", jsonObj{"type": "integer", "minimum": 1, "maximum": s.cfg.MaxK, "default": 10}),
			oaQueryParam("max_distance", "only within this many metres", jsonObj{"type": "number", "exclusiveMinimum": true, "minimum": 0}),
		}, restFilterParams),
		oaErrorRefs(jsonObj{"200": oaResponse("the nearest components", mediaGeoJSON, oaSchemaRef("PartCollection"))}, "400", "401", "429"))}
	paths["/parts/counts"] = jsonObj{"get": oaOp("parts", "countParts", "Count components",
		"Counts by minor class or major class in a box and/or grid, with the filters.",
		oaParams([]any{oaQueryParam("by", "count by class (default) or major", oaEnum("class", "major")), oaParamRef("bboxRest")}, restFilterParams),
		oaErrorRefs(jsonObj{"200": oaResponse("the counts", mediaJSON, oaSchemaRef("Counts"))}, "400", "401", "429"))}
	paths["/parts/within"] = jsonObj{"post": oaWithBody(oaOp("parts", "withinParts", "Components within an area",
		"Components that intersect a Polygon or MultiPolygon (holes excluded), paged by code.",
		oaParams([]any{oaParamRef("limitRest"), oaParamRef("cursor")}, restFilterParams),
		oaErrorRefs(jsonObj{"200": page}, "400", "401", "413", "415", "429")),
		fmt.Sprintf("a GeoJSON Polygon or MultiPolygon, or a Feature of one, of at most %d vertices", s.cfg.MaxVertices),
		mediaGeoJSON, oaSchemaRef("Geometry"))}
	paths["/parts/changes"] = jsonObj{"post": oaWithBody(oaOp("parts", "changeParts", "Apply change records",
		fmt.Sprintf("Applies up to %d change records (add, modify, retire) atomically: all or nothing; a failing record is named by its index.", s.cfg.MaxChanges),
		nil, oaErrorRefs(jsonObj{"200": oaResponse("the components as changed", mediaGeoJSON, oaSchemaRef("PartCollection"))},
			"400", "401", "403", "404", "409", "410", "412", "413", "415", "429", "503")),
		"the change records", mediaJSON, oaSchemaRef("PartChanges"))}
	code := oaPathParam("code", "the 16-digit component code", oaPattern(`^\d{16}$`, "6 county + 2 major + 2 minor + 6 serial"))
	paths["/parts/{code}"] = jsonObj{
		"parameters": []any{code},
		"get": oaOp("parts", "getPart", "Get a component", "A retired (作废) component is 410 Gone. If-None-Match with its ETag gives 304.", nil,
			oaErrorRefs(jsonObj{"200": featureWithTag, "304": jsonObj{"description": "not modified"}}, "400", "401", "404", "410", "429")),
		"patch": oaWithBody(oaOp("parts", "patchPart", "Change a component",
			"Changes the properties given (and the geometry if given). Inspectors may change state, note and photo only; "+
				"departments only the components they own or maintain; properties.version acts as If-Match when the header is absent.",
			[]any{ifMatch}, oaErrorRefs(jsonObj{"200": feature}, "400", "401", "403", "404", "410", "412", "413", "415", "429", "503")),
			"a GeoJSON Feature with the properties to change", mediaGeoJSON, oaSchemaRef("PartFeature")),
		"delete": oaOp("parts", "retirePart", "Retire a component", "Retires (作废) the component: it leaves every query but stays in the store.",
			[]any{ifMatch}, oaErrorRefs(jsonObj{"200": feature}, "401", "403", "404", "410", "412", "429", "503")),
	}
}

// openAPIGrids describes the /grids endpoints.
func (s *Server) openAPIGrids(paths jsonObj) {
	feature := oaResponse("the grid; ETag is its version", mediaGeoJSON, oaSchemaRef("GridFeature"))
	ifMatch := jsonObj{"name": "If-Match", "in": "header", "required": false, "schema": jsonObj{"type": "string"},
		"description": "the version the change applies to; a mismatch is 412"}
	code := oaPathParam("code", "the 14 or 15-digit grid code", oaPattern(`^\d{14,15}$`, ""))
	body := "a GeoJSON Feature with a Polygon geometry and the grid's properties (name, dept)"
	paths["/grids"] = jsonObj{
		"get": oaOp("grids", "listGrids", "List grids", "Unit grids that meet the box (the whole city without bbox), in code order, paged.",
			[]any{oaParamRef("bboxRest"), oaParamRef("limitRest"), oaParamRef("cursor")},
			oaErrorRefs(jsonObj{"200": oaResponse("a page of grids", mediaGeoJSON, oaSchemaRef("GridCollection"))}, "400", "401", "429")),
		"post": oaWithBody(oaOp("grids", "addGrid", "Add a grid", "Admins only; the code is in properties.code.", nil,
			oaErrorRefs(jsonObj{"201": feature}, "400", "401", "403", "409", "413", "415", "429", "503")), body, mediaGeoJSON, oaSchemaRef("GridFeature")),
	}
	paths["/grids/locate"] = jsonObj{"get": oaOp("grids", "locateGrid", "The grid that holds a point", "",
		[]any{
			oaQueryParam("lon", "longitude (WGS84)", jsonObj{"type": "number", "minimum": -180, "maximum": 180}),
			oaQueryParam("lat", "latitude (WGS84)", jsonObj{"type": "number", "minimum": -90, "maximum": 90}),
		}, oaErrorRefs(jsonObj{"200": feature}, "400", "401", "404", "429"))}
	hierarchy := oaResponse("a division with its children", mediaJSON, oaSchemaRef("Division"))
	paths["/grids/hierarchy"] = jsonObj{"get": oaOp("grids", "hierarchyRoot", "The districts", "", nil,
		oaErrorRefs(jsonObj{"200": hierarchy}, "401", "429"))}
	paths["/grids/hierarchy/{prefix}"] = jsonObj{"get": oaOp("grids", "hierarchy", "A district, street or community with its children", "",
		[]any{oaPathParam("prefix", "6 (district), 9 (street) or 12 (community) digits", oaPattern(`^(\d{6}|\d{9}|\d{12})$`, ""))},
		oaErrorRefs(jsonObj{"200": hierarchy}, "400", "401", "404", "429"))}
	paths["/grids/{code}"] = jsonObj{
		"parameters": []any{code},
		"get": oaOp("grids", "getGrid", "Get a grid", "", nil,
			oaErrorRefs(jsonObj{"200": feature, "304": jsonObj{"description": "not modified"}}, "400", "401", "404", "429")),
		"post": oaWithBody(oaOp("grids", "addGridAt", "Add a grid with this code", "Admins only.", nil,
			oaErrorRefs(jsonObj{"201": feature}, "400", "401", "403", "409", "413", "415", "429", "503")), body, mediaGeoJSON, oaSchemaRef("GridFeature")),
		"patch": oaWithBody(oaOp("grids", "patchGrid", "Change a grid", "Admins only.", []any{ifMatch},
			oaErrorRefs(jsonObj{"200": feature}, "400", "401", "403", "404", "412", "413", "415", "429", "503")),
			"a GeoJSON Feature with the geometry and/or properties to change", mediaGeoJSON, oaSchemaRef("GridFeature")),
		"delete": oaOp("grids", "removeGrid", "Remove a grid", "Admins only; answers the removed grid.", []any{ifMatch},
			oaErrorRefs(jsonObj{"200": feature}, "400", "401", "403", "404", "412", "429", "503")),
	}
}

// openAPITiles describes the /tiles endpoints.
func (s *Server) openAPITiles(paths jsonObj) {
	layer := oaPathParam("layer", "the tile layer; sensors, alarms and incidents are the live layers (no filters, revalidated on every use)",
		oaEnum(append(tiles.Layers(), tiles.LiveLayers()...)...))
	paths["/tiles/{layer}/{z}/{x}/{y}.mvt"] = jsonObj{"get": oaOp("tiles", "getTile", "A vector tile",
		"A Mapbox vector tile (XYZ, Web Mercator), gzip encoded when the client accepts it; ETag and If-None-Match give 304s. "+
			"The component filters apply to the parts layers.",
		oaParams([]any{layer,
			oaPathParam("z", "zoom", jsonObj{"type": "integer", "minimum": 0}),
			oaPathParam("x", "column", jsonObj{"type": "integer", "minimum": 0}),
			oaPathParam("y", "row (XYZ, north first)", jsonObj{"type": "integer", "minimum": 0}),
		}, restFilterParams),
		oaErrorRefs(jsonObj{
			"200": jsonObj{"description": "the tile", "content": jsonObj{mediaMVT: jsonObj{"schema": jsonObj{"type": "string", "format": "binary"}}}},
			"304": jsonObj{"description": "not modified"},
		}, "400", "401", "404", "429"))}
	paths["/tiles/{layer}.json"] = jsonObj{"get": oaOp("tiles", "getTileJSON", "TileJSON of a layer",
		"TileJSON 3.0.0 with absolute tile URLs on the request's host; the filters are carried into them.",
		oaParams([]any{layer}, restFilterParams),
		oaErrorRefs(jsonObj{"200": oaResponse("the TileJSON document", mediaJSON, oaSchemaRef("TileJSON"))}, "400", "401", "404", "429"))}
}

// openAPIOGC describes the OGC API - Features endpoints.
func (s *Server) openAPIOGC(paths jsonObj) {
	f := []any{oaParamRef("f")}
	paths["/ogc"] = jsonObj{"get": oaOp("ogc", "ogcLanding", "Landing page", "Links to the API definition, the conformance classes and the collections.", f,
		oaErrorRefs(jsonObj{"200": oaResponse("the landing page", mediaJSON, oaSchemaRef("LandingPage"))}, "400", "401", "429"))}
	paths["/ogc/api"] = jsonObj{"get": oaOp("ogc", "ogcAPI", "API definition", "This document.", f,
		oaErrorRefs(jsonObj{"200": jsonObj{"description": "the OpenAPI 3.0 document",
			"content": jsonObj{mediaOpenAPI: jsonObj{"schema": jsonObj{"type": "object"}}}}}, "400", "401", "429"))}
	paths["/ogc/conformance"] = jsonObj{"get": oaOp("ogc", "ogcConformance", "Conformance classes", "", f,
		oaErrorRefs(jsonObj{"200": oaResponse("the conformance classes", mediaJSON, oaSchemaRef("ConfClasses"))}, "400", "401", "429"))}
	paths["/ogc/collections"] = jsonObj{"get": oaOp("ogc", "ogcCollections", "Collections", "The collections parts, grids, sensors, alarms and incidents.", f,
		oaErrorRefs(jsonObj{"200": oaResponse("the collections", mediaJSON, oaSchemaRef("Collections"))}, "400", "401", "429"))}
	paths["/ogc/collections/{collectionId}"] = jsonObj{"get": oaOp("ogc", "ogcCollection", "A collection", "",
		[]any{oaParamRef("collectionId"), oaParamRef("f")},
		oaErrorRefs(jsonObj{"200": oaResponse("the collection", mediaJSON, oaSchemaRef("Collection"))}, "400", "401", "404", "429"))}

	items := []any{oaParamRef("bbox"), oaParamRef("bbox-crs"), oaParamRef("limit"), oaParamRef("cursor"), oaParamRef("f")}
	partFilters := []any{oaParamRef("class"), oaParamRef("major"), oaParamRef("state"), oaParamRef("dept_owner"), oaParamRef("dept"),
		oaParamRef("grid_code"), oaParamRef("datetime")}
	gridFilters := []any{oaParamRef("gridDept"), oaParamRef("district"), oaParamRef("street"), oaParamRef("community")}
	paths["/ogc/collections/parts/items"] = jsonObj{"get": oaOp("ogc", "ogcPartItems", "Components",
		"Components that intersect the bbox and pass the property filters, in code order; numberMatched counts all pages, "+
			"the next link gives the next page. A limit above the maximum is lowered to it.",
		oaParams(items, partFilters),
		oaErrorRefs(jsonObj{"200": oaResponse("a page of components", mediaGeoJSON, oaSchemaRef("PartCollection"))}, "400", "401", "429"))}
	paths["/ogc/collections/grids/items"] = jsonObj{"get": oaOp("ogc", "ogcGridItems", "Unit grids",
		"Unit grids that meet the bbox and pass the filters, in code order.",
		oaParams(items, gridFilters),
		oaErrorRefs(jsonObj{"200": oaResponse("a page of grids", mediaGeoJSON, oaSchemaRef("GridCollection"))}, "400", "401", "429"))}
	paths["/ogc/collections/parts/items/{featureId}"] = jsonObj{"get": oaOp("ogc", "ogcPartItem", "A component", "By its 16-digit code.",
		[]any{oaPathParam("featureId", "the component code", oaPattern(`^\d{16}$`, "")), oaParamRef("f")},
		oaErrorRefs(jsonObj{"200": oaResponse("the component", mediaGeoJSON, oaSchemaRef("PartFeature"))}, "400", "401", "404", "410", "429"))}
	paths["/ogc/collections/grids/items/{featureId}"] = jsonObj{"get": oaOp("ogc", "ogcGridItem", "A unit grid", "By its 14 or 15-digit code.",
		[]any{oaPathParam("featureId", "the grid code", oaPattern(`^\d{14,15}$`, "")), oaParamRef("f")},
		oaErrorRefs(jsonObj{"200": oaResponse("the grid", mediaGeoJSON, oaSchemaRef("GridFeature"))}, "400", "401", "404", "429"))}
	s.openAPIOGCLive(paths, items)
}
