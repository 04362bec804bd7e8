package api

import (
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"citytwin/incidents"
)

// caseQueryParams are the parameters of GET /incidents.
var caseQueryParams = []string{"state", "dept", "class", "type", "grid", "bbox", "overdue", "limit", "cursor"}

// listIncidents: GET /incidents?state=&dept=&class=&type=&grid=&bbox=&overdue=&limit=&cursor=
// as a GeoJSON FeatureCollection in id order (without histories), with
// numberMatched and a next link while more remain.
func (a *caseAPI) listIncidents(c echo.Context) error {
	q := c.QueryParams()
	if err := checkParams(q, caseQueryParams); err != nil {
		return err
	}
	cq, err := a.parseCaseQuery(q)
	if err != nil {
		return err
	}
	key := queryKey("/incidents", q, nil)
	if cq.Cursor, err = unwrapCursor(key, cq.Cursor); err != nil {
		return err
	}
	page, err := a.twin.Cases().Search(c.Request().Context(), cq)
	if err != nil {
		return err
	}
	who := principalOf(c)
	fs := make([]caseFeature, len(page.Cases))
	for i := range page.Cases {
		fs[i] = a.featureOfCase(&page.Cases[i], who, cq.Now, false)
	}
	fc := newCollection(fs)
	n := page.Matched
	fc.NumberMatched = &n
	fc.Links = pageLinks(c, wrapCursor(key, page.Next))
	return writeJSON(c, http.StatusOK, mediaGeoJSON, fc)
}

// parseCaseQuery reads the filters, collecting every bad parameter.
func (a *caseAPI) parseCaseQuery(q url.Values) (incidents.Query, error) {
	cq := incidents.Query{Now: a.now()}
	var errs []error
	for _, s := range listParam(q, "state") {
		st, err := incidents.ParseState(s)
		if err != nil {
			errs = append(errs, badInput("state", "%q is not one of %v", clipString(s), incidents.States()))
			continue
		}
		cq.States = append(cq.States, st)
	}
	one := func(key string) string {
		v, err := oneParam(q, key)
		errs = append(errs, err)
		return v
	}
	cq.Dept = one("dept")
	if v := one("class"); v != "" {
		if len(v) != 4 || !isGridPrefix(v) {
			errs = append(errs, badInput("class", "%q is not a 4-digit class", clipString(v)))
		}
		cq.Class = v
	}
	if v := one("type"); v != "" {
		t, err := incidents.ParseType(v)
		if err != nil {
			errs = append(errs, badInput("type", "%q is not component or event", clipString(v)))
		}
		cq.Type = t
	}
	if v := one("grid"); v != "" {
		if !isGridPrefix(v) {
			errs = append(errs, badInput("grid", "%q is not a grid code prefix (6 district, 9 street, 12 community or 14-15 grid digits)", clipString(v)))
		}
		cq.Grid = v
	}
	if v := one("bbox"); v != "" {
		b, err := parseBBox(v)
		errs = append(errs, err)
		cq.Bound = &b
	}
	switch v := one("overdue"); v {
	case "":
	case "true", "false":
		od := v == "true"
		cq.Overdue = &od
	default:
		errs = append(errs, badInput("overdue", "%q is not true or false", clipString(v)))
	}
	limit, err := parseLimit(q, min(a.cfg.DefaultLimit, incidents.MaxLimit), min(a.cfg.MaxLimit, incidents.MaxLimit))
	errs = append(errs, err)
	cq.Limit = limit
	cq.Cursor = one("cursor")
	if err := joinInput(errs...); err != nil {
		return incidents.Query{}, err
	}
	return cq, nil
}
