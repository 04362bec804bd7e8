package api

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// The OpenAPI 3.0 document describes the whole service: the REST
// endpoints (/parts, /grids, /tiles), OGC API - Features (/ogc), and the
// operational endpoints. It is built from Go values per request (its
// servers entry is the request's own scheme and host, and the limits are
// the Config's) and served at /openapi.json and at /ogc/api, the OGC
// service-desc.

// jsonObj is a JSON object of the document.
type jsonObj = map[string]any

// registerOpenAPI registers /openapi.json (no authentication: the API
// description is public, as are /healthz and /readyz).
func (s *Server) registerOpenAPI(e *echo.Echo) {
	e.GET("/openapi.json", s.serveOpenAPI)
}

// serveOpenAPI serves the OpenAPI document as
// application/vnd.oai.openapi+json;version=3.0 (a JSON media type that
// generic tools and GDAL accept).
func (s *Server) serveOpenAPI(c echo.Context) error {
	if err := checkOGCQuery(c.QueryParams()); err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, mediaOpenAPI, s.openAPIDoc(c.Scheme()+"://"+c.Request().Host))
}

// openAPIDoc builds the document for a server at serverURL.
func (s *Server) openAPIDoc(serverURL string) jsonObj {
	paths := jsonObj{}
	for _, add := range []func(jsonObj){s.openAPIOps, s.openAPIParts, s.openAPIGrids, s.openAPITiles, s.openAPIOGC, s.openAPIIncidents, s.openAPISensors} {
		add(paths)
	}
	return jsonObj{
		"openapi": "3.0.3",
		"info": jsonObj{
			"title":   "citytwin",
			"version": "1.0.0",
			"description": "The city twin: city components (部件, 16-digit codes) and unit grids (单元网格, 14-digit codes) " +
				"as GeoJSON, Mapbox vector tiles, and OGC API - Features under /ogc. Errors are RFC 9457 problem documents " +
				"(application/problem+json). Send `Authorization: Bearer <token>` for more than public reads.",
			"license": jsonObj{"name": "see the project"},
		},
		"servers": []any{jsonObj{"url": serverURL}},
		"tags": []any{
			jsonObj{"name": "parts", "description": "City components (部件)"},
			jsonObj{"name": "grids", "description": "Unit grids (单元网格) and their hierarchy"},
			jsonObj{"name": "tiles", "description": "Mapbox vector tiles and TileJSON"},
			jsonObj{"name": "ogc", "description": "OGC API - Features Part 1"},
			jsonObj{"name": "ops", "description": "Health, readiness and metrics"},
		},
		"security":   []any{jsonObj{}, jsonObj{"bearer": []any{}}},
		"paths":      paths,
		"components": s.openAPIComponents(),
	}
}

// Helpers that build the pieces of the document.

func oaRef(kind, name string) jsonObj { return jsonObj{"$ref": "#/components/" + kind + "/" + name} }

func oaSchemaRef(name string) jsonObj { return oaRef("schemas", name) }

func oaParamRef(name string) jsonObj { return oaRef("parameters", name) }

func oaContent(media string, schema jsonObj) jsonObj {
	return jsonObj{media: jsonObj{"schema": schema}}
}

func oaResponse(desc, media string, schema jsonObj) jsonObj {
	return jsonObj{"description": desc, "content": oaContent(media, schema)}
}

// errorRefs are the problem responses of the given statuses, and of 503
// for every operation: every route has a deadline (and a server may be
// loading, busy with expensive queries, or without its store).
func oaErrorRefs(r jsonObj, statuses ...string) jsonObj {
	names := map[string]string{"400": "BadRequest", "401": "Unauthorized", "403": "Forbidden", "404": "NotFound",
		"408": "RequestTimeout", "410": "Gone", "412": "PreconditionFailed", "409": "Conflict", "413": "TooLarge",
		"415": "UnsupportedMediaType", "429": "TooManyRequests", "503": "Unavailable"}
	for _, st := range append(statuses, "503") {
		r[st] = oaRef("responses", names[st])
	}
	r["default"] = oaRef("responses", "Error")
	return r
}

// op is one operation. params are parameter objects or references.
func oaOp(tag, id, summary, desc string, params []any, responses jsonObj) jsonObj {
	o := jsonObj{"tags": []any{tag}, "operationId": id, "summary": summary, "responses": responses}
	if desc != "" {
		o["description"] = desc
	}
	if len(params) > 0 {
		o["parameters"] = params
	}
	return o
}

// oaWithBody gives an operation its request body, and the 408 of a body
// that does not arrive in time.
func oaWithBody(o jsonObj, desc, media string, schema jsonObj) jsonObj {
	o["requestBody"] = jsonObj{"required": true, "description": desc, "content": oaContent(media, schema)}
	if rs, ok := o["responses"].(jsonObj); ok {
		rs["408"] = oaRef("responses", "RequestTimeout")
	}
	return o
}

func oaPublic(o jsonObj) jsonObj {
	o["security"] = []any{}
	return o
}

func oaQueryParam(name, desc string, schema jsonObj) jsonObj {
	return jsonObj{"name": name, "in": "query", "required": false, "description": desc, "schema": schema}
}

func oaPathParam(name, desc string, schema jsonObj) jsonObj {
	return jsonObj{"name": name, "in": "path", "required": true, "description": desc, "schema": schema}
}

func oaStr(desc string) jsonObj { return jsonObj{"type": "string", "description": desc} }

func oaPattern(p, desc string) jsonObj {
	return jsonObj{"type": "string", "pattern": p, "description": desc}
}

func oaInteger(desc string) jsonObj { return jsonObj{"type": "integer", "description": desc} }

func oaNumber(desc string) jsonObj { return jsonObj{"type": "number", "description": desc} }

func oaArrayOf(items jsonObj) jsonObj { return jsonObj{"type": "array", "items": items} }

func oaObject(required []string, props jsonObj) jsonObj {
	o := jsonObj{"type": "object", "properties": props}
	if len(required) > 0 {
		r := make([]any, len(required))
		for i, v := range required {
			r[i] = v
		}
		o["required"] = r
	}
	return o
}

func oaEnum(values ...string) jsonObj {
	e := make([]any, len(values))
	for i, v := range values {
		e[i] = v
	}
	return jsonObj{"type": "string", "enum": e}
}
