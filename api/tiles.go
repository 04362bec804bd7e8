package api

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/paulmach/orb/maptile"

	"citytwin/tiles"
)

// tileFilterParams are the filters a tile request may carry.
var tileFilterParams = filterParams

// registerTiles registers the vector tile routes under /tiles.
func (s *Server) registerTiles(g *echo.Group, mw ...echo.MiddlewareFunc) {
	g.GET("/:layer/:z/:x/:y", s.getTile, mw...)
	g.GET("/:layer", s.getTileJSON, mw...)
}

// tileNotFound is the answer for a tile path that is not one.
func tileNotFound(path string) error {
	return newProblem(http.StatusNotFound, "not-found", fmt.Sprintf("%s is not a tile; want /tiles/{layer}/{z}/{x}/{y}.mvt or /tiles/{layer}.json", path))
}

func parseTileXYZ(zs, xs, ys string) (maptile.Tile, error) {
	var errs []FieldReason
	num := func(field, s string) uint32 {
		n, err := strconv.ParseUint(s, 10, 32)
		if err != nil {
			errs = append(errs, FieldReason{Field: field, Reason: fmt.Sprintf("%q is not a whole number", clipString(s))})
		}
		return uint32(n)
	}
	z, x, y := num("z", zs), num("x", xs), num("y", ys)
	if len(errs) > 0 {
		return maptile.Tile{}, &InputError{Errors: errs}
	}
	return maptile.New(x, y, maptile.Zoom(z)), nil // tiles checks the range
}

// getTile: GET /tiles/{layer}/{z}/{x}/{y}.mvt?<filter>. The body is gzip
// encoded when the client accepts it; ETag and If-None-Match give 304s.
func (s *Server) getTile(c echo.Context) error {
	ys, ok := strings.CutSuffix(c.Param("y"), ".mvt")
	if !ok || s.tiles == nil {
		return tileNotFound(c.Request().URL.Path)
	}
	q := c.QueryParams()
	if err := checkParams(q, tileFilterParams); err != nil {
		return err
	}
	t, terr := parseTileXYZ(c.Param("z"), c.Param("x"), ys)
	f, ferr := parseFilter(q, s.twin.Catalogue())
	if err := joinInput(terr, ferr); err != nil {
		return err
	}
	tile, err := s.tiles.Encode(c.Request().Context(), c.Param("layer"), t, f)
	if err != nil {
		return err
	}
	gz := acceptsGzip(c.Request())
	tag := tileETag(tile.ETag, gz)
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, mediaMVT)
	h.Set("Cache-Control", fmt.Sprintf("public, max-age=%d, must-revalidate", int(s.cfg.TileMaxAge.Seconds())))
	h.Add(echo.HeaderVary, echo.HeaderAcceptEncoding)
	if tag != "" {
		h.Set(headerETag, tag)
		if notModified(c, tag) {
			return c.NoContent(http.StatusNotModified)
		}
	}
	data := tile.Data
	if gz {
		h.Set(echo.HeaderContentEncoding, "gzip")
	} else if len(data) > 0 {
		if data, err = gunzip(data); err != nil {
			return fmt.Errorf("api: tile %s/%d/%d/%d: %w", c.Param("layer"), t.Z, t.X, t.Y, err)
		}
	}
	h.Set(echo.HeaderContentLength, strconv.Itoa(len(data)))
	return c.Blob(http.StatusOK, mediaMVT, data)
}

// tileETag quotes the tiles package's tag and marks the identity encoding.
func tileETag(tag string, gz bool) string {
	if tag == "" {
		return ""
	}
	tag = strings.Trim(strings.TrimPrefix(tag, "W/"), `"`)
	if !gz {
		tag += "-identity"
	}
	return `"` + tag + `"`
}

// acceptsGzip reads Accept-Encoding (gzip with q > 0, or *).
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get(echo.HeaderAcceptEncoding), ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		name = strings.ToLower(strings.TrimSpace(name))
		if name != "gzip" && name != "x-gzip" && name != "*" {
			continue
		}
		if q, ok := strings.CutPrefix(strings.ReplaceAll(params, " ", ""), "q="); ok {
			if v, err := strconv.ParseFloat(q, 64); err == nil && v == 0 {
				continue
			}
		}
		return true
	}
	return false
}

func gunzip(b []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	return io.ReadAll(zr)
}

// getTileJSON: GET /tiles/{layer}.json, TileJSON with absolute tile URLs on
// the request's host; the filter parameters are carried into the URLs.
func (s *Server) getTileJSON(c echo.Context) error {
	layer, ok := strings.CutSuffix(c.Param("layer"), ".json")
	if !ok || s.tiles == nil {
		return tileNotFound(c.Request().URL.Path)
	}
	q := c.QueryParams()
	if err := checkParams(q, tileFilterParams); err != nil {
		return err
	}
	if _, err := parseFilter(q, s.twin.Catalogue()); err != nil {
		return err
	}
	u := url.URL{Scheme: c.Scheme(), Host: c.Request().Host, Path: "/tiles/" + layer + "/"}
	tmpl := u.String() + "{z}/{x}/{y}.mvt"
	if len(q) > 0 {
		tmpl += "?" + q.Encode()
	}
	if !slices.Contains(tiles.Layers(), layer) {
		return &tiles.LayerError{Layer: layer, Known: tiles.Layers()}
	}
	return writeJSON(c, http.StatusOK, mediaJSON, s.tiles.TileJSON(layer, tmpl))
}
