package gpkg

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/paulmach/orb"

	"citytwin/incidents"
	"citytwin/sensors"
	"citytwin/twin"
)

// The Store keeps the twin's records (twin.Records): sensors, their status
// and alarms, cases, departments, the responsibility table, the calendar
// and the notification outbox. Each row has its key columns and the whole
// record as JSON in body, which is what the loads decode. Sensors (at
// their component's representative point) and cases (at their location)
// are point feature tables that QGIS shows.
var _ twin.Records = (*Store)(nil)

// datetime is the layout of the records' DATETIME columns (GeoPackage:
// ISO 8601 in UTC); their text order is their time order.
const datetime = "2006-01-02T15:04:05.000Z"

const (
	insertSensor = `INSERT INTO sensors (id, version, kind, code, updated, body, geom)
  VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (id) DO NOTHING`
	updateSensor = `UPDATE sensors SET version = ?2, kind = ?3, code = ?4, updated = ?5, body = ?6, geom = ?7
  WHERE id = ?1 AND version = ?8`
	insertCase = `INSERT INTO cases (id, version, state, dept, class, code, grid_code, source, problem,
  reported, due, closed, body, geom)
  VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14) ON CONFLICT (id) DO NOTHING`
	updateCase = `UPDATE cases SET version = ?2, state = ?3, dept = ?4, class = ?5, code = ?6, grid_code = ?7,
  source = ?8, problem = ?9, reported = ?10, due = ?11, closed = ?12, body = ?13, geom = ?14
  WHERE id = ?1 AND version = ?15`
	insertDepartment = `INSERT INTO departments (code, version, name, body) VALUES (?1, ?2, ?3, ?4)
  ON CONFLICT (code) DO NOTHING`
	updateDepartment     = `UPDATE departments SET version = ?2, name = ?3, body = ?4 WHERE code = ?1 AND version = ?5`
	insertResponsibility = `INSERT INTO responsibilities (district, type, class, version, dept, body)
  VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (district, type, class) DO NOTHING`
	updateResponsibility = `UPDATE responsibilities SET version = ?4, dept = ?5, body = ?6
  WHERE district = ?1 AND type = ?2 AND class = ?3 AND version = ?7`
	upsertAlarm = `INSERT INTO alarms (id, version, sensor, code, kind, state, raised, updated, cleared, body)
  VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
  ON CONFLICT (id) DO UPDATE SET version = excluded.version, sensor = excluded.sensor, code = excluded.code,
  kind = excluded.kind, state = excluded.state, raised = excluded.raised, updated = excluded.updated,
  cleared = excluded.cleared, body = excluded.body
  WHERE alarms.version <= excluded.version`
	upsertStatus = `INSERT INTO sensor_status (sensor, at, body) VALUES (?1, ?2, ?3)
  ON CONFLICT (sensor) DO UPDATE SET at = excluded.at, body = excluded.body`
	upsertCalendar = `INSERT INTO calendar (fid, updated, body) VALUES (1, ` + nowSQL + `, ?1)
  ON CONFLICT (fid) DO UPDATE SET updated = excluded.updated, body = excluded.body`
	insertNotification = `INSERT INTO notifications (id, case_id, dept, channel, target, state, attempts, next, created, body)
  VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT (id) DO NOTHING`
)

// Write persists b in one transaction: all of it, or nothing. Sensors,
// cases, departments and responsibility rows are written on condition of
// their Prev version (0: an insert that fails when the key exists), and so
// are deletions; a write that finds another version gives a
// *ConflictError wrapping twin.ErrConflict. Alarms are upserted by id
// (never back to an older version), statuses by sensor, the calendar
// replaced; a notification already in the outbox is kept as it is.
func (s *Store) Write(ctx context.Context, b twin.Batch) error {
	if b.IsZero() {
		return nil
	}
	write := s.write
	if onlyStatuses(&b) {
		// A checkpoint of last readings: losing one to a power failure
		// loses no promise (the README says so).
		write = s.writeRelaxed
	}
	return write(ctx, "write records", func(tx *sql.Tx) error {
		w := recordWriter{ctx: ctx, tx: tx}
		var sensorBound, caseBound orb.Bound
		var hasSensor, hasCase bool
		for _, v := range b.Sensors {
			x := v.Value
			body, err := json.Marshal(x)
			if err != nil {
				return recordErr("sensors", string(x.ID), err)
			}
			geom, pt, err := w.partPoint(x.Code.String())
			if err != nil {
				return err
			}
			if geom != nil {
				sensorBound = extend(sensorBound, orb.Bound{Min: pt, Max: pt}, hasSensor)
				hasSensor = true
			}
			args := []any{string(x.ID), version(x.Version), string(x.Kind), x.Code.String(), dt(x.Updated), string(body), geom}
			if err := w.cond("sensors", "id = ?1", []any{string(x.ID)}, v.Prev, insertSensor, updateSensor, args); err != nil {
				return err
			}
		}
		for _, v := range b.DeletedSensors {
			if err := w.delete("sensors", "id = ?1", []any{string(v.Value)}, v.Prev); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM sensor_status WHERE sensor = ?`, string(v.Value)); err != nil {
				return err
			}
		}
		for _, a := range b.Alarms {
			body, err := json.Marshal(a)
			if err != nil {
				return recordErr("alarms", a.ID, err)
			}
			if _, err := tx.ExecContext(ctx, upsertAlarm, a.ID, version(a.Version), string(a.Sensor), a.Code.String(), string(a.Kind),
				string(a.State), dt(a.Raised), dt(a.Updated), dt(a.Cleared), string(body)); err != nil {
				return &RowError{Table: "alarms", Key: a.ID, Field: "row", Err: err}
			}
		}
		for _, st := range b.Statuses {
			body, err := json.Marshal(st)
			if err != nil {
				return recordErr("sensor_status", string(st.Sensor), err)
			}
			if _, err := tx.ExecContext(ctx, upsertStatus, string(st.Sensor), dt(st.Time), string(body)); err != nil {
				return &RowError{Table: "sensor_status", Key: string(st.Sensor), Field: "row", Err: err}
			}
		}
		for _, v := range b.Cases {
			c := v.Value
			body, err := json.Marshal(c)
			if err != nil {
				return recordErr("cases", string(c.ID), err)
			}
			geom, _, err := appendGeometry(nil, c.Location)
			if err != nil {
				return &RowError{Table: "cases", Key: string(c.ID), Field: "location", Err: err}
			}
			caseBound = extend(caseBound, orb.Bound{Min: c.Location, Max: c.Location}, hasCase)
			hasCase = true
			var code any
			if c.Code != 0 {
				code = c.Code.String()
			}
			args := []any{string(c.ID), version(c.Version), string(c.State), c.Dept, c.Class, code, c.Grid, string(c.Source),
				c.Problem, dt(c.Reported), dt(c.Due), dt(c.Closed), string(body), geom}
			if err := w.cond("cases", "id = ?1", []any{string(c.ID)}, v.Prev, insertCase, updateCase, args); err != nil {
				return err
			}
		}
		for _, v := range b.Departments {
			d := v.Value
			body, err := json.Marshal(d)
			if err != nil {
				return recordErr("departments", d.Code, err)
			}
			args := []any{d.Code, version(d.Version), d.Name, string(body)}
			if err := w.cond("departments", "code = ?1", []any{d.Code}, v.Prev, insertDepartment, updateDepartment, args); err != nil {
				return err
			}
		}
		for _, v := range b.DeletedDepartments {
			if err := w.delete("departments", "code = ?1", []any{v.Value}, v.Prev); err != nil {
				return err
			}
		}
		const respKey = "district = ?1 AND type = ?2 AND class = ?3"
		for _, v := range b.Responsibilities {
			r := v.Value
			body, err := json.Marshal(r)
			if err != nil {
				return recordErr("responsibilities", r.Key(), err)
			}
			key := []any{r.District, string(r.Type), r.Class}
			args := append(key[:3:3], version(r.Version), r.Dept, string(body))
			if err := w.cond("responsibilities", respKey, key, v.Prev, insertResponsibility, updateResponsibility, args); err != nil {
				return err
			}
		}
		for _, v := range b.DeletedResponsibilities {
			r := v.Value
			if err := w.delete("responsibilities", respKey, []any{r.District, string(r.Type), r.Class}, v.Prev); err != nil {
				return err
			}
		}
		if b.Calendar != nil {
			body, err := json.Marshal(b.Calendar)
			if err != nil {
				return recordErr("calendar", "1", err)
			}
			if _, err := tx.ExecContext(ctx, upsertCalendar, string(body)); err != nil {
				return &RowError{Table: "calendar", Key: "1", Field: "row", Err: err}
			}
		}
		for _, n := range b.Notifications {
			body, err := json.Marshal(n)
			if err != nil {
				return recordErr("notifications", n.ID, err)
			}
			if _, err := tx.ExecContext(ctx, insertNotification, n.ID, string(n.Case), n.Dept, n.Channel, n.Target, n.State,
				n.Attempts, dt(n.Next), n.Created.UTC().Format(datetime), string(body)); err != nil {
				return &RowError{Table: "notifications", Key: n.ID, Field: "row", Err: err}
			}
		}
		if hasSensor {
			if err := growExtent(ctx, tx, "sensors", sensorBound); err != nil {
				return err
			}
		}
		if hasCase {
			if err := growExtent(ctx, tx, "cases", caseBound); err != nil {
				return err
			}
		}
		return nil
	})
}

// recordWriter runs the conditional writes of one Write.
type recordWriter struct {
	ctx context.Context
	tx  *sql.Tx
}

// partPoint returns the representative point of the part with code, as a
// geometry blob (nil when the part is not in the file).
func (w recordWriter) partPoint(code string) ([]byte, orb.Point, error) {
	var blob []byte
	err := w.tx.QueryRowContext(w.ctx, `SELECT geom FROM parts WHERE code = ?`, code).Scan(&blob)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && blob == nil) {
		return nil, orb.Point{}, nil
	}
	if err != nil {
		return nil, orb.Point{}, err
	}
	g, err := DecodeGeometry(blob)
	if err != nil {
		return nil, orb.Point{}, &RowError{Table: "parts", Key: code, Field: "geometry", Err: err}
	}
	pt := twin.RepresentativePoint(g)
	out, _, err := appendGeometry(nil, pt)
	if err != nil {
		return nil, orb.Point{}, &RowError{Table: "sensors", Key: code, Field: "geom", Err: err}
	}
	return out, pt, nil
}

// cond inserts (prev 0) or updates on condition of version prev (the
// update's last parameter) one row of table, whose key is where with key's
// values; zero rows written is a *ConflictError.
func (w recordWriter) cond(table, where string, key []any, prev uint64, insert, update string, args []any) error {
	q := insert
	if prev != 0 {
		q = update
		args = append(args, version(prev))
	}
	res, err := w.tx.ExecContext(w.ctx, q, args...)
	if err != nil {
		return &RowError{Table: table, Key: keyString(key), Field: "row", Err: err}
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return err
	}
	return w.conflict(table, where, key, prev)
}

// delete deletes one row of table on condition of version prev (0: any).
func (w recordWriter) delete(table, where string, key []any, prev uint64) error {
	n := len(key) + 1
	res, err := w.tx.ExecContext(w.ctx, fmt.Sprintf(`DELETE FROM %s WHERE %s AND (?%d = 0 OR version = ?%d)`, table, where, n, n),
		append(key[:len(key):len(key)], version(prev))...)
	if err != nil {
		return &RowError{Table: table, Key: keyString(key), Field: "row", Err: err}
	}
	if k, err := res.RowsAffected(); err != nil || k == 1 {
		return err
	}
	if prev == 0 {
		return &RowError{Table: table, Key: keyString(key), Field: "key", Err: incidents.ErrNotFound}
	}
	return w.conflict(table, where, key, prev)
}

// conflict reads the stored version of the row and builds the error.
func (w recordWriter) conflict(table, where string, key []any, prev uint64) error {
	var stored int64
	err := w.tx.QueryRowContext(w.ctx, `SELECT version FROM `+table+` WHERE `+where, key...).Scan(&stored)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	return &ConflictError{Table: table, Key: keyString(key), Expected: prev, Stored: uint64(max(stored, 0)), Err: twin.ErrConflict}
}

func keyString(key []any) string {
	parts := make([]string, len(key))
	for i, k := range key {
		parts[i] = fmt.Sprint(k)
	}
	return strings.Join(parts, "/")
}

// version is a uint64 version as an SQLite integer.
func version(v uint64) int64 { return int64(min(v, math.MaxInt64)) }

// dt is t as a DATETIME, or nil (NULL) for the zero time.
func dt(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(datetime)
}

func recordErr(table, key string, err error) error {
	return &RowError{Table: table, Key: key, Field: "body", Err: err}
}

// LoadSensors calls fn with every sensor and its last status (the zero
// Status when none was checkpointed), in id order.
func (s *Store) LoadSensors(ctx context.Context, fn func(sensors.Sensor, sensors.Status) error) error {
	return s.loadBodies(ctx, "sensors", `SELECT s.id, s.version, s.body, st.body FROM sensors s
  LEFT JOIN sensor_status st ON st.sensor = s.id ORDER BY s.id`, nil, func(rows *sql.Rows) error {
		var (
			id     string
			v      int64
			body   []byte
			status []byte
			x      sensors.Sensor
			st     sensors.Status
		)
		if err := rows.Scan(&id, &v, &body, &status); err != nil {
			return err
		}
		if err := json.Unmarshal(body, &x); err != nil {
			return &RowError{Table: "sensors", Key: id, Field: "body", Err: err}
		}
		if status != nil {
			if err := json.Unmarshal(status, &st); err != nil {
				return &RowError{Table: "sensor_status", Key: id, Field: "body", Err: err}
			}
		}
		x.Version = uint64(max(v, 0))
		return fn(x, st)
	})
}

// LoadAlarms calls fn with the open alarms and those cleared at or after
// since.
func (s *Store) LoadAlarms(ctx context.Context, since time.Time, fn func(sensors.Alarm) error) error {
	return s.loadBodies(ctx, "alarms", `SELECT id, version, body FROM alarms
  WHERE state = 'open' OR cleared >= ? ORDER BY id`, []any{since.UTC().Format(datetime)}, func(rows *sql.Rows) error {
		var a sensors.Alarm
		v, err := scanBody(rows, "alarms", &a)
		if err != nil {
			return err
		}
		a.Version = v
		return fn(a)
	})
}

// LoadCases calls fn with every case.
func (s *Store) LoadCases(ctx context.Context, fn func(incidents.Case) error) error {
	return s.loadBodies(ctx, "cases", `SELECT id, version, body FROM cases ORDER BY id`, nil, func(rows *sql.Rows) error {
		var c incidents.Case
		v, err := scanBody(rows, "cases", &c)
		if err != nil {
			return err
		}
		c.Version = v
		return fn(c)
	})
}

// LoadDepartments calls fn with every department.
func (s *Store) LoadDepartments(ctx context.Context, fn func(incidents.Department) error) error {
	return s.loadBodies(ctx, "departments", `SELECT code, version, body FROM departments ORDER BY code`, nil, func(rows *sql.Rows) error {
		var d incidents.Department
		v, err := scanBody(rows, "departments", &d)
		if err != nil {
			return err
		}
		d.Version = v
		return fn(d)
	})
}

// LoadResponsibilities calls fn with every row of the responsibility
// table.
func (s *Store) LoadResponsibilities(ctx context.Context, fn func(incidents.Responsibility) error) error {
	return s.loadBodies(ctx, "responsibilities", `SELECT district || '/' || type || ':' || class, version, body
  FROM responsibilities ORDER BY district, type, class`, nil, func(rows *sql.Rows) error {
		var r incidents.Responsibility
		v, err := scanBody(rows, "responsibilities", &r)
		if err != nil {
			return err
		}
		r.Version = v
		return fn(r)
	})
}

// LoadCalendar returns the stored work calendar, false when none is.
func (s *Store) LoadCalendar(ctx context.Context) (incidents.Calendar, bool, error) {
	var body []byte
	err := s.db.QueryRowContext(ctx, `SELECT body FROM calendar WHERE fid = 1`).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		return incidents.Calendar{}, false, nil
	}
	if err != nil {
		return incidents.Calendar{}, false, fmt.Errorf("gpkg: load calendar from %s: %w", s.path, err)
	}
	var c incidents.Calendar
	if err := json.Unmarshal(body, &c); err != nil {
		return incidents.Calendar{}, false, &RowError{Table: "calendar", Key: "1", Field: "body", Err: err}
	}
	return c, true, nil
}

// DueNotifications returns up to limit pending notifications whose next
// attempt is at or before now, the longest due first.
func (s *Store) DueNotifications(ctx context.Context, now time.Time, limit int) ([]incidents.Notification, error) {
	if limit <= 0 {
		return nil, nil
	}
	var out []incidents.Notification
	err := s.loadBodies(ctx, "notifications", `SELECT id, attempts, body FROM notifications
  WHERE state = 'pending' AND (next IS NULL OR next <= ?1) ORDER BY next IS NOT NULL, next, created, id LIMIT ?2`,
		[]any{now.UTC().Format(datetime), limit}, func(rows *sql.Rows) error {
			var n incidents.Notification
			if _, err := scanBody(rows, "notifications", &n); err != nil {
				return err
			}
			out = append(out, n)
			return nil
		})
	return out, err
}

// MarkNotification stores the outcome of a delivery attempt: n's State,
// Attempts, Next and Error. An unknown notification gives an error
// wrapping incidents.ErrNotFound.
func (s *Store) MarkNotification(ctx context.Context, n incidents.Notification) error {
	body, err := json.Marshal(n)
	if err != nil {
		return recordErr("notifications", n.ID, err)
	}
	return s.write(ctx, "mark notification", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE notifications SET state = ?2, attempts = ?3, next = ?4, body = ?5 WHERE id = ?1`,
			n.ID, n.State, n.Attempts, dt(n.Next), string(body))
		if err != nil {
			return err
		}
		if k, err := res.RowsAffected(); err != nil || k == 1 {
			return err
		}
		return &RowError{Table: "notifications", Key: n.ID, Field: "id", Err: incidents.ErrNotFound}
	})
}

// MarkNotifications stores the outcome of several delivery attempts (or
// claims) in one transaction; unknown notifications are skipped.
func (s *Store) MarkNotifications(ctx context.Context, ns []incidents.Notification) error {
	if len(ns) == 0 {
		return nil
	}
	bodies := make([][]byte, len(ns))
	for i := range ns {
		b, err := json.Marshal(ns[i])
		if err != nil {
			return recordErr("notifications", ns[i].ID, err)
		}
		bodies[i] = b
	}
	return s.writeRelaxed(ctx, "mark notifications", func(tx *sql.Tx) error {
		st, err := tx.PrepareContext(ctx, `UPDATE notifications SET state = ?2, attempts = ?3, next = ?4, body = ?5 WHERE id = ?1`)
		if err != nil {
			return err
		}
		defer st.Close()
		for i, n := range ns {
			if _, err := st.ExecContext(ctx, n.ID, n.State, n.Attempts, dt(n.Next), string(bodies[i])); err != nil {
				return err
			}
		}
		return nil
	})
}

// loadBodies runs q with args and calls each for every row, stopping at
// its first error.
func (s *Store) loadBodies(ctx context.Context, table, q string, args []any, each func(*sql.Rows) error) error {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("gpkg: load %s from %s: %w", table, s.path, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := each(rows); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("gpkg: load %s from %s: %w", table, s.path, err)
	}
	return nil
}

// scanBody scans a row of key, version and body and decodes the body into
// v; it returns the version.
func scanBody(rows *sql.Rows, table string, v any) (uint64, error) {
	var (
		key  string
		ver  int64
		body []byte
	)
	if err := rows.Scan(&key, &ver, &body); err != nil {
		return 0, err
	}
	if err := json.Unmarshal(body, v); err != nil {
		return 0, &RowError{Table: table, Key: key, Field: "body", Err: err}
	}
	return uint64(max(ver, 0)), nil
}

// onlyStatuses reports whether b writes the last readings and nothing else.
func onlyStatuses(b *twin.Batch) bool {
	st := b.Statuses
	b.Statuses = nil
	only := b.IsZero()
	b.Statuses = st
	return only && len(st) > 0
}
