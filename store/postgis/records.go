package postgis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5"

	"citytwin/incidents"
	"citytwin/sensors"
	"citytwin/twin"
)

// The Store keeps the twin's records (twin.Records): sensors, their status
// and alarms, cases, departments, the responsibility table, the calendar
// and the notification outbox. Each row has its key columns and the whole
// record as JSON in body, which is what the loads decode.
var _ twin.Records = (*Store)(nil)

// sensorPoint is the representative point of the part with code $n, as
// twin.RepresentativePoint computes it: the point, the first vertex of a
// line or of a polygon's outer ring, else the centre of the box.
func sensorPoint(n int) string {
	return fmt.Sprintf(`(SELECT CASE GeometryType(geom)
  WHEN 'POINT' THEN geom
  WHEN 'LINESTRING' THEN ST_StartPoint(geom)
  WHEN 'POLYGON' THEN ST_StartPoint(ST_ExteriorRing(geom))
  ELSE ST_SetSRID(ST_Centroid(ST_Envelope(geom)), %d) END FROM parts WHERE code = $%d)`, SRID, n)
}

var (
	insertSensor = `INSERT INTO sensors (id, version, kind, code, updated, body, geom)
  VALUES ($1, $2, $3, $4, $5, $6, ` + sensorPoint(4) + `) ON CONFLICT (id) DO NOTHING`
	updateSensor = `UPDATE sensors SET version = $2, kind = $3, code = $4, updated = $5, body = $6,
  geom = ` + sensorPoint(4) + ` WHERE id = $1 AND version = $7`
	insertCase = `INSERT INTO cases (id, version, state, dept, class, code, grid_code, source, problem,
  reported, due, closed, body, geom)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, ST_SetSRID(ST_MakePoint($14, $15), 4326))
  ON CONFLICT (id) DO NOTHING`
	updateCase = `UPDATE cases SET version = $2, state = $3, dept = $4, class = $5, code = $6, grid_code = $7,
  source = $8, problem = $9, reported = $10, due = $11, closed = $12, body = $13,
  geom = ST_SetSRID(ST_MakePoint($14, $15), 4326) WHERE id = $1 AND version = $16`
	insertDepartment = `INSERT INTO departments (code, version, name, body) VALUES ($1, $2, $3, $4)
  ON CONFLICT (code) DO NOTHING`
	updateDepartment     = `UPDATE departments SET version = $2, name = $3, body = $4 WHERE code = $1 AND version = $5`
	insertResponsibility = `INSERT INTO responsibilities (district, type, class, version, dept, body)
  VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (district, type, class) DO NOTHING`
	updateResponsibility = `UPDATE responsibilities SET version = $4, dept = $5, body = $6
  WHERE district = $1 AND type = $2 AND class = $3 AND version = $7`
	upsertAlarm = `INSERT INTO alarms (id, version, sensor, code, kind, state, raised, updated, cleared, body)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
  ON CONFLICT (id) DO UPDATE SET version = excluded.version, sensor = excluded.sensor, code = excluded.code,
  kind = excluded.kind, state = excluded.state, raised = excluded.raised, updated = excluded.updated,
  cleared = excluded.cleared, body = excluded.body
  WHERE alarms.version <= excluded.version`
	upsertStatus = `INSERT INTO sensor_status (sensor, at, body) VALUES ($1, $2, $3)
  ON CONFLICT (sensor) DO UPDATE SET at = excluded.at, body = excluded.body`
	upsertCalendar = `INSERT INTO calendar (id, updated, body) VALUES (1, now(), $1)
  ON CONFLICT (id) DO UPDATE SET updated = excluded.updated, body = excluded.body`
	insertNotification = `INSERT INTO notifications (id, case_id, dept, channel, target, state, attempts, next, created, body)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (id) DO NOTHING`
)

// Write persists b in one transaction: all of it, or nothing. Sensors,
// cases, departments and responsibility rows are written on condition of
// their Prev version (0: an insert that fails when the key exists), and so
// are deletions; a write that finds another version gives a
// *ConflictError wrapping twin.ErrConflict. Alarms are upserted by id
// (never back to an older version), statuses by sensor, the calendar
// replaced; a notification already in the outbox is kept as it is.
func (s *Store) Write(ctx context.Context, b twin.Batch) error {
	if err := s.check(); err != nil {
		return err
	}
	if b.IsZero() {
		return nil
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		w := recordWriter{ctx: ctx, tx: tx}
		for _, v := range b.Sensors {
			x := v.Value
			body, err := json.Marshal(x)
			if err != nil {
				return recordErr("sensors", string(x.ID), err)
			}
			args := []any{string(x.ID), version(x.Version), string(x.Kind), x.Code.String(), ts(x.Updated), body}
			if err := w.cond("sensors", "id = $1", []any{string(x.ID)}, v.Prev, insertSensor, updateSensor, args); err != nil {
				return err
			}
		}
		for _, v := range b.DeletedSensors {
			if err := w.delete("sensors", "id = $1", []any{string(v.Value)}, v.Prev); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `DELETE FROM sensor_status WHERE sensor = $1`, string(v.Value)); err != nil {
				return wrap("delete sensor status "+string(v.Value), err)
			}
		}
		for _, a := range b.Alarms {
			body, err := json.Marshal(a)
			if err != nil {
				return recordErr("alarms", a.ID, err)
			}
			if _, err := tx.Exec(ctx, upsertAlarm, a.ID, version(a.Version), string(a.Sensor), a.Code.String(), string(a.Kind),
				string(a.State), ts(a.Raised), ts(a.Updated), ts(a.Cleared), body); err != nil {
				return wrap("put alarm "+a.ID, err)
			}
		}
		// Last readings, cases and (below) notifications are sent in one
		// pipeline each: one round trip however many rows, the hot paths
		// of checkpoints and intake.
		var pipe pipeline
		for _, st := range b.Statuses {
			body, err := json.Marshal(st)
			if err != nil {
				return recordErr("sensor_status", string(st.Sensor), err)
			}
			pipe.queue("put sensor status "+string(st.Sensor), upsertStatus, string(st.Sensor), ts(st.Time), body)
		}
		for _, v := range b.Cases {
			c := v.Value
			body, err := json.Marshal(c)
			if err != nil {
				return recordErr("cases", string(c.ID), err)
			}
			args := []any{string(c.ID), version(c.Version), string(c.State), c.Dept, c.Class, codeText(c.Code.String(), c.Code == 0),
				c.Grid, string(c.Source), c.Problem, ts(c.Reported), ts(c.Due), ts(c.Closed), body, c.Location[0], c.Location[1]}
			q := insertCase
			if v.Prev != 0 {
				q = updateCase
				args = append(args, version(v.Prev))
			}
			pipe.queueCond("put cases "+string(c.ID), q, args, func() error {
				return w.conflict("cases", "id = $1", []any{string(c.ID)}, v.Prev)
			})
		}
		if err := pipe.run(ctx, tx); err != nil {
			return err
		}
		for _, v := range b.Departments {
			d := v.Value
			body, err := json.Marshal(d)
			if err != nil {
				return recordErr("departments", d.Code, err)
			}
			args := []any{d.Code, version(d.Version), d.Name, body}
			if err := w.cond("departments", "code = $1", []any{d.Code}, v.Prev, insertDepartment, updateDepartment, args); err != nil {
				return err
			}
		}
		for _, v := range b.DeletedDepartments {
			if err := w.delete("departments", "code = $1", []any{v.Value}, v.Prev); err != nil {
				return err
			}
		}
		for _, v := range b.Responsibilities {
			r := v.Value
			body, err := json.Marshal(r)
			if err != nil {
				return recordErr("responsibilities", r.Key(), err)
			}
			key := []any{r.District, string(r.Type), r.Class}
			args := append(key[:3:3], version(r.Version), r.Dept, body)
			if err := w.cond("responsibilities", "district = $1 AND type = $2 AND class = $3", key, v.Prev, insertResponsibility, updateResponsibility, args); err != nil {
				return err
			}
		}
		for _, v := range b.DeletedResponsibilities {
			r := v.Value
			if err := w.delete("responsibilities", "district = $1 AND type = $2 AND class = $3", []any{r.District, string(r.Type), r.Class}, v.Prev); err != nil {
				return err
			}
		}
		if b.Calendar != nil {
			body, err := json.Marshal(b.Calendar)
			if err != nil {
				return recordErr("calendar", "1", err)
			}
			if _, err := tx.Exec(ctx, upsertCalendar, body); err != nil {
				return wrap("put calendar", err)
			}
		}
		var notes pipeline
		for _, n := range b.Notifications {
			body, err := json.Marshal(n)
			if err != nil {
				return recordErr("notifications", n.ID, err)
			}
			notes.queue("put notification "+n.ID, insertNotification, n.ID, string(n.Case), n.Dept, n.Channel, n.Target, n.State,
				n.Attempts, ts(n.Next), n.Created.UTC(), body)
		}
		return notes.run(ctx, tx)
	})
}

// recordWriter runs the conditional writes of one Write.
type recordWriter struct {
	ctx context.Context
	tx  pgx.Tx
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
	tag, err := w.tx.Exec(w.ctx, q, args...)
	if err != nil {
		return wrap(fmt.Sprintf("put %s %v", table, key), err)
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	return w.conflict(table, where, key, prev)
}

// delete deletes one row of table on condition of version prev (0: any).
func (w recordWriter) delete(table, where string, key []any, prev uint64) error {
	n := len(key) + 1
	tag, err := w.tx.Exec(w.ctx, fmt.Sprintf(`DELETE FROM %s WHERE %s AND ($%d::bigint = 0 OR version = $%d::bigint)`, table, where, n, n),
		append(key[:len(key):len(key)], version(prev))...)
	if err != nil {
		return wrap(fmt.Sprintf("delete %s %v", table, key), err)
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	if prev == 0 {
		return fmt.Errorf("postgis: delete %s %v: %w", table, keyString(key), incidents.ErrNotFound)
	}
	return w.conflict(table, where, key, prev)
}

// conflict reads the stored version of the row and builds the error.
func (w recordWriter) conflict(table, where string, key []any, prev uint64) error {
	var stored int64
	err := w.tx.QueryRow(w.ctx, `SELECT version FROM `+table+` WHERE `+where, key...).Scan(&stored)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return wrap(fmt.Sprintf("read version of %s %v", table, key), err)
	}
	return &ConflictError{Table: table, Key: keyString(key), Expected: prev, Stored: uint64(max(stored, 0)), Err: twin.ErrConflict}
}

func keyString(key []any) string {
	if len(key) == 1 {
		return fmt.Sprint(key[0])
	}
	s := ""
	for i, k := range key {
		if i > 0 {
			s += "/"
		}
		s += fmt.Sprint(k)
	}
	return s
}

// version is a uint64 version as a bigint.
func version(v uint64) int64 { return int64(min(v, math.MaxInt64)) }

// ts is t in UTC for a timestamptz column, or nil (NULL) for the zero time.
func ts(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}

// codeText is s, or nil (NULL) when none.
func codeText(s string, none bool) any {
	if none {
		return nil
	}
	return s
}

func recordErr(table, key string, err error) error {
	return &RecordError{Table: table, Code: key, Err: ErrRow, Cause: err}
}

// LoadSensors calls fn with every sensor and its last status (the zero
// Status when none was checkpointed), in id order.
func (s *Store) LoadSensors(ctx context.Context, fn func(sensors.Sensor, sensors.Status) error) error {
	return s.loadBodies(ctx, "sensors", `SELECT s.id, s.version, s.body, st.body FROM sensors s
  LEFT JOIN sensor_status st ON st.sensor = s.id ORDER BY s.id`, func(rows pgx.Rows) error {
		var (
			id     string
			v      int64
			body   []byte
			status []byte
			x      sensors.Sensor
			st     sensors.Status
		)
		if err := rows.Scan(&id, &v, &body, &status); err != nil {
			return wrap("load sensors", err)
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
  WHERE state = 'open' OR cleared >= $1 ORDER BY id`, func(rows pgx.Rows) error {
		var a sensors.Alarm
		v, err := scanBody(rows, "alarms", &a)
		if err != nil {
			return err
		}
		a.Version = v
		return fn(a)
	}, since.UTC())
}

// LoadCases calls fn with every case.
func (s *Store) LoadCases(ctx context.Context, fn func(incidents.Case) error) error {
	return s.loadBodies(ctx, "cases", `SELECT id, version, body FROM cases ORDER BY id`, func(rows pgx.Rows) error {
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
	return s.loadBodies(ctx, "departments", `SELECT code, version, body FROM departments ORDER BY code`, func(rows pgx.Rows) error {
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
  FROM responsibilities ORDER BY district, type, class`, func(rows pgx.Rows) error {
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
	if err := s.check(); err != nil {
		return incidents.Calendar{}, false, err
	}
	var body []byte
	err := s.pool.QueryRow(ctx, `SELECT body FROM calendar WHERE id = 1`).Scan(&body)
	if errors.Is(err, pgx.ErrNoRows) {
		return incidents.Calendar{}, false, nil
	}
	if err != nil {
		return incidents.Calendar{}, false, wrap("load calendar", err)
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
  WHERE state = 'pending' AND (next IS NULL OR next <= $1) ORDER BY next NULLS FIRST, created, id LIMIT $2`,
		func(rows pgx.Rows) error {
			var n incidents.Notification
			if _, err := scanBody(rows, "notifications", &n); err != nil {
				return err
			}
			out = append(out, n)
			return nil
		}, now.UTC(), limit)
	return out, err
}

// MarkNotification stores the outcome of a delivery attempt: n's State,
// Attempts, Next and Error. An unknown notification gives an error
// wrapping incidents.ErrNotFound.
func (s *Store) MarkNotification(ctx context.Context, n incidents.Notification) error {
	if err := s.check(); err != nil {
		return err
	}
	body, err := json.Marshal(n)
	if err != nil {
		return recordErr("notifications", n.ID, err)
	}
	tag, err := s.pool.Exec(ctx, `UPDATE notifications SET state = $2, attempts = $3, next = $4, body = $5 WHERE id = $1`,
		n.ID, n.State, n.Attempts, ts(n.Next), body)
	if err != nil {
		return wrap("mark notification "+n.ID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgis: mark notification %s: %w", n.ID, incidents.ErrNotFound)
	}
	return nil
}

// MarkNotifications stores the outcome of several delivery attempts (or
// claims) in one transaction; unknown notifications are skipped.
func (s *Store) MarkNotifications(ctx context.Context, ns []incidents.Notification) error {
	if err := s.check(); err != nil {
		return err
	}
	if len(ns) == 0 {
		return nil
	}
	batch := &pgx.Batch{}
	for _, n := range ns {
		body, err := json.Marshal(n)
		if err != nil {
			return recordErr("notifications", n.ID, err)
		}
		batch.Queue(`UPDATE notifications SET state = $2, attempts = $3, next = $4, body = $5 WHERE id = $1`,
			n.ID, n.State, n.Attempts, ts(n.Next), body)
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		return wrap("mark notifications", tx.SendBatch(ctx, batch).Close())
	})
}

// loadBodies runs q and calls each for every row, stopping at its first
// error.
func (s *Store) loadBodies(ctx context.Context, table, q string, each func(pgx.Rows) error, args ...any) error {
	if err := s.check(); err != nil {
		return err
	}
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return wrap("load "+table, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := each(rows); err != nil {
			return err
		}
	}
	return wrap("load "+table, rows.Err())
}

// scanBody scans a row of key, version and body and decodes the body into
// v; it returns the version.
func scanBody(rows pgx.Rows, table string, v any) (uint64, error) {
	var (
		key  string
		ver  int64
		body []byte
	)
	if err := rows.Scan(&key, &ver, &body); err != nil {
		return 0, wrap("load "+table, err)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return 0, &RowError{Table: table, Key: key, Field: "body", Err: err}
	}
	return uint64(max(ver, 0)), nil
}
