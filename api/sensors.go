package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/paulmach/orb"

	"citytwin/incidents"
	"citytwin/parts"
	"citytwin/sensors"
	"citytwin/twin"
)

// sensorAPI serves /sensors, /readings and /alarms. It carries what those
// handlers share beyond the Server: a pool of ingesters (a twin.Ingester
// is not safe for concurrent use) and the readings metrics.
type sensorAPI struct {
	*Server
	ingesters sync.Pool // *twin.Ingester
	m         *sensorMetrics
}

// registerSensors registers the sensor routes (/sensors), the readings
// intake (/readings) and the alarm list (/alarms).
func (s *Server) registerSensors(e *echo.Echo, mw ...echo.MiddlewareFunc) {
	a := &sensorAPI{Server: s, m: newSensorMetrics(s.metrics, s.twin)}
	a.ingesters.New = func() any { return s.twin.NewIngester() }
	g := e.Group("/sensors")
	g.GET("", a.listSensors, mw...)
	g.POST("", a.postSensors, mw...)
	g.GET("/:id", a.getSensor, mw...)
	g.PUT("/:id", a.putSensor, mw...)
	g.DELETE("/:id", a.deleteSensor, mw...)
	e.POST("/readings", a.postReadings, mw...)
	e.GET("/alarms", a.listAlarms, mw...)
}

// sensorWriterOf returns the request's principal when its role binds
// sensors (department or admin; the twin checks the component): 401 for the
// anonymous public, 403 for other readers.
func sensorWriterOf(c echo.Context, action string) (Principal, error) {
	who := principalOf(c)
	switch who.Role {
	case RoleDepartment, RoleAdmin:
		return who, nil
	}
	reason := "only a department (for the components it owns or maintains) or an admin may do this"
	if who.anonymous() {
		reason = "writes need a token"
	}
	return who, &RightsError{Principal: who, Action: action, Reason: reason}
}

// sensorActorOf is the twin's actor for a principal.
func sensorActorOf(p Principal) incidents.Actor {
	return incidents.Actor{Name: p.TokenID, Role: incidents.Role(p.Role), Dept: p.Dept}
}

func parseSensorIDParam(c echo.Context) (sensors.ID, error) {
	return sensors.ParseID(c.Param("id"))
}

// sensorMembers are the members of a sensor body.
var sensorMembers = []string{"id", "kind", "unit", "code", "rules"}

// decodeSensor reads a sensor body: {"kind","unit","code","rules"} and,
// in a bulk body, "id" (pathID empty). In a PUT the id, when given, must be
// the path's. The twin validates the rest and gives a sensor without unit
// or rules those of its kind (sensors.Sensor.Validate).
func decodeSensor(raw []byte, pathID sensors.ID) (sensors.Sensor, error) {
	m, err := decodeJSONObject(raw, "the sensor")
	if err != nil {
		return sensors.Sensor{}, err
	}
	var errs []FieldReason
	bad := func(field, format string, args ...any) {
		errs = append(errs, FieldReason{Field: field, Reason: fmt.Sprintf(format, args...)})
	}
	for _, k := range sortedKeys(m) {
		if !slices.Contains(sensorMembers, k) {
			bad(k, "unknown member of a sensor (want %s)", strings.Join(sensorMembers, ", "))
		}
	}
	var s sensors.Sensor
	str := func(key string) string {
		v, ok := m[key]
		if !ok || isNull(v) {
			return ""
		}
		var out string
		if json.Unmarshal(v, &out) != nil {
			bad(key, "want a string, got %s", clip(v))
		}
		return out
	}
	id := str("id")
	switch {
	case id == "" && pathID == "":
		bad("id", "missing: every sensor of a bulk body needs its id")
	case id != "" && pathID != "" && sensors.ID(id) != pathID:
		bad("id", "%q differs from the id %s of the request", clipString(id), pathID)
	case id != "":
		if _, err := sensors.ParseID(id); err != nil {
			bad("id", "%v", err)
		}
		s.ID = sensors.ID(id)
	default:
		s.ID = pathID
	}
	s.Kind = sensors.Kind(str("kind"))
	s.Unit = str("unit")
	if v, ok := m["code"]; ok && !isNull(v) {
		code, err := stringOrNumber(v)
		if err != nil {
			bad("code", "%v", err)
		} else if s.Code, err = parts.ParseCode(code); err != nil {
			bad("code", "%v", err)
		}
	} else {
		bad("code", "missing: the 16-digit code of the component the sensor is on")
	}
	if v, ok := m["rules"]; ok && !isNull(v) {
		var raws []json.RawMessage
		if json.Unmarshal(v, &raws) != nil {
			bad("rules", "want an array of rules")
		}
		s.Rules = make([]sensors.Rule, 0, len(raws))
		for i, r := range raws {
			var rule sensors.Rule
			dec := json.NewDecoder(strings.NewReader(string(r)))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&rule); err != nil {
				bad(fmt.Sprintf("rules[%d]", i), "%s", jsonErrText(err))
				continue
			}
			s.Rules = append(s.Rules, rule)
		}
	}
	if len(errs) > 0 {
		return sensors.Sensor{}, &InputError{Errors: errs}
	}
	return s, nil
}

// bindingErr turns the twin's refusal of a sensor's component (unknown or
// retired) into a bad "code" field of the body, keeping a record's index:
// the sensor resource exists or not, the code is what is wrong.
func bindingErr(err error) error {
	var rec *twin.RecordError
	if errors.As(err, &rec) {
		return &twin.RecordError{Index: rec.Index, Err: bindingErr(rec.Err)}
	}
	if errors.Is(err, parts.ErrNotFound) || errors.Is(err, parts.ErrRetired) {
		return &sensors.FieldError{Field: "code", Reason: err.Error() + ": bind sensors to live components"}
	}
	return err
}

// putSensor: PUT /sensors/{id} registers (201) or rebinds (200) a sensor.
// If-Match names the version a rebind applies to (412 otherwise).
func (a *sensorAPI) putSensor(c echo.Context) error {
	if err := checkParams(c.QueryParams()); err != nil {
		return err
	}
	id, err := parseSensorIDParam(c)
	if err != nil {
		return err
	}
	who, err := sensorWriterOf(c, "bind sensor "+string(id))
	if err != nil {
		return err
	}
	ifv, _, err := ifMatch(c)
	if err != nil {
		return err
	}
	body, err := readBody(c)
	if err != nil {
		return err
	}
	sn, err := decodeSensor(body, id)
	if err != nil {
		return err
	}
	var out []sensors.Sensor
	err = a.timeWrite("put_sensor", func() (err error) {
		out, err = a.twin.PutSensors(c.Request().Context(), []sensors.Sensor{sn}, []uint64{ifv}, sensorActorOf(who))
		return err
	})
	if err != nil {
		return bindingErr(err)
	}
	status := http.StatusOK
	if out[0].Version == 1 {
		status = http.StatusCreated
		c.Response().Header().Set(echo.HeaderLocation, "/sensors/"+string(out[0].ID))
	}
	return a.writeSensor(c, status, out[0].ID)
}

// postSensors: POST /sensors with a JSON array of sensors (each with its
// id): all registered or rebound, or none; a failing record is named by its
// index.
func (a *sensorAPI) postSensors(c echo.Context) error {
	if err := checkParams(c.QueryParams()); err != nil {
		return err
	}
	who, err := sensorWriterOf(c, "bind sensors")
	if err != nil {
		return err
	}
	body, err := readBody(c)
	if err != nil {
		return err
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(body, &raws); err != nil || len(raws) == 0 {
		return badInput("body", "want a non-empty JSON array of sensors")
	}
	if len(raws) > a.cfg.MaxChanges {
		return badInput("body", "%d sensors, more than the maximum of %d", len(raws), a.cfg.MaxChanges)
	}
	ss := make([]sensors.Sensor, len(raws))
	for i, raw := range raws {
		if ss[i], err = decodeSensor(raw, ""); err != nil {
			return &twin.RecordError{Index: i, Err: err}
		}
	}
	var out []sensors.Sensor
	err = a.timeWrite("put_sensors", func() (err error) {
		out, err = a.twin.PutSensors(c.Request().Context(), ss, nil, sensorActorOf(who))
		return err
	})
	if err != nil {
		var rec *twin.RecordError
		if len(ss) == 1 && !errors.As(err, &rec) && !errors.Is(err, twin.ErrStore) {
			err = &twin.RecordError{Index: 0, Err: err}
		}
		return bindingErr(err)
	}
	fs := make([]sensorFeature, len(out))
	for i := range out {
		fs[i] = a.sensorFeatureOf(out[i].ID)
	}
	return writeJSON(c, http.StatusOK, mediaGeoJSON, newCollection(fs))
}

// getSensor: GET /sensors/{id}, the sensor at its component's place with
// its state and open alarms. ETag is the version of its binding and rules
// (the state changes with every reading, so no 304 is answered).
func (a *sensorAPI) getSensor(c echo.Context) error {
	if err := checkParams(c.QueryParams()); err != nil {
		return err
	}
	id, err := parseSensorIDParam(c)
	if err != nil {
		return err
	}
	return a.writeSensor(c, http.StatusOK, id)
}

// deleteSensor: DELETE /sensors/{id} removes the sensor (its open alarms
// clear) and answers it as it was. If-Match applies.
func (a *sensorAPI) deleteSensor(c echo.Context) error {
	if err := checkParams(c.QueryParams()); err != nil {
		return err
	}
	id, err := parseSensorIDParam(c)
	if err != nil {
		return err
	}
	who, err := sensorWriterOf(c, "remove sensor "+string(id))
	if err != nil {
		return err
	}
	ifv, _, err := ifMatch(c)
	if err != nil {
		return err
	}
	var old sensors.Sensor
	err = a.timeWrite("delete_sensor", func() (err error) {
		old, err = a.twin.DeleteSensor(c.Request().Context(), id, ifv, sensorActorOf(who))
		return err
	})
	if err != nil {
		return err
	}
	f := sensorFeature{Type: "Feature", ID: string(old.ID), Geometry: a.placeOf(old.Code), Properties: sensorPropsOf(&old, nil, nil)}
	return writeJSON(c, http.StatusOK, mediaGeoJSON, f)
}

// writeSensor answers the sensor id as it is now (404 if unknown).
func (a *sensorAPI) writeSensor(c echo.Context, status int, id sensors.ID) error {
	sn, st, ok := a.twin.Sensors().Get(id)
	if !ok {
		return fmt.Errorf("%w: sensor %s", sensors.ErrNotFound, id)
	}
	c.Response().Header().Set(headerETag, etag(sn.Version))
	c.Response().Header().Set(echo.HeaderCacheControl, "no-cache")
	f := a.sensorFeature(&sn, &st)
	return writeJSON(c, status, mediaGeoJSON, f)
}

// sensorFeatureOf is the feature of sensor id as it is now (a feature
// without properties' state when it has just been removed).
func (a *sensorAPI) sensorFeatureOf(id sensors.ID) sensorFeature {
	sn, st, ok := a.twin.Sensors().Get(id)
	if !ok {
		return sensorFeature{Type: "Feature", ID: string(id)}
	}
	return a.sensorFeature(&sn, &st)
}

func (a *sensorAPI) sensorFeature(sn *sensors.Sensor, st *sensors.Status) sensorFeature {
	var g *geometryJSON
	if pt, ok := a.twin.SensorAt(sn.ID); ok {
		g = geometryOf(pt)
	}
	open := a.twin.Sensors().Alarms(sn.ID)
	return sensorFeature{Type: "Feature", ID: string(sn.ID), Geometry: g, Properties: sensorPropsOf(sn, st, open)}
}

// placeOf is where the sensors of a component are: its representative point
// (retired components included), nil for an unknown code.
func (s *Server) placeOf(code parts.Code) *geometryJSON {
	p, err := s.twin.Parts().Get(code)
	if p.Geometry == nil || (err != nil && !p.Retired) {
		return nil
	}
	return geometryOf(twin.RepresentativePoint(p.Geometry))
}

// sensorFeature is a sensor as a GeoJSON Feature at its component's place.
type sensorFeature struct {
	Type       string        `json:"type"`
	ID         string        `json:"id"`
	Geometry   *geometryJSON `json:"geometry"`
	Properties sensorProps   `json:"properties"`
}

// sensorProps are a sensor's properties: its binding and rules, its live
// state and its open alarms.
type sensorProps struct {
	ID      string         `json:"id"`
	Kind    string         `json:"kind"`
	Unit    string         `json:"unit"`
	Code    string         `json:"code"`
	Rules   []sensors.Rule `json:"rules"`
	Version uint64         `json:"version"`
	Updated string         `json:"updated,omitempty"`
	State   *sensorState   `json:"state,omitempty"`
	Alarms  []alarmProps   `json:"alarms"`
}

// sensorState is the live state: the last reading (value and time null
// before the first), whether the sensor is online, how many readings it
// sent since it was loaded.
type sensorState struct {
	Value    *float64 `json:"value"`
	Time     *string  `json:"time"`
	Online   bool     `json:"online"`
	Readings uint64   `json:"readings"`
}

func sensorPropsOf(sn *sensors.Sensor, st *sensors.Status, open []sensors.Alarm) sensorProps {
	p := sensorProps{
		ID: string(sn.ID), Kind: string(sn.Kind), Unit: sn.Unit, Code: sn.Code.String(),
		Rules: sn.Rules, Version: sn.Version, Updated: sensorTime(sn.Updated),
		Alarms: make([]alarmProps, len(open)),
	}
	if p.Rules == nil {
		p.Rules = []sensors.Rule{}
	}
	if st != nil {
		p.State = &sensorState{Online: st.Online, Readings: st.Readings}
		if !st.Time.IsZero() {
			t := sensorTime(st.Time)
			p.State.Time = &t
			p.State.Value = finiteOrNil(st.Value)
		}
	}
	for i := range open {
		p.Alarms[i] = alarmPropsOf(&open[i])
	}
	return p
}

// sensorTime formats a time as RFC 3339 in UTC; "" for the zero time.
func sensorTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// finiteOrNil is v, or nil (JSON null) when v is NaN or infinite.
func finiteOrNil(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

// pointOf returns the coordinates of a geometry's point, for a bbox test.
func pointOf(g *geometryJSON) (orb.Point, bool) {
	if g == nil {
		return orb.Point{}, false
	}
	pt, ok := g.Coordinates.(orb.Point)
	return pt, ok
}
