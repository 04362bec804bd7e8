package api

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/labstack/echo/v4"

	"citytwin/grid"
	"citytwin/parts"
)

// itemsLinks returns the self, next (when next is not "") and collection
// links of a page of items.
func itemsLinks(c echo.Context, id string, q url.Values, next string) []link {
	base := ogcBase(c)
	items := base + "/collections/" + id + "/items"
	withQuery := func(v url.Values) string {
		if len(v) == 0 {
			return items
		}
		return items + "?" + v.Encode()
	}
	ls := []link{{Href: withQuery(q), Rel: "self", Type: mediaGeoJSON}}
	if next != "" {
		nq := url.Values{}
		for k, v := range q {
			nq[k] = slices.Clone(v)
		}
		nq.Set("cursor", next)
		ls = append(ls, link{Href: withQuery(nq), Rel: "next", Type: mediaGeoJSON})
	}
	return append(ls, link{Href: base + "/collections/" + id, Rel: "collection", Type: mediaJSON})
}

// maxOGCLimit is the largest page of the OGC endpoints.
func (s *Server) maxOGCLimit() int { return min(s.cfg.MaxLimit, parts.MaxLimit) }

// ogcItems serves a page of a collection's items.
func (s *Server) ogcItems(c echo.Context, reps *representatives) error {
	switch id := c.Param("id"); id {
	case collectionParts:
		return s.ogcPartItems(c, reps)
	case collectionGrids:
		return s.ogcGridItems(c)
	case collectionSensors:
		return s.ogcSensorItems(c)
	case collectionAlarms:
		return s.ogcAlarmItems(c)
	case collectionIncidents:
		return s.ogcIncidentItems(c)
	default:
		return unknownCollection(id)
	}
}

// ogcPartItems serves a page of components. The pages of the unfiltered
// collection start with its representatives (see ogc_mixed.go).
func (s *Server) ogcPartItems(c echo.Context, reps *representatives) error {
	q := c.QueryParams()
	if err := checkOGCQuery(q, ogcItemsParams, ogcPartFilters); err != nil {
		return err
	}
	b, _, berr := parseOGCBBox(q)
	limit, lerr := parseOGCLimit(q, s.cfg.DefaultLimit, s.maxOGCLimit())
	f, ferr := parseOGCPartFilter(q, s.twin.Catalogue())
	cursor, cerr := oneParam(q, "cursor")
	if err := joinInput(berr, lerr, ferr, cerr); err != nil {
		return err
	}
	plain := true
	for k := range q {
		if k != "f" && k != "limit" && k != "cursor" {
			plain = false
		}
	}
	var first []parts.Code // representatives listed first on this page
	var skip []parts.Code  // representatives left out of the code order
	if plain {
		if cursor == "" {
			if r := reps.get(); limit > len(r) {
				first, skip = r, r
			}
		} else if strings.HasPrefix(cursor, mixedCursorPrefix) {
			var err error
			if skip, cursor, err = decodeMixedCursor(cursor); err != nil {
				return err
			}
		}
	}
	ctx := c.Request().Context()
	who := principalOf(c)
	fs := make([]partFeature, 0, limit)
	for _, code := range first {
		if p, err := s.twin.Parts().Get(code); err == nil {
			fs = append(fs, featureOfPart(&p, who))
		}
	}
	// Fill the page in code order, leaving out the representatives (a
	// registry page that held some is followed by another).
	var page parts.Page
	for {
		var err error
		page, err = s.twin.Parts().Search(ctx, parts.Query{BBox: b, Filter: f, Limit: limit - len(fs), Cursor: cursor})
		if err != nil {
			return err
		}
		for i := range page.Parts {
			if !slices.Contains(skip, page.Parts[i].Code) {
				fs = append(fs, featureOfPart(&page.Parts[i], who))
			}
		}
		if page.Next == "" || len(fs) >= limit {
			break
		}
		cursor = page.Next
	}
	next := page.Next
	if len(skip) > 0 {
		next = encodeMixedCursor(skip, next)
	}
	fc := newCollection(fs)
	n := page.NumberMatched
	fc.NumberMatched = &n
	fc.Links = itemsLinks(c, collectionParts, q, next)
	return writeJSON(c, http.StatusOK, mediaGeoJSON, fc)
}

// ogcGridsRoute names the grid items query in its cursors.
const ogcGridsRoute = "ogc/grids/items"

func (s *Server) ogcGridItems(c echo.Context) error {
	q := c.QueryParams()
	if err := checkOGCQuery(q, ogcItemsParams, ogcGridFilters); err != nil {
		return err
	}
	b, _, berr := parseOGCBBox(q)
	limit, lerr := parseOGCLimit(q, s.cfg.DefaultLimit, s.maxOGCLimit())
	f, ferr := parseOGCGridFilter(q)
	cursor, cerr := oneParam(q, "cursor")
	if err := joinInput(berr, lerr, ferr, cerr); err != nil {
		return err
	}
	key := queryKey(ogcGridsRoute, q, nil)
	after, err := unwrapCursor(key, cursor)
	if err != nil {
		return err
	}
	var all []grid.Grid
	err = s.twin.Grids().Search(c.Request().Context(), b, func(g grid.Grid) bool {
		if (f.dept == "" || g.Dept == f.dept) && strings.HasPrefix(string(g.Code), f.prefix) {
			all = append(all, g)
		}
		return true
	})
	if err != nil {
		return err
	}
	slices.SortFunc(all, func(a, b grid.Grid) int { return strings.Compare(string(a.Code), string(b.Code)) })
	start := 0
	if after != "" {
		start = sort.Search(len(all), func(i int) bool { return string(all[i].Code) > after })
	}
	end := min(start+limit, len(all))
	fs := make([]gridFeature, 0, end-start)
	for i := start; i < end; i++ {
		fs = append(fs, featureOfGrid(&all[i]))
	}
	next := ""
	if end < len(all) {
		next = wrapCursor(key, string(all[end-1].Code))
	}
	fc := newCollection(fs)
	n := len(all)
	fc.NumberMatched = &n
	fc.Links = itemsLinks(c, collectionGrids, q, next)
	return writeJSON(c, http.StatusOK, mediaGeoJSON, fc)
}

// partItem and gridItem are single items with their links.
type partItem struct {
	partFeature
	Links []link `json:"links"`
}

type gridItem struct {
	gridFeature
	Links []link `json:"links"`
}

// ogcItem serves one item by its code. A code that is malformed is as
// unknown as a well-formed one that is not there: 404. A retired
// component is 410 Gone, as on /parts.
func (s *Server) ogcItem(c echo.Context) error {
	if err := checkOGCQuery(c.QueryParams()); err != nil {
		return err
	}
	id, code := c.Param("id"), c.Param("code")
	base := ogcBase(c)
	links := []link{
		{Href: base + "/collections/" + id + "/items/" + url.PathEscape(code), Rel: "self", Type: mediaGeoJSON},
		{Href: base + "/collections/" + id, Rel: "collection", Type: mediaJSON},
	}
	notFound := func(reason error) error {
		return newProblem(http.StatusNotFound, "not-found", fmt.Sprintf("no item %q in %s: %v", clipString(code), id, reason))
	}
	switch id {
	case collectionParts:
		pc, err := parts.ParseCode(code)
		if err != nil {
			return notFound(err)
		}
		p, err := s.twin.Parts().Get(pc)
		if err != nil {
			return err
		}
		c.Response().Header().Set("ETag", etag(p.Version))
		return writeJSON(c, http.StatusOK, mediaGeoJSON, partItem{featureOfPart(&p, principalOf(c)), links})
	case collectionGrids:
		gc, err := grid.ParseCode(code)
		if err != nil {
			return notFound(err)
		}
		g, err := s.twin.Grids().Get(gc)
		if err != nil {
			return err
		}
		c.Response().Header().Set("ETag", etag(g.Version))
		return writeJSON(c, http.StatusOK, mediaGeoJSON, gridItem{featureOfGrid(&g), links})
	}
	if ok, err := s.ogcLiveItem(c, id, code, links); ok {
		return err
	}
	return unknownCollection(id)
}
