package api

import (
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"

	"citytwin/sensors"
)

// alarmQueryParams are the parameters of GET /alarms.
var alarmQueryParams = []string{"state", "bbox", "kind", "code", "limit", "cursor"}

// alarmFeature is an alarm as a GeoJSON Feature at its component's place.
type alarmFeature struct {
	Type       string        `json:"type"`
	ID         string        `json:"id"`
	Geometry   *geometryJSON `json:"geometry"`
	Properties alarmProps    `json:"properties"`
}

// alarmProps are an alarm's properties. Peak and value are null only if
// they were not finite (they always are).
type alarmProps struct {
	ID       string   `json:"id"`
	Sensor   string   `json:"sensor"`
	Code     string   `json:"code"`
	Kind     string   `json:"kind"`
	Rule     int      `json:"rule"`
	RuleKind string   `json:"ruleKind"`
	State    string   `json:"state"`
	Raised   string   `json:"raised"`
	Updated  string   `json:"updated"`
	Cleared  string   `json:"cleared,omitempty"`
	Count    int      `json:"count"`
	Peak     *float64 `json:"peak"`
	Value    *float64 `json:"value"`
	Retired  bool     `json:"retired"`
	Reason   string   `json:"reason,omitempty"`
	Version  uint64   `json:"version"`
}

func alarmPropsOf(a *sensors.Alarm) alarmProps {
	return alarmProps{
		ID: a.ID, Sensor: string(a.Sensor), Code: a.Code.String(), Kind: string(a.Kind),
		Rule: a.Rule, RuleKind: string(a.RuleKind), State: string(a.State),
		Raised: sensorTime(a.Raised), Updated: sensorTime(a.Updated), Cleared: sensorTime(a.Cleared),
		Count: a.Count, Peak: finiteOrNil(a.Peak), Value: finiteOrNil(a.Value),
		Retired: a.Retired, Reason: a.Reason, Version: a.Version,
	}
}

// alarmFeatureOf places an alarm at its component (which may since have
// been retired).
func (s *Server) alarmFeatureOf(a *sensors.Alarm) alarmFeature {
	return alarmFeature{Type: "Feature", ID: a.ID, Geometry: s.placeOf(a.Code), Properties: alarmPropsOf(a)}
}

// listAlarms: GET /alarms?state=open|cleared&bbox=&kind=&code=&limit=&cursor=,
// in alarm id order with numberMatched and a next link. Open alarms, and
// the last cleared alarm of every rule of the sensors still registered
// (the engine keeps no more history than that).
func (a *sensorAPI) listAlarms(c echo.Context) error {
	q := c.QueryParams()
	if err := checkParams(q, alarmQueryParams); err != nil {
		return err
	}
	sq, key, qerr := a.parseSensorQuery(q, "/alarms")
	state, serr := oneParam(q, "state")
	if serr == nil && state != "" && state != string(sensors.AlarmOpen) && state != string(sensors.AlarmCleared) {
		serr = badInput("state", "%q is not open or cleared", clipString(state))
	}
	if err := joinInput(qerr, serr); err != nil {
		return err
	}
	eng := a.twin.Sensors()
	byID := map[string]sensors.Alarm{}
	add := func(al *sensors.Alarm) {
		switch {
		case len(sq.kinds) > 0 && !slices.Contains(sq.kinds, al.Kind):
			return
		case sq.code != 0 && al.Code != sq.code:
			return
		}
		if sq.hasBox {
			if pt, ok := pointOf(a.placeOf(al.Code)); !ok || !sq.bbox.Contains(pt) {
				return
			}
		}
		byID[al.ID] = *al
	}
	if state != string(sensors.AlarmCleared) {
		eng.EachAlarm(func(al sensors.Alarm) bool {
			add(&al)
			return true
		})
	}
	if state != string(sensors.AlarmOpen) {
		eng.Each(func(sn sensors.Sensor, _ sensors.Status) bool {
			if (len(sq.kinds) > 0 && !slices.Contains(sq.kinds, sn.Kind)) || (sq.code != 0 && sn.Code != sq.code) {
				return true
			}
			for i := range sn.Rules {
				if al, ok := eng.Alarm(sensors.AlarmID(sn.ID, i)); ok && al.State == sensors.AlarmCleared {
					add(&al)
				}
			}
			return true
		})
	}
	ids := make([]string, 0, len(byID))
	for id := range byID {
		ids = append(ids, id)
	}
	matched := len(ids)
	page, next := sq.page(ids)
	fs := make([]alarmFeature, len(page))
	for i, id := range page {
		al := byID[id]
		fs[i] = a.alarmFeatureOf(&al)
	}
	fc := newCollection(fs)
	fc.NumberMatched = &matched
	fc.Links = pageLinks(c, wrapCursor(key, next))
	return writeJSON(c, http.StatusOK, mediaGeoJSON, fc)
}
