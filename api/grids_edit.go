package api

import (
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/paulmach/orb"

	"citytwin/grid"
)

// gridFromFeature builds a grid from a Feature; the code comes from the
// path, id or properties.code, which must agree.
func (s *Server) gridFromFeature(f rawFeature, path string) (grid.Grid, error) {
	var g grid.Grid
	var errs []error
	for _, src := range []struct{ field, v string }{{"code", path}, {"id", f.ID}} {
		if src.v == "" {
			continue
		}
		code, err := grid.ParseCode(src.v)
		switch {
		case err != nil:
			errs = append(errs, badInput(src.field, "%v", err))
		case g.Code != "" && code != g.Code:
			errs = append(errs, badInput(src.field, "%s differs from the code %s", code, g.Code))
		default:
			g.Code = code
		}
	}
	_, err := applyGridProps(&g, f.Properties)
	errs = append(errs, err)
	if err := joinInput(errs...); err != nil {
		return grid.Grid{}, err
	}
	if g.Code == "" {
		return grid.Grid{}, badInput("properties.code", "missing: give the grid code in the path, id or properties.code")
	}
	poly, err := s.gridGeometry(f.Geometry)
	if err != nil {
		return grid.Grid{}, err
	}
	g.Geometry = poly
	return g, nil
}

// gridGeometry accepts one simple Polygon.
func (s *Server) gridGeometry(g orb.Geometry) (orb.Polygon, error) {
	poly, ok := g.(orb.Polygon)
	switch {
	case g == nil:
		return nil, badInput("geometry", "missing: a grid needs a Polygon")
	case !ok:
		return nil, badInput("geometry", "a grid is one Polygon, got a %s", g.GeoJSONType())
	}
	if err := checkSimple(poly, s.cfg.MaxVertices); err != nil {
		return nil, err
	}
	return poly, nil
}

// addGrid: POST /grids (or /grids/{code}) with a Feature: 201, Location, ETag.
func (s *Server) addGrid(c echo.Context) error {
	if err := checkParams(c.QueryParams()); err != nil {
		return err
	}
	if err := principalOf(c).mayWriteGrids("add a grid"); err != nil {
		return err
	}
	body, err := readBody(c)
	if err != nil {
		return err
	}
	f, err := decodeFeature(body, false)
	if err != nil {
		return err
	}
	g, err := s.gridFromFeature(f, c.Param("code"))
	if err != nil {
		return err
	}
	var out grid.Grid
	err = s.timeWrite("add_grid", func() (err error) {
		out, err = s.twin.AddGrid(c.Request().Context(), g)
		return err
	})
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/grids/"+string(out.Code))
	return s.writeGrid(c, http.StatusCreated, &out)
}

// patchGrid: PATCH /grids/{code} with a partial Feature; If-Match applies.
func (s *Server) patchGrid(c echo.Context) error {
	if err := checkParams(c.QueryParams()); err != nil {
		return err
	}
	code, err := grid.ParseCode(c.Param("code"))
	if err != nil {
		return err
	}
	if err := principalOf(c).mayWriteGrids("modify grid " + string(code)); err != nil {
		return err
	}
	ifv, hasIf, err := ifMatch(c)
	if err != nil {
		return err
	}
	f, err := readPatch(c, string(code), "a grid")
	if err != nil {
		return err
	}
	var poly orb.Polygon
	if f.Geometry != nil {
		if poly, err = s.gridGeometry(f.Geometry); err != nil {
			return err
		}
	}
	var out grid.Grid
	err = s.timeWrite("modify_grid", func() (err error) {
		out, err = s.twin.UpdateGrid(c.Request().Context(), code, ifv, func(g *grid.Grid) error {
			old := g.Version
			claimed, err := applyGridProps(g, f.Properties)
			if err != nil {
				return err
			}
			if !hasIf && claimed != 0 && claimed != old {
				return fmt.Errorf("%w: %s is at version %d, not %d (properties.version)", grid.ErrVersionMismatch, code, old, claimed)
			}
			if poly != nil {
				g.Geometry = poly
			}
			return nil
		})
		return err
	})
	if err != nil {
		return err
	}
	return s.writeGrid(c, http.StatusOK, &out)
}

// removeGrid: DELETE /grids/{code}; answers the removed grid. If-Match applies.
func (s *Server) removeGrid(c echo.Context) error {
	if err := checkParams(c.QueryParams()); err != nil {
		return err
	}
	code, err := grid.ParseCode(c.Param("code"))
	if err != nil {
		return err
	}
	if err := principalOf(c).mayWriteGrids("remove grid " + string(code)); err != nil {
		return err
	}
	ifv, _, err := ifMatch(c)
	if err != nil {
		return err
	}
	var out grid.Grid
	err = s.timeWrite("remove_grid", func() (err error) {
		out, err = s.twin.RemoveGrid(c.Request().Context(), code, ifv)
		return err
	})
	if err != nil {
		return err
	}
	c.Response().Header().Set(headerETag, etag(out.Version))
	return writeJSON(c, http.StatusOK, mediaGeoJSON, featureOfGrid(&out))
}
