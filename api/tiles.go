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

	"citytwin/parts"
	"citytwin/tiles"
	"citytwin/twin"
)

// tileFilterParams are the filters a tile request may carry.
var tileFilterParams = filterParams

// liveCacheControl is the Cache-Control of the live layers: revalidate every
// time (a 304 when the ETag holds), since they change all the time.
const liveCacheControl = "no-cache"

// registerTiles registers the vector tile routes under /tiles: the layers
// of the tile map and the live layers (sensors, alarms, incidents), whose
// generations the twin's changes bump.
func (s *Server) registerTiles(g *echo.Group, mw ...echo.MiddlewareFunc) {
	live := tiles.NewLive(s.twin, tiles.LiveOptions{})
	s.twin.OnChange(func(c twin.Change) { touchLive(live, s.twin, c) })
	g.GET("/:layer/:z/:x/:y", func(c echo.Context) error { return s.getTile(c, live) }, mw...)
	g.GET("/:layer", func(c echo.Context) error { return s.getTileJSON(c, live) }, mw...)
}

// touchLive bumps the live layers a change shows in: sensors and alarms
// for a sensor, an alarm or a component with sensors bound (its sensors
// move with it); incidents for a case.
func touchLive(live *tiles.Live, tw *twin.Twin, c twin.Change) {
	switch {
	case c.Alarm != nil, c.IsSensor():
		live.Touch(tiles.LayerSensors, tiles.LayerAlarms)
	case c.IsCase():
		live.Touch(tiles.LayerIncidents)
	case c.IsPart():
		for _, p := range []*parts.Part{c.OldPart, c.NewPart} {
			if p != nil && len(tw.Sensors().ByCode(p.Code)) > 0 {
				live.Touch(tiles.LayerSensors, tiles.LayerAlarms)
				return
			}
		}
	}
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
// The live layers (sensors, alarms, incidents) take no filter and are
// encoded on demand; their Cache-Control asks to revalidate every time.
func (s *Server) getTile(c echo.Context, live *tiles.Live) error {
	ys, ok := strings.CutSuffix(c.Param("y"), ".mvt")
	layer := c.Param("layer")
	isLive := tiles.IsLiveLayer(layer)
	if !ok || (s.tiles == nil && !isLive) {
		return tileNotFound(c.Request().URL.Path)
	}
	q := c.QueryParams()
	var tile tiles.Tile
	cacheControl := fmt.Sprintf("public, max-age=%d, must-revalidate", int(s.cfg.TileMaxAge.Seconds()))
	if isLive {
		if err := checkParams(q); err != nil {
			return err
		}
		t, err := parseTileXYZ(c.Param("z"), c.Param("x"), ys)
		if err != nil {
			return err
		}
		if tile, err = live.Encode(c.Request().Context(), layer, t); err != nil {
			return err
		}
		cacheControl = liveCacheControl
	} else {
		if err := checkParams(q, tileFilterParams); err != nil {
			return err
		}
		t, terr := parseTileXYZ(c.Param("z"), c.Param("x"), ys)
		f, ferr := parseFilter(q, s.twin.Catalogue())
		if err := joinInput(terr, ferr); err != nil {
			return err
		}
		var err error
		if tile, err = s.tiles.Encode(c.Request().Context(), layer, t, f); err != nil {
			return err
		}
	}
	return s.writeTile(c, layer, tile, cacheControl)
}

// writeTile answers with a tile: gzip when the client takes it, the
// identity otherwise; 304 when If-None-Match holds its ETag.
func (s *Server) writeTile(c echo.Context, layer string, tile tiles.Tile, cacheControl string) error {
	gz := acceptsGzip(c.Request())
	tag := tileETag(tile.ETag, gz)
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, mediaMVT)
	h.Set("Cache-Control", cacheControl)
	if !slices.Contains(h.Values(echo.HeaderVary), echo.HeaderAcceptEncoding) {
		// (the gzip wrapper around the server has most often said it)
		h.Add(echo.HeaderVary, echo.HeaderAcceptEncoding)
	}
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
		var err error
		if data, err = gunzip(data); err != nil {
			return fmt.Errorf("api: tile %s: %w", c.Request().URL.Path, err)
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
func (s *Server) getTileJSON(c echo.Context, live *tiles.Live) error {
	layer, ok := strings.CutSuffix(c.Param("layer"), ".json")
	if ok && tiles.IsLiveLayer(layer) {
		if err := checkParams(c.QueryParams()); err != nil {
			return err
		}
		u := url.URL{Scheme: c.Scheme(), Host: c.Request().Host, Path: "/tiles/" + layer + "/"}
		return writeJSON(c, http.StatusOK, mediaJSON, live.TileJSON(layer, u.String()+"{z}/{x}/{y}.mvt", s.twin.Parts().Bounds()))
	}
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
		return &tiles.LayerError{Layer: layer, Known: append(tiles.Layers(), tiles.LiveLayers()...)}
	}
	return writeJSON(c, http.StatusOK, mediaJSON, s.tiles.TileJSON(layer, tmpl))
}
