package twin

import (
	"context"
	"time"

	"citytwin/incidents"
	"citytwin/sensors"
)

// Records is what the twin needs of persistence for everything beyond
// components and grids: sensors and their alarms, cases, departments,
// responsibility tables, the work calendar and the notification outbox.
// store/gpkg.Store and store/postgis.Store implement it.
type Records interface {
	// Write persists a batch in one transaction: all of it or nothing.
	// Every Versioned value is conditional on its Prev version (0: an
	// insert that fails when the key exists); a conflict wraps ErrConflict.
	Write(ctx context.Context, b Batch) error
	LoadSensors(ctx context.Context, fn func(sensors.Sensor, sensors.Status) error) error
	// LoadAlarms streams the open alarms and those cleared since since.
	LoadAlarms(ctx context.Context, since time.Time, fn func(sensors.Alarm) error) error
	LoadCases(ctx context.Context, fn func(incidents.Case) error) error
	LoadDepartments(ctx context.Context, fn func(incidents.Department) error) error
	LoadResponsibilities(ctx context.Context, fn func(incidents.Responsibility) error) error
	// LoadCalendar returns the stored work calendar; false when none is.
	LoadCalendar(ctx context.Context) (incidents.Calendar, bool, error)
	// DueNotifications returns up to limit pending notifications whose
	// next attempt is at or before now, oldest first.
	DueNotifications(ctx context.Context, now time.Time, limit int) ([]incidents.Notification, error)
	// MarkNotification stores the outcome of a delivery attempt (its
	// State, Attempts, Next and Error).
	MarkNotification(ctx context.Context, n incidents.Notification) error
}

// Versioned is a value written on condition: Prev is the version the
// writer read (0 for a new key).
type Versioned[T any] struct {
	Value T
	Prev  uint64
}

// Batch is one transaction of Records.Write.
type Batch struct {
	Sensors                 []Versioned[sensors.Sensor]
	DeletedSensors          []Versioned[sensors.ID]
	Alarms                  []sensors.Alarm // upserted by ID
	Statuses                []sensors.Status
	Cases                   []Versioned[incidents.Case]
	Departments             []Versioned[incidents.Department]
	DeletedDepartments      []Versioned[string]
	Responsibilities        []Versioned[incidents.Responsibility]
	DeletedResponsibilities []Versioned[incidents.Responsibility]
	Calendar                *incidents.Calendar
	Notifications           []incidents.Notification // new outbox rows
}

// IsZero reports whether the batch writes nothing.
func (b *Batch) IsZero() bool {
	return len(b.Sensors) == 0 && len(b.DeletedSensors) == 0 && len(b.Alarms) == 0 &&
		len(b.Statuses) == 0 && len(b.Cases) == 0 && len(b.Departments) == 0 &&
		len(b.DeletedDepartments) == 0 && len(b.Responsibilities) == 0 &&
		len(b.DeletedResponsibilities) == 0 && b.Calendar == nil && len(b.Notifications) == 0
}
