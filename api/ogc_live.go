package api

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/paulmach/orb"

	"citytwin/incidents"
	"citytwin/sensors"
)

// The live collections of the OGC endpoints: sensors at their
// component's place, open alarms, and open cases.
const (
	collectionSensors   = "sensors"
	collectionAlarms    = "alarms"
	collectionIncidents = "incidents"
)

// ogcCollectionIDs lists every collection, in the order /collections
// gives them.
var ogcCollectionIDs = []string{collectionParts, collectionGrids, collectionSensors, collectionAlarms, collectionIncidents}

// ogcSensorFeature is a sensor as an OGC item: flat properties, so that
// GDAL and QGIS read them as fields.
type ogcSensorFeature struct {
	Type       string        `json:"type"`
	ID         string        `json:"id"`
	Geometry   *geometryJSON `json:"geometry"`
	Properties struct {
		ID       string   `json:"id"`
		Kind     string   `json:"kind"`
		KindName string   `json:"kind_name"`
		Unit     string   `json:"unit"`
		Code     string   `json:"code"`
		Online   bool     `json:"online"`
		Value    *float64 `json:"value"`
		Time     *string  `json:"time"`
		Readings uint64   `json:"readings"`
		Alarm    string   `json:"alarm"` // none, open or retired
		Alarms   int      `json:"alarms"`
		Version  uint64   `json:"version"`
	} `json:"properties"`
}

func (s *Server) ogcSensorOf(id sensors.ID) (ogcSensorFeature, bool) {
	eng := s.twin.Sensors()
	sn, st, ok := eng.Get(id)
	if !ok {
		return ogcSensorFeature{}, false
	}
	f := ogcSensorFeature{Type: "Feature", ID: string(id)}
	if pt, ok := s.twin.SensorAt(id); ok {
		f.Geometry = geometryOf(pt)
	}
	p := &f.Properties
	p.ID, p.Kind, p.KindName, p.Unit, p.Code = string(sn.ID), string(sn.Kind), string(sn.Kind), sn.Unit, sn.Code.String()
	if ki, ok := sensors.LookupKind(sn.Kind); ok && ki.Name != "" {
		p.KindName = ki.Name
	}
	p.Online, p.Readings, p.Version = st.Online, st.Readings, sn.Version
	if !st.Time.IsZero() {
		t := sensorTime(st.Time)
		p.Time, p.Value = &t, finiteOrNil(st.Value)
	}
	open := eng.Alarms(id)
	p.Alarms, p.Alarm = len(open), "none"
	if len(open) > 0 {
		p.Alarm = "retired"
		if slices.ContainsFunc(open, func(a sensors.Alarm) bool { return !a.Retired }) {
			p.Alarm = "open"
		}
	}
	return f, true
}

// pageByID returns the page of ids (sorted) after the cursor's id, and the
// cursor of the next page ("" on the last).
func pageByID(ids []string, key uint64, cursor string, limit int) ([]string, string, error) {
	after, err := unwrapCursor(key, cursor)
	if err != nil {
		return nil, "", err
	}
	start := 0
	if after != "" {
		start = sort.SearchStrings(ids, after)
		if start < len(ids) && ids[start] == after {
			start++
		}
	}
	end := min(start+limit, len(ids))
	next := ""
	if end < len(ids) {
		next = wrapCursor(key, ids[end-1])
	}
	return ids[start:end], next, nil
}

// ogcLiveQuery is what the items of a live collection take: bbox, limit
// and cursor.
type ogcLiveQuery struct {
	bbox   orb.Bound
	hasBox bool
	limit  int
	cursor string
	key    uint64
}

func (s *Server) parseOGCLive(c echo.Context, id string) (ogcLiveQuery, error) {
	q := c.QueryParams()
	if err := checkOGCQuery(q, ogcItemsParams); err != nil {
		return ogcLiveQuery{}, err
	}
	b, has, berr := parseOGCBBox(q)
	limit, lerr := parseOGCLimit(q, s.cfg.DefaultLimit, s.maxOGCLimit())
	cursor, cerr := oneParam(q, "cursor")
	if err := joinInput(berr, lerr, cerr); err != nil {
		return ogcLiveQuery{}, err
	}
	return ogcLiveQuery{bbox: b, hasBox: has, limit: limit, cursor: cursor, key: queryKey("ogc/"+id+"/items", q, nil)}, nil
}

// sensorIDsIn returns the sensors placed in the query's box (every sensor
// without one), sorted.
func (s *Server) sensorIDsIn(ctx context.Context, lq *ogcLiveQuery) ([]string, error) {
	var ids []string
	if lq.hasBox {
		err := s.twin.SearchSensors(ctx, lq.bbox, func(id sensors.ID, _ orb.Point) bool {
			ids = append(ids, string(id))
			return true
		})
		if err != nil {
			return nil, err
		}
	} else {
		s.twin.Sensors().Each(func(sn sensors.Sensor, _ sensors.Status) bool {
			ids = append(ids, string(sn.ID))
			return true
		})
	}
	slices.Sort(ids)
	return ids, nil
}

func (s *Server) ogcSensorItems(c echo.Context) error {
	lq, err := s.parseOGCLive(c, collectionSensors)
	if err != nil {
		return err
	}
	ids, err := s.sensorIDsIn(c.Request().Context(), &lq)
	if err != nil {
		return err
	}
	page, next, err := pageByID(ids, lq.key, lq.cursor, lq.limit)
	if err != nil {
		return err
	}
	fs := make([]ogcSensorFeature, 0, len(page))
	for _, id := range page {
		if f, ok := s.ogcSensorOf(sensors.ID(id)); ok {
			fs = append(fs, f)
		}
	}
	fc := newCollection(fs)
	n := len(ids)
	fc.NumberMatched = &n
	fc.Links = itemsLinks(c, collectionSensors, c.QueryParams(), next)
	return writeJSON(c, http.StatusOK, mediaGeoJSON, fc)
}

// ogcAlarmItems lists the open alarms whose sensor is in the box.
func (s *Server) ogcAlarmItems(c echo.Context) error {
	lq, err := s.parseOGCLive(c, collectionAlarms)
	if err != nil {
		return err
	}
	eng := s.twin.Sensors()
	byID := map[string]sensors.Alarm{}
	eng.EachAlarm(func(a sensors.Alarm) bool {
		if a.State == sensors.AlarmOpen {
			byID[a.ID] = a
		}
		return true
	})
	ids := make([]string, 0, len(byID))
	for id, a := range byID {
		if lq.hasBox {
			if pt, ok := s.twin.SensorAt(a.Sensor); !ok || !lq.bbox.Contains(pt) {
				continue
			}
		}
		ids = append(ids, id)
	}
	slices.Sort(ids)
	page, next, err := pageByID(ids, lq.key, lq.cursor, lq.limit)
	if err != nil {
		return err
	}
	fs := make([]alarmFeature, len(page))
	for i, id := range page {
		a := byID[id]
		fs[i] = s.ogcAlarmFeature(&a)
	}
	fc := newCollection(fs)
	n := len(ids)
	fc.NumberMatched = &n
	fc.Links = itemsLinks(c, collectionAlarms, c.QueryParams(), next)
	return writeJSON(c, http.StatusOK, mediaGeoJSON, fc)
}

// ogcAlarmFeature places an alarm at its sensor (at its component when the
// sensor is gone).
func (s *Server) ogcAlarmFeature(a *sensors.Alarm) alarmFeature {
	f := s.alarmFeatureOf(a)
	if pt, ok := s.twin.SensorAt(a.Sensor); ok {
		f.Geometry = geometryOf(pt)
	}
	return f
}

// ogcIncidentItems lists the open cases in the box, in case id order.
func (s *Server) ogcIncidentItems(c echo.Context) error {
	lq, err := s.parseOGCLive(c, collectionIncidents)
	if err != nil {
		return err
	}
	var open []incidents.State
	for _, st := range incidents.States() {
		if st.Open() {
			open = append(open, st)
		}
	}
	now := s.twin.Now()
	cq := incidents.Query{States: open, Now: now, Limit: min(lq.limit, incidents.MaxLimit)}
	if lq.hasBox {
		cq.Bound = &lq.bbox
	}
	if cq.Cursor, err = unwrapCursor(lq.key, lq.cursor); err != nil {
		return err
	}
	page, err := s.twin.Cases().Search(c.Request().Context(), cq)
	if err != nil {
		return err
	}
	a := &caseAPI{Server: s, now: s.twin.Now}
	who := principalOf(c)
	fs := make([]caseFeature, len(page.Cases))
	for i := range page.Cases {
		fs[i] = a.featureOfCase(&page.Cases[i], who, now, false)
	}
	fc := newCollection(fs)
	n := page.Matched
	fc.NumberMatched = &n
	fc.Links = itemsLinks(c, collectionIncidents, c.QueryParams(), wrapCursor(lq.key, page.Next))
	return writeJSON(c, http.StatusOK, mediaGeoJSON, fc)
}

// ogcLiveItem serves one item of a live collection; false when id is not
// one of them.
func (s *Server) ogcLiveItem(c echo.Context, id, item string, links []link) (bool, error) {
	notFound := func(what string) error {
		return newProblem(http.StatusNotFound, "not-found", fmt.Sprintf("no %s %q in %s", what, clipString(item), id))
	}
	switch id {
	case collectionSensors:
		f, ok := s.ogcSensorOf(sensors.ID(item))
		if !ok {
			return true, notFound("sensor")
		}
		return true, writeJSON(c, http.StatusOK, mediaGeoJSON, struct {
			ogcSensorFeature
			Links []link `json:"links"`
		}{f, links})
	case collectionAlarms:
		a, ok := s.twin.Sensors().Alarm(item)
		if !ok || !strings.Contains(item, "#") {
			return true, notFound("alarm")
		}
		return true, writeJSON(c, http.StatusOK, mediaGeoJSON, struct {
			alarmFeature
			Links []link `json:"links"`
		}{s.ogcAlarmFeature(&a), links})
	case collectionIncidents:
		k, err := s.twin.Cases().Get(incidents.ID(item))
		if err != nil {
			return true, notFound("case")
		}
		a := &caseAPI{Server: s, now: s.twin.Now}
		c.Response().Header().Set(headerETag, etag(k.Version))
		return true, writeJSON(c, http.StatusOK, mediaGeoJSON, struct {
			caseFeature
			Links []link `json:"links"`
		}{a.featureOfCase(&k, principalOf(c), s.twin.Now(), false), links})
	}
	return false, nil
}

// liveCollectionInfo describes a live collection; false for another id.
func liveCollectionInfo(ci *collectionInfo) bool {
	switch ci.ID {
	case collectionSensors:
		ci.Title = "Sensors (感知设备)"
		ci.Description = "Sensors bound to components, at their component's place, with their last reading, " +
			"whether they are online and their alarm state (none, open, or retired: open only because the component was retired)."
	case collectionAlarms:
		ci.Title = "Open alarms (告警)"
		ci.Description = "The open alarms of the sensors, one per sensor and rule, at the sensor's place."
	case collectionIncidents:
		ci.Title = "Open cases (案卷)"
		ci.Description = "Cases not yet closed or rejected, at their location, with their state, department and whether they are overdue."
	default:
		return false
	}
	return true
}
