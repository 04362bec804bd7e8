package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"citytwin/sensors"
	"citytwin/twin"
)

// reasonForbidden counts readings a department sent for a sensor on a
// component it neither owns nor maintains.
const reasonForbidden = "forbidden"

// readingsAnswer is the 202 answer of POST /readings.
type readingsAnswer struct {
	Accepted int            `json:"accepted"`
	Rejected map[string]int `json:"rejected"`
	Raised   int            `json:"raised"`
	Cleared  int            `json:"cleared"`
}

// postReadings: POST /readings with one reading {"sensor":id,"value":..,
// "time":..} or an array of them (time optional: now), for devices that
// speak HTTP. Departments (a device token is a department's) and admins
// only; a department's readings count only for sensors on components it
// owns or maintains. The answer is 202 with the readings accepted and
// those rejected by reason; a payload that is not JSON is a 400, one over
// 1 MiB or 10,000 readings a 413.
func (a *sensorAPI) postReadings(c echo.Context) error {
	if err := checkParams(c.QueryParams()); err != nil {
		return err
	}
	who, err := sensorWriterOf(c, "send readings")
	if err != nil {
		return err
	}
	body, err := readBody(c)
	if err != nil {
		return err
	}
	rs, err := sensors.AppendReadings(nil, body, time.Now().UTC())
	ans := readingsAnswer{Rejected: map[string]int{}}
	if err != nil {
		if errors.Is(err, sensors.ErrMalformed) || errors.Is(err, sensors.ErrTooLarge) {
			return err
		}
		countSkipped(body, err, ans.Rejected)
	}
	if who.Role != RoleAdmin {
		rs = a.ownReadings(who, rs, ans.Rejected)
	}
	in := a.ingesters.Get().(*twin.Ingester)
	res := in.Ingest(c.Request().Context(), rs)
	a.ingesters.Put(in)
	for reason, n := range res.Rejected {
		ans.Rejected[reason] += n
	}
	ans.Accepted, ans.Raised, ans.Cleared = res.Accepted, res.Raised, res.Cleared
	a.m.count(ans.Accepted, ans.Rejected)
	if res.Err != nil {
		// The readings are in, their alarms are not stored: they are
		// proposed again by the next reading or sweep.
		return res.Err
	}
	return writeJSON(c, http.StatusAccepted, mediaJSON, ans)
}

// countSkipped counts the elements AppendReadings skipped by reason. Its
// error names the first; when it skipped more, each element of the array
// is parsed again on its own to learn why (only bad batches pay for it).
func countSkipped(body []byte, err error, rejected map[string]int) {
	var pe *sensors.PayloadError
	if !errors.As(err, &pe) || pe.Skipped <= 1 {
		rejected[sensors.Reason(err)]++
		return
	}
	var elems []json.RawMessage
	if json.Unmarshal(body, &elems) != nil {
		rejected[sensors.Reason(err)] += pe.Skipped
		return
	}
	now := time.Now().UTC()
	for _, e := range elems {
		if _, err := sensors.AppendReadings(nil, e, now); err != nil {
			rejected[sensors.Reason(err)]++
		}
	}
}

// ownReadings keeps the readings of sensors bound to components who owns
// or maintains (and those of unknown sensors, which the twin counts);
// the others are counted as forbidden.
func (a *sensorAPI) ownReadings(who Principal, rs []sensors.Reading, rejected map[string]int) []sensors.Reading {
	allowed := map[sensors.ID]bool{}
	out := rs[:0]
	for _, r := range rs {
		ok, seen := allowed[r.Sensor]
		if !seen {
			ok = true
			if sn, _, found := a.twin.Sensors().Get(r.Sensor); found {
				p, perr := a.twin.Parts().Get(sn.Code)
				ok = who.Dept != "" && (perr == nil || p.Retired) && who.owns(&p)
			}
			allowed[r.Sensor] = ok
		}
		if !ok {
			rejected[reasonForbidden]++
			continue
		}
		out = append(out, r)
	}
	return out
}
