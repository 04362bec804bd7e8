package api

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/paulmach/orb"

	"citytwin/parts"
	"citytwin/sensors"
)

// sensorQueryParams are the parameters of GET /sensors.
var sensorQueryParams = []string{"bbox", "kind", "code", "alarm", "limit", "cursor"}

// sensorQuery is a parsed GET /sensors or GET /alarms query.
type sensorQuery struct {
	bbox   orb.Bound
	hasBox bool
	kinds  []sensors.Kind
	code   parts.Code
	limit  int
	cursor string // the last id of the previous page
}

// parseSensorQuery reads bbox, kind (comma-separated, from the catalogue),
// code, limit and cursor, collecting every bad parameter.
func (s *Server) parseSensorQuery(q url.Values, route string) (sensorQuery, uint64, error) {
	var sq sensorQuery
	var errs []error
	if v, err := oneParam(q, "bbox"); err != nil {
		errs = append(errs, err)
	} else if v != "" {
		sq.bbox, err = parseBBox(v)
		sq.hasBox = err == nil
		errs = append(errs, err)
	}
	for _, k := range listParam(q, "kind") {
		if _, ok := sensors.LookupKind(sensors.Kind(k)); !ok {
			var known []string
			for _, ki := range sensors.Kinds() {
				known = append(known, string(ki.Kind))
			}
			errs = append(errs, badInput("kind", "%q is not a sensor kind (%s)", clipString(k), strings.Join(known, ", ")))
			continue
		}
		sq.kinds = append(sq.kinds, sensors.Kind(k))
	}
	if v, err := oneParam(q, "code"); err != nil {
		errs = append(errs, err)
	} else if v != "" {
		code, err := parts.ParseCode(v)
		if err != nil {
			errs = append(errs, badInput("code", "%v", err))
		}
		sq.code = code
	}
	var err error
	sq.limit, err = parseLimit(q, s.cfg.DefaultLimit, s.cfg.MaxLimit)
	errs = append(errs, err)
	key := queryKey(route, q, nil)
	cur, err := oneParam(q, "cursor")
	if err == nil {
		cur, err = unwrapCursor(key, cur)
	}
	sq.cursor = cur
	errs = append(errs, err)
	if err := joinInput(errs...); err != nil {
		return sensorQuery{}, 0, err
	}
	return sq, key, nil
}

// page sorts the matching ids and returns those after the cursor, at most
// limit, and the next cursor ("" on the last page).
func (sq *sensorQuery) page(ids []string) ([]string, string) {
	slices.Sort(ids)
	i, _ := slices.BinarySearch(ids, sq.cursor)
	if i < len(ids) && sq.cursor != "" && ids[i] == sq.cursor {
		i++
	}
	ids = ids[i:]
	if len(ids) > sq.limit {
		return ids[:sq.limit], ids[sq.limit-1]
	}
	return ids, ""
}

// listSensors: GET /sensors?bbox=&kind=&code=&alarm=open|none&limit=&cursor=,
// in id order, with numberMatched and a next link. The cursor is the last
// id of the page, so paging stays stable while sensors come and go.
func (a *sensorAPI) listSensors(c echo.Context) error {
	q := c.QueryParams()
	if err := checkParams(q, sensorQueryParams); err != nil {
		return err
	}
	sq, key, qerr := a.parseSensorQuery(q, "/sensors")
	alarm, aerr := oneParam(q, "alarm")
	if aerr == nil && alarm != "" && alarm != "open" && alarm != "none" {
		aerr = badInput("alarm", "%q is not open or none", clipString(alarm))
	}
	if err := joinInput(qerr, aerr); err != nil {
		return err
	}
	eng := a.twin.Sensors()
	var alarmed map[sensors.ID]bool
	if alarm != "" {
		alarmed = map[sensors.ID]bool{}
		eng.EachAlarm(func(al sensors.Alarm) bool {
			if al.State == sensors.AlarmOpen {
				alarmed[al.Sensor] = true
			}
			return true
		})
	}
	match := func(sn *sensors.Sensor) bool {
		switch {
		case len(sq.kinds) > 0 && !slices.Contains(sq.kinds, sn.Kind):
			return false
		case sq.code != 0 && sn.Code != sq.code:
			return false
		case alarm == "open" && !alarmed[sn.ID], alarm == "none" && alarmed[sn.ID]:
			return false
		}
		return true
	}
	var ids []string
	switch {
	case sq.code != 0:
		for _, id := range eng.ByCode(sq.code) {
			if sn, _, ok := eng.Get(id); ok && match(&sn) && a.inBox(&sq, id) {
				ids = append(ids, string(id))
			}
		}
	case sq.hasBox:
		err := a.twin.SearchSensors(c.Request().Context(), sq.bbox, func(id sensors.ID, _ orb.Point) bool {
			if sn, _, ok := eng.Get(id); ok && match(&sn) {
				ids = append(ids, string(id))
			}
			return true
		})
		if err != nil {
			return err
		}
	default:
		eng.Each(func(sn sensors.Sensor, _ sensors.Status) bool {
			if match(&sn) {
				ids = append(ids, string(sn.ID))
			}
			return true
		})
	}
	matched := len(ids)
	page, next := sq.page(ids)
	fs := make([]sensorFeature, 0, len(page))
	for _, id := range page {
		if f := a.sensorFeatureOf(sensors.ID(id)); f.Properties.ID != "" {
			fs = append(fs, f)
		}
	}
	fc := newCollection(fs)
	fc.NumberMatched = &matched
	fc.Links = pageLinks(c, wrapCursor(key, next))
	return writeJSON(c, http.StatusOK, mediaGeoJSON, fc)
}

// inBox reports whether sensor id is in the query's box (always without
// one).
func (a *sensorAPI) inBox(sq *sensorQuery, id sensors.ID) bool {
	if !sq.hasBox {
		return true
	}
	pt, ok := a.twin.SensorAt(id)
	return ok && sq.bbox.Contains(pt)
}
