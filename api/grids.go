package api

import (
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"

	"citytwin/grid"
)

// registerGrids registers the unit grid routes under /grids.
func (s *Server) registerGrids(g *echo.Group, mw ...echo.MiddlewareFunc) {
	g.GET("", s.listGrids, mw...)
	g.GET("/locate", s.locateGrid, mw...)
	g.GET("/hierarchy", s.hierarchy, mw...)
	g.GET("/hierarchy/:prefix", s.hierarchy, mw...)
	g.GET("/:code", s.getGrid, mw...)
	g.POST("", s.addGrid, mw...)
	g.POST("/:code", s.addGrid, mw...)
	g.PATCH("/:code", s.patchGrid, mw...)
	g.DELETE("/:code", s.removeGrid, mw...)
}

func (s *Server) writeGrid(c echo.Context, status int, g *grid.Grid) error {
	tag := etag(g.Version)
	c.Response().Header().Set(headerETag, tag)
	if status == http.StatusOK && c.Request().Method == http.MethodGet && notModified(c, tag) {
		return c.NoContent(http.StatusNotModified)
	}
	return writeJSON(c, status, mediaGeoJSON, featureOfGrid(g))
}

// getGrid: GET /grids/{code}.
func (s *Server) getGrid(c echo.Context) error {
	if err := checkParams(c.QueryParams()); err != nil {
		return err
	}
	code, err := grid.ParseCode(c.Param("code"))
	if err != nil {
		return err
	}
	g, err := s.twin.Grids().Get(code)
	if err != nil {
		return err
	}
	return s.writeGrid(c, http.StatusOK, &g)
}

// locateGrid: GET /grids/locate?lon=&lat=, the grid holding the point
// (404 when none does).
func (s *Server) locateGrid(c echo.Context) error {
	q := c.QueryParams()
	if err := checkParams(q, []string{"lon", "lat"}); err != nil {
		return err
	}
	pt, err := parseLonLat(q)
	if err != nil {
		return err
	}
	g, err := s.twin.Grids().Locate(pt)
	if err != nil {
		return err
	}
	return s.writeGrid(c, http.StatusOK, &g)
}

// listGrids: GET /grids?bbox=&limit=&cursor=, in code order.
func (s *Server) listGrids(c echo.Context) error {
	q := c.QueryParams()
	if err := checkParams(q, []string{"bbox", "limit", "cursor"}); err != nil {
		return err
	}
	b, berr := world, error(nil)
	if v, err := oneParam(q, "bbox"); err != nil {
		berr = err
	} else if v != "" {
		b, berr = parseBBox(v)
	}
	limit, lerr := parseLimit(q, s.cfg.DefaultLimit, s.cfg.MaxLimit)
	key := queryKey("/grids", q, nil)
	after, cerr := oneParam(q, "cursor")
	if cerr == nil {
		after, cerr = unwrapCursor(key, after)
	}
	if err := joinInput(berr, lerr, cerr); err != nil {
		return err
	}
	var all []grid.Grid
	err := s.twin.Grids().Search(c.Request().Context(), b, func(g grid.Grid) bool {
		all = append(all, g)
		return true
	})
	if err != nil {
		return err
	}
	slices.SortFunc(all, func(a, b grid.Grid) int {
		switch {
		case a.Code < b.Code:
			return -1
		case a.Code > b.Code:
			return 1
		}
		return 0
	})
	start := 0
	if after != "" {
		start, _ = slices.BinarySearchFunc(all, grid.Code(after), func(g grid.Grid, c grid.Code) int {
			switch {
			case g.Code <= c:
				return -1
			}
			return 1
		})
	}
	end := min(start+limit, len(all))
	fs := make([]gridFeature, 0, end-start)
	for i := start; i < end; i++ {
		fs = append(fs, featureOfGrid(&all[i]))
	}
	fc := newCollection(fs)
	n := len(all)
	fc.NumberMatched = &n
	next := ""
	if end < len(all) && end > 0 {
		next = wrapCursor(key, string(all[end-1].Code))
	}
	fc.Links = pageLinks(c, next)
	return writeJSON(c, http.StatusOK, mediaGeoJSON, fc)
}

// division is a node of the hierarchy.
type division struct {
	Code     string     `json:"code"`
	Name     string     `json:"name"`
	Level    string     `json:"level"`
	Children []division `json:"children,omitempty"`
}

// hierarchy: GET /grids/hierarchy (the districts) and
// GET /grids/hierarchy/{prefix} (a district, street or community with its
// children and their names).
func (s *Server) hierarchy(c echo.Context) error {
	if err := checkParams(c.QueryParams()); err != nil {
		return err
	}
	idx := s.twin.Grids()
	prefix := c.Param("prefix")
	if prefix == "" {
		root := division{Code: "", Name: "", Level: "city", Children: []division{}}
		for _, d := range idx.Divisions(grid.District, "") {
			root.Children = append(root.Children, division{Code: d.Code, Name: d.Name, Level: d.Level.String()})
		}
		return writeJSON(c, http.StatusOK, mediaJSON, root)
	}
	lvl := grid.LevelOf(prefix)
	if !isGridPrefix(prefix) || lvl == 0 || lvl == grid.Cell {
		return badInput("prefix", "%q is not a district (6 digits), street (9) or community (12) code", clipString(prefix))
	}
	d, err := idx.Division(prefix)
	if err != nil {
		return err
	}
	node := division{Code: d.Code, Name: d.Name, Level: d.Level.String(), Children: []division{}}
	for _, k := range idx.Divisions(lvl+1, prefix) {
		node.Children = append(node.Children, division{Code: k.Code, Name: k.Name, Level: k.Level.String()})
	}
	return writeJSON(c, http.StatusOK, mediaJSON, node)
}
