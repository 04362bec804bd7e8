package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/paulmach/orb"

	"citytwin/parts"
)

// registerParts registers the component routes under /parts.
func (s *Server) registerParts(g *echo.Group, mw ...echo.MiddlewareFunc) {
	// The middleware is applied here, once, not by echo on every request.
	g.GET("", withMiddleware(s.listParts, mw...))
	g.GET("/nearest", withMiddleware(s.nearestParts, mw...))
	g.GET("/counts", withMiddleware(s.countParts, mw...))
	g.POST("/within", withMiddleware(s.withinParts, mw...))
	g.POST("/changes", withMiddleware(s.changeParts, mw...))
	g.POST("", withMiddleware(s.addPart, mw...))
	g.GET("/:code", withMiddleware(s.getPart, mw...))
	g.PATCH("/:code", withMiddleware(s.patchPart, mw...))
	g.DELETE("/:code", withMiddleware(s.retirePart, mw...))
}

// joinInput merges the *InputErrors among errs into one; any other error
// is returned as is, first.
func joinInput(errs ...error) error {
	var all []FieldReason
	for _, err := range errs {
		if err == nil {
			continue
		}
		var in *InputError
		if !errors.As(err, &in) {
			return err
		}
		all = append(all, in.Errors...)
	}
	if len(all) > 0 {
		return &InputError{Errors: all}
	}
	return nil
}

// absURL builds an absolute URL on the request's own scheme and host.
func absURL(c echo.Context, path string, q url.Values) string {
	u := url.URL{Scheme: c.Scheme(), Host: c.Request().Host, Path: path}
	if len(q) > 0 {
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// pageLinks are the self link and, with a next cursor, the next link.
func pageLinks(c echo.Context, next string) []link {
	q := c.QueryParams()
	links := []link{{Href: absURL(c, c.Request().URL.Path, q), Rel: "self", Type: mediaGeoJSON}}
	if next != "" {
		nq := url.Values{}
		for k, v := range q {
			nq[k] = v
		}
		nq.Set("cursor", next)
		links = append(links, link{Href: absURL(c, c.Request().URL.Path, nq), Rel: "next", Type: mediaGeoJSON})
	}
	return links
}

func parseCodeParam(c echo.Context) (parts.Code, error) {
	code, err := parts.ParseCode(c.Param("code"))
	if err != nil {
		return 0, err
	}
	return code, nil
}

// notModified reports whether If-None-Match names the entity tag (weak
// comparison).
func notModified(c echo.Context, tag string) bool {
	inm := c.Request().Header.Get(headerIfNoneMatch)
	if inm == "" {
		return false
	}
	for _, t := range strings.Split(inm, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == strings.TrimPrefix(tag, "W/") {
			return true
		}
	}
	return false
}

// getPart: GET /parts/{code}. A retired component is 410 Gone.
func (s *Server) getPart(c echo.Context) error {
	if c.QueryString() != "" { // no query: no url.Values to make
		if err := checkParams(c.QueryParams()); err != nil {
			return err
		}
	}
	code, err := parseCodeParam(c)
	if err != nil {
		return err
	}
	p, err := s.twin.Parts().Get(code)
	if err != nil {
		return err
	}
	return s.writePart(c, http.StatusOK, &p)
}

func (s *Server) writePart(c echo.Context, status int, p *parts.Part) error {
	tag := etag(p.Version)
	c.Response().Header().Set(headerETag, tag)
	if status == http.StatusOK && c.Request().Method == http.MethodGet && notModified(c, tag) {
		return c.NoContent(http.StatusNotModified)
	}
	buf := s.bufs.get()
	defer s.bufs.put(buf)
	*buf = appendPart((*buf)[:0], p, principalOf(c), nil, true)
	return writeBytes(c, status, mediaGeoJSON, *buf)
}

// listParts: GET /parts?codes=... (a batch) or GET /parts?bbox=&<filter>&limit=&cursor=.
func (s *Server) listParts(c echo.Context) error {
	q := c.QueryParams()
	if _, ok := q["codes"]; ok {
		if err := checkParams(q, []string{"codes"}); err != nil {
			return joinInput(err, badInput("codes", "codes cannot be combined with other parameters"))
		}
		return s.batchParts(c, listParam(q, "codes"))
	}
	if err := checkParams(q, filterParams, []string{"bbox", "limit", "cursor"}); err != nil {
		return err
	}
	f, ferr := parseFilter(q, s.twin.Catalogue())
	b, berr := world, error(nil)
	if v, err := oneParam(q, "bbox"); err != nil {
		berr = err
	} else if v != "" {
		b, berr = parseBBox(v)
	}
	limit, lerr := parseLimit(q, s.cfg.DefaultLimit, s.cfg.MaxLimit)
	key := queryKey("/parts", q, nil)
	cur, cerr := oneParam(q, "cursor")
	if cerr == nil {
		cur, cerr = unwrapCursor(key, cur)
	}
	if err := joinInput(ferr, berr, lerr, cerr); err != nil {
		return err
	}
	ctx := c.Request().Context()
	var page parts.Page
	search := func() (err error) {
		page, err = s.twin.Parts().Search(ctx, parts.Query{BBox: b, Filter: f, Limit: limit, Cursor: cur})
		return err
	}
	var err error
	if s.heavyBox(b) {
		err = s.heavy(ctx, c.Path(), search)
	} else {
		err = search()
	}
	if err != nil {
		return err
	}
	return s.writePage(c, page, key)
}

// writePage answers with a page of components, written straight into a
// pooled buffer (appendPage).
func (s *Server) writePage(c echo.Context, page parts.Page, key uint64) error {
	buf := s.bufs.get()
	defer s.bufs.put(buf)
	b, err := appendPage((*buf)[:0], &page, principalOf(c), pageLinks(c, wrapCursor(key, page.Next)), time.Now())
	if err != nil {
		return err
	}
	*buf = b
	return writeBytes(c, http.StatusOK, mediaGeoJSON, b)
}

// batchParts answers GET /parts?codes=a,b,c: the components found, in the
// order asked, and the codes unknown or retired in "missing".
func (s *Server) batchParts(c echo.Context, codes []string) error {
	if len(codes) == 0 {
		return badInput("codes", "give at least one code")
	}
	if len(codes) > s.cfg.MaxCodes {
		return badInput("codes", "%d codes, more than the maximum of %d", len(codes), s.cfg.MaxCodes)
	}
	var errs []FieldReason
	parsed := make([]parts.Code, 0, len(codes))
	for _, v := range codes {
		code, err := parts.ParseCode(v)
		if err != nil {
			errs = append(errs, FieldReason{Field: "codes", Reason: err.Error()})
			continue
		}
		if !slices.Contains(parsed, code) {
			parsed = append(parsed, code)
		}
	}
	if len(errs) > 0 {
		return &InputError{Errors: errs}
	}
	who := principalOf(c)
	fs := make([]partFeature, 0, len(parsed))
	var missing []string
	// One read lock for the batch: a bulk change is seen whole or not at all.
	ps, perrs := s.twin.Parts().GetAll(parsed)
	for i, code := range parsed {
		switch err := perrs[i]; {
		case err == nil:
			fs = append(fs, featureOfPart(&ps[i], who))
		case errors.Is(err, parts.ErrNotFound), errors.Is(err, parts.ErrRetired):
			missing = append(missing, code.String())
		default:
			return err
		}
	}
	fc := newCollection(fs)
	n := len(fs)
	fc.NumberMatched = &n
	fc.Missing = missing
	return writeJSON(c, http.StatusOK, mediaGeoJSON, fc)
}

// nearestParts: GET /parts/nearest?lon=&lat=&k=&max_distance=&<filter>,
// nearest first, each with its distance in metres.
func (s *Server) nearestParts(c echo.Context) error {
	q := c.QueryParams()
	if err := checkParams(q, filterParams, []string{"lon", "lat", "k", "max_distance"}); err != nil {
		return err
	}
	pt, perr := parseLonLat(q)
	f, ferr := parseFilter(q, s.twin.Catalogue())
	k, kerr := 10, error(nil)
	if v, err := oneParam(q, "k"); err != nil {
		kerr = err
	} else if v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			kerr = badInput("k", "%q is not a whole number from 1 to %d", clipString(v), s.cfg.MaxK)
		} else if n > s.cfg.MaxK {
			kerr = badInput("k", "%d is more than the maximum of %d", n, s.cfg.MaxK)
		} else {
			k = n
		}
	}
	maxDist, derr := 0.0, error(nil)
	if v, err := oneParam(q, "max_distance"); err != nil {
		derr = err
	} else if v != "" {
		var err error
		if maxDist, err = strconv.ParseFloat(v, 64); err != nil || !(maxDist > 0) || maxDist > 2.1e7 {
			derr = badInput("max_distance", "%q is not a distance in metres above 0", clipString(v))
		}
	}
	if err := joinInput(perr, ferr, kerr, derr); err != nil {
		return err
	}
	ns, err := s.twin.Parts().Nearest(c.Request().Context(), pt, k, f, maxDist)
	if err != nil {
		return err
	}
	buf := s.bufs.get()
	defer s.bufs.put(buf)
	*buf = appendNearest((*buf)[:0], ns, principalOf(c), time.Now())
	return writeBytes(c, http.StatusOK, mediaGeoJSON, *buf)
}

// withinParts: POST /parts/within with a Polygon or MultiPolygon (or a
// Feature of one) as the body; filter and paging from the query.
func (s *Server) withinParts(c echo.Context) error {
	q := c.QueryParams()
	if err := checkParams(q, filterParams, []string{"limit", "cursor"}); err != nil {
		return err
	}
	body, err := readBody(c)
	if err != nil {
		return err
	}
	area, err := decodeArea(body, s.cfg.MaxVertices)
	if err != nil {
		return err
	}
	f, ferr := parseFilter(q, s.twin.Catalogue())
	limit, lerr := parseLimit(q, s.cfg.DefaultLimit, s.cfg.MaxLimit)
	canon, _ := json.Marshal(geometryOf(area))
	key := queryKey("/parts/within", q, canon)
	cur, cerr := oneParam(q, "cursor")
	if cerr == nil {
		cur, cerr = unwrapCursor(key, cur)
	}
	if err := joinInput(ferr, lerr, cerr); err != nil {
		return err
	}
	var page parts.Page
	ctx := c.Request().Context()
	err = s.heavy(ctx, c.Path(), func() (err error) {
		page, err = s.twin.Parts().Within(ctx, area, f, limit, cur)
		return err
	})
	if err != nil {
		return err
	}
	return s.writePage(c, page, key)
}

// decodeArea reads a query area: a Polygon or MultiPolygon geometry, or a
// Feature holding one, simple (no self-intersection) and within max vertices.
func decodeArea(body []byte, max int) (orb.Geometry, error) {
	m, err := decodeJSONObject(body, "the area")
	if err != nil {
		return nil, err
	}
	var typ string
	_ = json.Unmarshal(m["type"], &typ)
	var g orb.Geometry
	if typ == "Feature" {
		f, err := featureFromMembers(m, false, "")
		if err != nil {
			return nil, err
		}
		g = f.Geometry
	} else {
		g, err = decodeGeometry(body)
		if err != nil {
			return nil, err
		}
	}
	switch g.(type) {
	case orb.Polygon, orb.MultiPolygon:
	case nil:
		return nil, badInput("geometry", "missing; send a Polygon or MultiPolygon")
	default:
		return nil, badInput("geometry", "a %s has no area; send a Polygon or MultiPolygon", g.GeoJSONType())
	}
	if err := checkSimple(g, max); err != nil {
		return nil, err
	}
	return g, nil
}

// classCount is one row of GET /parts/counts.
type classCount struct {
	Class string `json:"class,omitempty"`
	Major string `json:"major,omitempty"`
	Name  string `json:"name,omitempty"`
	Count int    `json:"count"`
}

type countsDoc struct {
	By     string       `json:"by"`
	BBox   []float64    `json:"bbox,omitempty"`
	Grid   string       `json:"grid,omitempty"`
	Total  int          `json:"total"`
	Counts []classCount `json:"counts"`
}

// majorNames are the major classes of the standard.
var majorNames = map[int]string{1: "公用设施", 2: "道路交通", 3: "市容环境", 4: "园林绿化", 5: "房屋土地", 6: "其他设施"}

// countParts: GET /parts/counts?by=class|major&grid=<prefix>&bbox=&<filter>.
func (s *Server) countParts(c echo.Context) error {
	q := c.QueryParams()
	if err := checkParams(q, filterParams, []string{"by", "bbox"}); err != nil {
		return err
	}
	f, ferr := parseFilter(q, s.twin.Catalogue())
	by, byErr := oneParam(q, "by")
	if byErr == nil {
		switch by {
		case "":
			by = "class"
		case "class", "major":
		default:
			byErr = badInput("by", "%q is not class or major", clipString(by))
		}
	}
	b, berr := world, error(nil)
	hasBBox := false
	if v, err := oneParam(q, "bbox"); err != nil {
		berr = err
	} else if v != "" {
		b, berr = parseBBox(v)
		hasBBox = true
	}
	if err := joinInput(ferr, byErr, berr); err != nil {
		return err
	}
	var counts []parts.ClassCount
	ctx := c.Request().Context()
	count := func() (err error) {
		counts, err = s.twin.Parts().CountClasses(ctx, b, f)
		return err
	}
	var err error
	if s.heavyBox(b) {
		err = s.heavy(ctx, c.Path(), count)
	} else {
		err = count()
	}
	if err != nil {
		return err
	}
	doc := countsDoc{By: by, Grid: f.GridPrefix}
	if hasBBox {
		doc.BBox = []float64{b.Min[0], b.Min[1], b.Max[0], b.Max[1]}
	}
	cat := s.twin.Catalogue()
	var majors [100]int // majors of 4-digit classes: 0-99
	rows := make([]classCount, 0, len(counts))
	for _, cc := range counts {
		doc.Total += cc.Count
		majors[cc.Class.Major()] += cc.Count
		if by == "class" {
			row := classCount{Class: string(appendClassDigits(nil, cc.Class)), Count: cc.Count}
			if ci, ok := cat.Lookup(cc.Class); ok {
				row.Name = ci.Name
			}
			rows = append(rows, row)
		}
	}
	if by != "class" {
		for m, n := range majors {
			if n > 0 {
				rows = append(rows, classCount{Major: string([]byte{byte('0' + m/10), byte('0' + m%10)}), Name: majorNames[m], Count: n})
			}
		}
	}
	doc.Counts = rows
	buf := s.bufs.get()
	defer s.bufs.put(buf)
	*buf = appendCountsDoc((*buf)[:0], &doc)
	return writeBytes(c, http.StatusOK, mediaJSON, *buf)
}
