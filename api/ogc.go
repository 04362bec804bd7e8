package api

import (
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"
)

// OGC API - Features Part 1 (OGC 17-069r4) under /ogc: the landing page,
// conformance, the collections parts and grids, their items and single
// items, all as JSON / GeoJSON in CRS84. Decisions:
//   - limit defaults to Config.DefaultLimit; a limit above the maximum
//     (Config.MaxLimit, at most 10,000) is lowered to it, not refused, as
//     the standard asks; limit < 1 or not a number is a 400.
//   - Paging is by keyset: the next link carries an opaque cursor bound to
//     the query (bbox and filters); numberMatched counts every page.
//   - Unknown query parameters are a 400 naming them (a typo must not
//     widen a query silently).
//   - Links are absolute, built from the request's scheme and host
//     (X-Forwarded-Proto is honoured), since clients such as GDAL resolve a
//     link starting with "/" against the landing page, not the host.
//   - The public sees items without photo and note, as on /parts.

// Media types of the OGC endpoints.
const (
	mediaOpenAPI = "application/vnd.oai.openapi+json;version=3.0"
	mediaHTML    = "text/html"
)

// Conformance classes this server implements.
var ogcConformance = []string{
	"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
	"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
	"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
}

// registerOGC registers the OGC API - Features routes on g (/ogc).
func (s *Server) registerOGC(g *echo.Group) {
	g.GET("", s.ogcLanding)
	g.GET("/", s.ogcLanding)
	g.GET("/api", s.serveOpenAPI)
	g.GET("/conformance", s.ogcConformance)
	g.GET("/collections", s.ogcCollections)
	g.GET("/collections/:id", s.ogcCollection)
	reps := newRepresentatives(s.twin)
	g.GET("/collections/:id/items", func(c echo.Context) error { return s.ogcItems(c, reps) })
	g.GET("/collections/:id/items/:code", s.ogcItem)
}

// ogcBase returns the absolute URL of /ogc for the request.
func ogcBase(c echo.Context) string {
	return c.Scheme() + "://" + c.Request().Host + "/ogc"
}

// checkOGCQuery rejects unknown parameters and formats other than JSON.
func checkOGCQuery(q url.Values, allowed ...[]string) error {
	if err := checkParams(q, append(allowed, []string{"f"})...); err != nil {
		return err
	}
	return checkFormat(q)
}

type landingPage struct {
	Title       string `json:"title"`
	Description string `json:"description"`
	Links       []link `json:"links"`
}

// ogcLanding serves the landing page.
func (s *Server) ogcLanding(c echo.Context) error {
	if err := checkOGCQuery(c.QueryParams()); err != nil {
		return err
	}
	base := ogcBase(c)
	return writeJSON(c, http.StatusOK, mediaJSON, landingPage{
		Title:       "citytwin",
		Description: "City components (部件) and unit grids (单元网格) of the city twin, as OGC API - Features.",
		Links: []link{
			{Href: base, Rel: "self", Type: mediaJSON},
			{Href: base + "/api", Rel: "service-desc", Type: mediaOpenAPI},
			{Href: base + "/conformance", Rel: "conformance", Type: mediaJSON},
			{Href: base + "/collections", Rel: "data", Type: mediaJSON},
		},
	})
}

type conformance struct {
	ConformsTo []string `json:"conformsTo"`
}

// ogcConformance lists the conformance classes.
func (s *Server) ogcConformance(c echo.Context) error {
	if err := checkOGCQuery(c.QueryParams()); err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, mediaJSON, conformance{ConformsTo: ogcConformance})
}
