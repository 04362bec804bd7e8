package incidents

import (
	"fmt"
	"net/url"
	"sort"
	"strings"
	"sync"
)

// Department is a responsible department (责任单位) and where its
// dispatches go: an MQTT topic (default citytwin/dispatch/<code>) and an
// optional webhook.
type Department struct {
	Code    string `json:"code"` // 1..64 of [A-Za-z0-9_.-], e.g. "water", "street-320508001"
	Name    string `json:"name"`
	Contact string `json:"contact,omitempty"`
	Topic   string `json:"topic,omitempty"`   // MQTT topic of its dispatches; "" means DispatchTopic(Code)
	Webhook string `json:"webhook,omitempty"` // http(s) URL, optional
	Version uint64 `json:"version"`
}

// DispatchTopic is the default MQTT topic of a department's dispatches.
func DispatchTopic(dept string) string { return "citytwin/dispatch/" + dept }

// Validate checks the department; errors are *FieldError.
func (d *Department) Validate() error {
	if err := validateDeptCode("code", d.Code); err != nil {
		return err
	}
	if strings.TrimSpace(d.Name) == "" {
		return &FieldError{Field: "name", Reason: "a name is required"}
	}
	if err := validateText("name", d.Name, 200); err != nil {
		return err
	}
	if err := validateText("contact", d.Contact, 200); err != nil {
		return err
	}
	if d.Topic != "" {
		if len(d.Topic) > 256 || strings.ContainsAny(d.Topic, "+#\x00") {
			return &FieldError{Field: "topic", Reason: fmt.Sprintf("%q is not an MQTT topic name (no wildcards, at most 256 bytes)", d.Topic)}
		}
	}
	if d.Webhook != "" {
		u, err := url.Parse(d.Webhook)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(d.Webhook) > MaxLink {
			return &FieldError{Field: "webhook", Reason: fmt.Sprintf("%q is not an http(s) URL", d.Webhook)}
		}
	}
	return nil
}

// validateDeptCode checks a department code: 1..64 of [A-Za-z0-9_.-].
func validateDeptCode(field, s string) error {
	ok := len(s) >= 1 && len(s) <= 64
	for i := 0; ok && i < len(s); i++ {
		c := s[i]
		ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-'
	}
	if !ok {
		return &FieldError{Field: field, Reason: fmt.Sprintf("%q is not 1..64 of A-Z a-z 0-9 _ . -", s)}
	}
	return nil
}

// Directory holds departments in memory; it is safe for concurrent use.
// The zero value is empty and ready to use.
type Directory struct {
	mu sync.RWMutex
	m  map[string]Department
}

// NewDirectory returns an empty directory (the zero Directory is ready too).
func NewDirectory() *Directory { return &Directory{} }

// Put stores d as is (validated and persisted before) and returns the
// department it replaced.
func (dir *Directory) Put(d Department) (old Department, existed bool) {
	dir.mu.Lock()
	defer dir.mu.Unlock()
	if dir.m == nil {
		dir.m = make(map[string]Department)
	}
	old, existed = dir.m[d.Code]
	dir.m[d.Code] = d
	return old, existed
}

// Get returns the department with the code; the error wraps ErrNotFound.
func (dir *Directory) Get(code string) (Department, error) {
	dir.mu.RLock()
	d, ok := dir.m[code]
	dir.mu.RUnlock()
	if !ok {
		return Department{}, fmt.Errorf("%w: department %q", ErrNotFound, code)
	}
	return d, nil
}

// Delete removes the department and returns it; the error wraps ErrNotFound.
func (dir *Directory) Delete(code string) (Department, error) {
	dir.mu.Lock()
	defer dir.mu.Unlock()
	d, ok := dir.m[code]
	if !ok {
		return Department{}, fmt.Errorf("%w: department %q", ErrNotFound, code)
	}
	delete(dir.m, code)
	return d, nil
}

// Len returns the number of departments.
func (dir *Directory) Len() int {
	dir.mu.RLock()
	defer dir.mu.RUnlock()
	return len(dir.m)
}

// All returns every department by code.
func (dir *Directory) All() []Department {
	dir.mu.RLock()
	out := make([]Department, 0, len(dir.m))
	for _, d := range dir.m {
		out = append(out, d)
	}
	dir.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out
}

// Responsibility is one row of a class responsibility table: in District
// (a 6-digit county code, or "*" for every district) the department Dept
// answers for cases of Type and Class.
type Responsibility struct {
	District string `json:"district"` // 6-digit county code or "*"
	Type     Type   `json:"type"`     // component or event
	Class    string `json:"class"`    // 4-digit class
	Dept     string `json:"dept"`
	Version  uint64 `json:"version"`
}

// Wildcard is the District of a row that holds in every district.
const Wildcard = "*"

// Key returns the row key "district/type:class", e.g. "320508/event:0505";
// it is the Evidence.Table of cases routed by the row.
func (r *Responsibility) Key() string { return r.District + "/" + ClassKey(r.Type, r.Class) }

// Validate checks the row; errors are *FieldError.
func (r *Responsibility) Validate() error {
	if r.District != Wildcard && !allDigits(r.District, 6, 6) {
		return &FieldError{Field: "district", Reason: fmt.Sprintf("%q is not a 6-digit county code or *", r.District)}
	}
	if _, err := ParseType(string(r.Type)); err != nil {
		return err
	}
	if err := validateClass("class", r.Class); err != nil {
		return err
	}
	return validateDeptCode("dept", r.Dept)
}

// MemTable is a class responsibility Table in memory; it is safe for
// concurrent use. The zero value is empty and ready to use.
type MemTable struct {
	mu   sync.RWMutex
	rows map[string]Responsibility // by Key()
}

// NewMemTable returns a table holding rows (later rows replace earlier
// ones with the same key).
func NewMemTable(rows ...Responsibility) *MemTable {
	t := &MemTable{}
	for _, r := range rows {
		t.Put(r)
	}
	return t
}

// Put stores r as is and returns the row it replaced.
func (t *MemTable) Put(r Responsibility) (old Responsibility, existed bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.rows == nil {
		t.rows = make(map[string]Responsibility)
	}
	k := r.Key()
	old, existed = t.rows[k]
	t.rows[k] = r
	return old, existed
}

// Get returns the row of the district ("*" for the wildcard row) and
// class key (ClassKey), without falling back to the wildcard.
func (t *MemTable) Get(district, key string) (Responsibility, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	r, ok := t.rows[district+"/"+key]
	return r, ok
}

// Delete removes the row of the district and class key (ClassKey); the
// error wraps ErrNotFound.
func (t *MemTable) Delete(district, key string) (Responsibility, error) {
	k := district + "/" + key
	t.mu.Lock()
	defer t.mu.Unlock()
	r, ok := t.rows[k]
	if !ok {
		return Responsibility{}, fmt.Errorf("%w: responsibility %s", ErrNotFound, k)
	}
	delete(t.rows, k)
	return r, nil
}

// All returns every row by key.
func (t *MemTable) All() []Responsibility {
	t.mu.RLock()
	out := make([]Responsibility, 0, len(t.rows))
	for _, r := range t.rows {
		out = append(out, r)
	}
	t.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Key() < out[j].Key() })
	return out
}

// Len returns the number of rows.
func (t *MemTable) Len() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return len(t.rows)
}

// Responsible returns the row for the class key ("event:0505", see
// ClassKey) in the district, or else the wildcard row of the class.
func (t *MemTable) Responsible(district, key string) (Responsibility, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if r, ok := t.rows[district+"/"+key]; ok {
		return r, true
	}
	r, ok := t.rows[Wildcard+"/"+key]
	return r, ok
}
