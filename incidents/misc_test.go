package incidents

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"citytwin/parts"

	"github.com/paulmach/orb"
)

func TestNewID(t *testing.T) {
	now := time.Date(2026, 9, 30, 20, 0, 0, 0, time.UTC) // 04:00 on 1 October in China
	seen := make(map[ID]bool)
	for range 1000 {
		id, err := NewID(now, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(id), "C20261001-") || len(id) != 20 || id.Day() != "20261001" {
			t.Fatalf("id %s", id)
		}
		if _, err := ParseID(string(id)); err != nil {
			t.Fatal(err)
		}
		if seen[id] {
			t.Fatalf("duplicate id %s", id)
		}
		seen[id] = true
	}
	if _, err := NewID(now, bytes.NewReader([]byte{1, 2})); err == nil {
		t.Fatal("a short random source gave an id")
	}
	id, _ := NewID(now, bytes.NewReader(make([]byte, 10)))
	if id != "C20261001-0000000000" {
		t.Fatalf("zero bytes gave %s", id)
	}
	for _, bad := range []string{"", "C20261301-0000000000", "X20261001-0000000000", "C20261001-000000000I", "C20261001_0000000000", "C20261001-00000000000"} {
		if _, err := ParseID(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseID(%q) = %v", bad, err)
		}
	}
}

func FuzzParseID(f *testing.F) {
	f.Add("C20261001-7KQ2M9XZ4A")
	f.Add("C20260230-0000000000")
	f.Fuzz(func(t *testing.T, s string) {
		id, err := ParseID(s)
		if err == nil && (string(id) != s || id.Day() == "") {
			t.Fatalf("ParseID(%q) = %q", s, id)
		}
	})
}

func TestParsers(t *testing.T) {
	if s, err := ParseSource("open311"); err != nil || s != SourceOpen311 {
		t.Fatal(s, err)
	}
	for _, f := range []func() error{
		func() error { _, err := ParseSource("fax"); return err },
		func() error { _, err := ParseType("thing"); return err },
		func() error { _, err := ParseState("done"); return err },
		func() error { _, err := ParseAction("fix"); return err },
		func() error { _, err := ParseRole("mayor"); return err },
	} {
		var fe *FieldError
		if err := f(); !errors.As(err, &fe) || !errors.Is(err, ErrInvalid) {
			t.Errorf("got %v", err)
		}
	}
}

func TestReport(t *testing.T) {
	lamp, _ := parts.NewCode(320508, 118, 1)
	pt := orb.Point{120.6, 31.3}
	tests := map[string]struct {
		r     Report
		field string // "" valid
	}{
		"code only":             {Report{Code: lamp, Source: SourceSensor}, ""},
		"point event":           {Report{Type: TypeEvent, Class: "0505", Location: &pt, Source: SourceApp, Media: []string{"https://x/1.jpg"}}, ""},
		"point component":       {Report{Type: TypeComponent, Class: "0118", Location: &pt, Source: SourceHotline}, ""},
		"no source":             {Report{Code: lamp}, "source"},
		"neither code nor spot": {Report{Type: TypeEvent, Class: "0505", Source: SourceApp}, "location"},
		"event with a code":     {Report{Type: TypeEvent, Code: lamp, Source: SourceApp}, "code"},
		"class mismatch":        {Report{Code: lamp, Class: "0101", Source: SourceApp}, "class"},
		"no type":               {Report{Class: "0505", Location: &pt, Source: SourceApp}, "type"},
		"no class":              {Report{Type: TypeEvent, Location: &pt, Source: SourceApp}, "class"},
		"bad class":             {Report{Type: TypeEvent, Class: "0500", Location: &pt, Source: SourceApp}, "class"},
		"bad point":             {Report{Type: TypeEvent, Class: "0505", Location: &orb.Point{0, 91}, Source: SourceApp}, "location"},
		"long description":      {Report{Type: TypeEvent, Class: "0505", Location: &pt, Source: SourceApp, Description: strings.Repeat("乱", MaxDescription+1)}, "description"},
		"empty media":           {Report{Type: TypeEvent, Class: "0505", Location: &pt, Source: SourceApp, Media: []string{""}}, "media[0]"},
		"bad reporter source":   {Report{Type: TypeEvent, Class: "0505", Location: &pt, Source: SourceApp, Reporter: Reporter{Source: "fax"}}, "reporter.source"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r := tc.r
			err := r.Validate()
			if tc.field == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != tc.field {
				t.Fatalf("got %v, want a *FieldError on %s", err, tc.field)
			}
		})
	}
	r := Report{Code: lamp, Source: SourceSensor, Problem: lamp.String() + "/lamp_power", Alarm: "s1#0"}
	if err := r.Validate(); err != nil || r.Type != TypeComponent || r.Class != "0118" {
		t.Fatalf("%+v %v", r, err)
	}
	now := t0
	c := NewCase(r, "C20261012-ABCDEFGHJK", Actor{Name: "sensors", Role: RoleAdmin}, now)
	if c.State != StateReported || len(c.History) != 1 || len(c.Reporters) != 1 || c.Reporters[0].Source != SourceSensor || len(c.Alarms) != 1 {
		t.Fatalf("%+v", c)
	}
	c.Location, c.Dept = pt, parts.DeptLighting
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	m := Merge(c, Report{Source: SourceApp, Reporter: Reporter{Name: "张三"}, Media: []string{"https://x/2.jpg"}, Alarm: "s1#0"}, Actor{Role: RolePublic}, now)
	if len(m.Reporters) != 2 || len(m.Alarms) != 1 || len(m.Media) != 1 || m.Version != c.Version+1 || len(m.History) != 2 || len(c.Reporters) != 1 {
		t.Fatalf("merge: %+v", m)
	}
}

func TestCaseValidate(t *testing.T) {
	base := testCase(StateDispatched)
	if err := base.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, mod := range map[string]func(c *Case){
		"no id":          func(c *Case) { c.ID = "" },
		"no dept":        func(c *Case) { c.Dept = "" },
		"closed no time": func(c *Case) { c.State = StateClosed },
		"prior not susp": func(c *Case) { c.Prior = StateRegistered },
		"susp no prior":  func(c *Case) { c.State = StateSuspended },
		"bad grid":       func(c *Case) { c.Grid = "12" },
		"no reported":    func(c *Case) { c.Reported = time.Time{} },
		"event code":     func(c *Case) { c.Code, _ = parts.NewCode(320508, 505, 1) },
	} {
		c := testCase(StateDispatched)
		mod(&c)
		if err := c.Validate(); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: got %v", name, err)
		}
	}
	c := testCase(StateDispatched)
	c.Due = t0.Add(time.Hour)
	if c.Overdue(t0) || !c.Overdue(t0.Add(2*time.Hour)) {
		t.Fatal("Overdue")
	}
	c.State = StateClosed
	if c.Overdue(t0.Add(2 * time.Hour)) {
		t.Fatal("a closed case is overdue")
	}
}

func TestDepartment(t *testing.T) {
	good := Department{Code: "street-320508001", Name: "双塔街道办事处", Webhook: "https://hooks.example/dispatch"}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	for field, d := range map[string]Department{
		"code":    {Code: "bad code", Name: "x"},
		"name":    {Code: "x", Name: " "},
		"webhook": {Code: "x", Name: "x", Webhook: "ftp://host/x"},
		"topic":   {Code: "x", Name: "x", Topic: "citytwin/#"},
	} {
		var fe *FieldError
		if err := d.Validate(); !errors.As(err, &fe) || fe.Field != field {
			t.Errorf("%s: got %v", field, err)
		}
	}
	if err := (&Department{Code: strings.Repeat("a", 65), Name: "x"}).Validate(); err == nil {
		t.Error("a 65-character code passed")
	}
	var dir Directory
	dir.Put(good)
	if _, existed := dir.Put(good); !existed || dir.Len() != 1 {
		t.Fatal("Put")
	}
	if d, err := dir.Get(good.Code); err != nil || d.Name != good.Name {
		t.Fatal(d, err)
	}
	if _, err := dir.Delete(good.Code); err != nil {
		t.Fatal(err)
	}
	if _, err := dir.Get(good.Code); !errors.Is(err, ErrNotFound) {
		t.Fatal(err)
	}
	if len(dir.All()) != 0 {
		t.Fatal("All")
	}
}

func TestNotifications(t *testing.T) {
	c := testCase(StateDispatched)
	ns, err := Notifications(c, Department{Code: "chengguan", Name: "城管", Webhook: "https://h/x"}, "https://city/incidents/"+string(c.ID), t0)
	if err != nil || len(ns) != 2 || ns[0].Target != "citytwin/dispatch/chengguan" || ns[1].Channel != ChannelWebhook || ns[0].State != NotifyPending {
		t.Fatalf("%+v %v", ns, err)
	}
	var d Dispatch
	if err := json.Unmarshal(ns[0].Payload, &d); err != nil || d.Case.ID != c.ID {
		t.Fatalf("payload %s: %v", ns[0].Payload, err)
	}
	n := ns[0]
	for range MaxAttempts - 1 {
		n = n.Failed(errors.New("broker down"), t0)
	}
	if n.State != NotifyPending || n.Next.Sub(t0) != 10*time.Minute {
		t.Fatalf("%+v", n)
	}
	if n = n.Failed(errors.New("broker down"), t0); n.State != NotifyDead {
		t.Fatalf("%+v", n)
	}
	if Backoff(1) != 2*time.Second || Backoff(2) != 4*time.Second {
		t.Fatal("Backoff")
	}
}

func TestEvents(t *testing.T) {
	ev := DefaultEvents()
	for class, en := range map[string]string{"0101": "illegal construction", "0102": "exposed rubbish", "0104": "dirty road",
		"0111": "standing water", "0201": "illegal flyers", "0301": "construction noise", "0302": "construction dust",
		"0401": "road collapse", "0402": "burst water main", "0403": "gas pipe rupture", "0404": "blocked or broken drain",
		"0411": "fire", "0501": "unlicensed vendors", "0505": "illegal parking", "0510": "open-air barbecue"} {
		ec, ok := ev.Lookup(class)
		if !ok || ec.NameEN != en || ec.Name == "" || ec.Major != class[:2] || ec.MajorName == "" {
			t.Errorf("%s: %+v %v", class, ec, ok)
		}
	}
	if err := ev.Validate("0999"); !errors.Is(err, ErrUnknownClass) {
		t.Fatal(err)
	}
}
