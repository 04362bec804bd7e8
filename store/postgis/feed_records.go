package postgis

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/jackc/pgx/v5"

	"citytwin/incidents"
	"citytwin/sensors"
	"citytwin/twin"
)

// changedKeys are the distinct keys of a page of the change log, by table
// in the order first seen, with the version of the last entry of each (for
// a key no longer stored: the version it had at the latest when deleted).
type changedKeys map[string]*tableKeys

type tableKeys struct {
	order []string
	last  map[string]uint64
}

// collectKeys gathers the keys of changes, and alarms ids to read again.
// The keys are the strings of changes: nothing is copied.
func collectKeys(changes []Change, alarms []string) changedKeys {
	k := make(changedKeys, 2)
	var cur *tableKeys
	var curTable string
	add := func(table, key string, v uint64, keep bool) {
		if cur == nil || table != curTable {
			cur = k[table]
			if cur == nil {
				cur = &tableKeys{last: make(map[string]uint64)}
				k[table] = cur
			}
			curTable = table
		}
		if _, seen := cur.last[key]; !seen {
			cur.order = append(cur.order, key)
		} else if keep {
			return
		}
		cur.last[key] = v
	}
	for i := range changes {
		c := &changes[i]
		add(c.Table, c.Key, c.Version, false)
	}
	for _, id := range alarms {
		add("alarms", id, 0, true)
	}
	return k
}

func (k changedKeys) codes(table string) []string {
	if t := k[table]; t != nil {
		return t.order
	}
	return nil
}

func (k changedKeys) version(table, key string) uint64 {
	if t := k[table]; t != nil {
		return t.last[key]
	}
	return 0
}

// recordQueries read the rows of records by key: key, version, body.
var recordQueries = map[string]string{
	"sensors":     `SELECT id, version, body FROM sensors WHERE id = ANY($1)`,
	"alarms":      `SELECT id, version, body FROM alarms WHERE id = ANY($1)`,
	"cases":       `SELECT id, version, body FROM cases WHERE id = ANY($1)`,
	"departments": `SELECT code, version, body FROM departments WHERE code = ANY($1)`,
	"responsibilities": `SELECT district || '/' || type || ':' || class, version, body FROM responsibilities
  WHERE district || '/' || type || ':' || class = ANY($1)`,
}

// readRecords reads the records that keys names into out, in q's
// snapshot; keys no longer stored are deletions (alarms are never
// deleted; the calendar stays as it is). Rows that do not decode go to bad.
func readRecords(ctx context.Context, q queryer, keys changedKeys, out *twin.ExternalRecords, bad func(*RowError) error) error {
	for _, table := range []string{"departments", "responsibilities", "sensors", "alarms", "cases"} {
		ks := keys.codes(table)
		if len(ks) == 0 {
			continue
		}
		found := make(map[string]bool, len(ks))
		rows, err := q.Query(ctx, recordQueries[table], ks)
		if err != nil {
			return wrap("read "+table+" by key", err)
		}
		for rows.Next() {
			var (
				key  string
				ver  int64
				body []byte
			)
			if err := rows.Scan(&key, &ver, &body); err != nil {
				rows.Close()
				return wrap("read "+table+" by key", err)
			}
			found[key] = true
			v := uint64(max(ver, 0))
			if err := decodeRecord(table, body, v, out); err != nil {
				if err := badRow(bad, &RowError{Table: table, Key: key, Field: "body", Err: err}); err != nil {
					rows.Close()
					return err
				}
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return wrap("read "+table+" by key", err)
		}
		for _, key := range ks {
			if found[key] {
				continue
			}
			prev := keys.version(table, key)
			switch table {
			case "sensors":
				out.DeletedSensors = append(out.DeletedSensors, twin.Versioned[sensors.ID]{Value: sensors.ID(key), Prev: prev})
			case "cases":
				out.DeletedCases = append(out.DeletedCases, twin.Versioned[incidents.ID]{Value: incidents.ID(key), Prev: prev})
			case "departments":
				out.DeletedDepartments = append(out.DeletedDepartments, twin.Versioned[string]{Value: key, Prev: prev})
			case "responsibilities":
				if r, ok := parseResponsibilityKey(key); ok {
					out.DeletedResponsibilities = append(out.DeletedResponsibilities, twin.Versioned[incidents.Responsibility]{Value: r, Prev: prev})
				}
			}
		}
	}
	if len(keys.codes("calendar")) > 0 {
		var body []byte
		err := q.QueryRow(ctx, `SELECT body FROM calendar WHERE id = 1`).Scan(&body)
		switch {
		case err == nil:
			var c incidents.Calendar
			if err := json.Unmarshal(body, &c); err != nil {
				if err := badRow(bad, &RowError{Table: "calendar", Key: "1", Field: "body", Err: err}); err != nil {
					return err
				}
			} else {
				out.Calendar = &c
			}
		case !errors.Is(err, pgx.ErrNoRows):
			return wrap("read calendar", err)
		}
	}
	return nil
}

// decodeRecord decodes the body of a row of table at version v into out.
func decodeRecord(table string, body []byte, v uint64, out *twin.ExternalRecords) error {
	switch table {
	case "sensors":
		var x sensors.Sensor
		if err := json.Unmarshal(body, &x); err != nil {
			return err
		}
		x.Version = v
		out.Sensors = append(out.Sensors, x)
	case "alarms":
		var x sensors.Alarm
		if err := json.Unmarshal(body, &x); err != nil {
			return err
		}
		x.Version = v
		out.Alarms = append(out.Alarms, x)
	case "cases":
		var x incidents.Case
		if err := json.Unmarshal(body, &x); err != nil {
			return err
		}
		x.Version = v
		out.Cases = append(out.Cases, x)
	case "departments":
		var x incidents.Department
		if err := json.Unmarshal(body, &x); err != nil {
			return err
		}
		x.Version = v
		out.Departments = append(out.Departments, x)
	case "responsibilities":
		var x incidents.Responsibility
		if err := json.Unmarshal(body, &x); err != nil {
			return err
		}
		x.Version = v
		out.Responsibilities = append(out.Responsibilities, x)
	}
	return nil
}

// parseResponsibilityKey splits "district/type:class".
func parseResponsibilityKey(key string) (incidents.Responsibility, bool) {
	district, rest, ok := strings.Cut(key, "/")
	if !ok {
		return incidents.Responsibility{}, false
	}
	typ, class, ok := strings.Cut(rest, ":")
	if !ok {
		return incidents.Responsibility{}, false
	}
	return incidents.Responsibility{District: district, Type: incidents.Type(typ), Class: class}, true
}
