package twin

import (
	"context"
	"fmt"

	"citytwin/incidents"
)

// adminOnly refuses every actor but an admin.
func adminOnly(actor incidents.Actor, what string) error {
	if actor.Role != incidents.RoleAdmin {
		return fmt.Errorf("%w: only an admin may %s", incidents.ErrNotAllowed, what)
	}
	return nil
}

// PutDepartment adds or changes a department (admin). ifVersion, when not
// 0, must equal the current version.
func (t *Twin) PutDepartment(ctx context.Context, d incidents.Department, ifVersion uint64, actor incidents.Actor) (incidents.Department, error) {
	if err := adminOnly(actor, "edit departments"); err != nil {
		return incidents.Department{}, err
	}
	if err := d.Validate(); err != nil {
		return incidents.Department{}, err
	}
	t.wmu.Lock()
	defer t.wmu.Unlock()
	var prev uint64
	if cur, err := t.live.dir.Get(d.Code); err == nil {
		prev = cur.Version
	}
	if ifVersion != 0 && ifVersion != prev {
		return incidents.Department{}, fmt.Errorf("%w: department %s is at version %d, not %d", incidents.ErrVersionMismatch, d.Code, prev, ifVersion)
	}
	d.Version = prev + 1
	if err := t.write(ctx, Batch{Departments: []Versioned[incidents.Department]{{Value: d, Prev: prev}}}); err != nil {
		return incidents.Department{}, err
	}
	t.live.dir.Put(d)
	return d, nil
}

// DeleteDepartment removes a department (admin). Cases keep its code.
func (t *Twin) DeleteDepartment(ctx context.Context, code string, ifVersion uint64, actor incidents.Actor) error {
	if err := adminOnly(actor, "edit departments"); err != nil {
		return err
	}
	t.wmu.Lock()
	defer t.wmu.Unlock()
	cur, err := t.live.dir.Get(code)
	if err != nil {
		return err
	}
	if ifVersion != 0 && ifVersion != cur.Version {
		return fmt.Errorf("%w: department %s is at version %d, not %d", incidents.ErrVersionMismatch, code, cur.Version, ifVersion)
	}
	if err := t.write(ctx, Batch{DeletedDepartments: []Versioned[string]{{Value: code, Prev: cur.Version}}}); err != nil {
		return err
	}
	t.live.dir.Delete(code)
	return nil
}

// PutResponsibility adds or changes a row of the class responsibility
// table (admin): in district (6 digits, or "*" for every district), class
// is the responsibility of dept.
func (t *Twin) PutResponsibility(ctx context.Context, r incidents.Responsibility, actor incidents.Actor) (incidents.Responsibility, error) {
	if err := adminOnly(actor, "edit the responsibility table"); err != nil {
		return incidents.Responsibility{}, err
	}
	if err := r.Validate(); err != nil {
		return incidents.Responsibility{}, err
	}
	t.wmu.Lock()
	defer t.wmu.Unlock()
	var prev uint64
	if cur, ok := t.live.table.Get(r.District, incidents.ClassKey(r.Type, r.Class)); ok {
		prev = cur.Version
	}
	r.Version = prev + 1
	if err := t.write(ctx, Batch{Responsibilities: []Versioned[incidents.Responsibility]{{Value: r, Prev: prev}}}); err != nil {
		return incidents.Responsibility{}, err
	}
	t.live.table.Put(r)
	return r, nil
}

// DeleteResponsibility removes the row of district, type and class (admin).
func (t *Twin) DeleteResponsibility(ctx context.Context, district string, typ incidents.Type, class string, actor incidents.Actor) error {
	key := incidents.ClassKey(typ, class)
	if err := adminOnly(actor, "edit the responsibility table"); err != nil {
		return err
	}
	t.wmu.Lock()
	defer t.wmu.Unlock()
	cur, ok := t.live.table.Get(district, key)
	if !ok {
		return fmt.Errorf("%w: responsibility %s/%s", incidents.ErrNotFound, district, key)
	}
	// A seeded row (version 0) was never stored.
	if cur.Version > 0 {
		if err := t.write(ctx, Batch{DeletedResponsibilities: []Versioned[incidents.Responsibility]{{Value: cur, Prev: cur.Version}}}); err != nil {
			return err
		}
	}
	_, err := t.live.table.Delete(district, key)
	return err
}

// SetCalendar replaces the work calendar that sets deadlines (admin).
// Deadlines already set stay.
func (t *Twin) SetCalendar(ctx context.Context, cal incidents.Calendar, actor incidents.Actor) (incidents.Calendar, error) {
	if err := adminOnly(actor, "change the work calendar"); err != nil {
		return incidents.Calendar{}, err
	}
	if err := cal.Validate(); err != nil {
		return incidents.Calendar{}, err
	}
	t.wmu.Lock()
	defer t.wmu.Unlock()
	if err := t.write(ctx, Batch{Calendar: &cal}); err != nil {
		return incidents.Calendar{}, err
	}
	t.live.cmu.Lock()
	t.live.cal = cal
	t.live.cmu.Unlock()
	return cal, nil
}
