package api

import (
	"net/http"
	"testing"
)

func TestDepartments(t *testing.T) {
	c := newCaseCity(t, nil)
	d := map[string]any{"name": "城管执法局", "contact": "0512-12319", "webhook": "https://chengguan.example/hook"}
	problem(t, c.postJSON(t, http.MethodPut, "/departments/chengguan", "", d, nil), http.StatusUnauthorized)
	problem(t, c.postJSON(t, http.MethodPut, "/departments/chengguan", "oper", d, nil), http.StatusForbidden)
	rec := c.postJSON(t, http.MethodPut, "/departments/chengguan", "admin", d, nil)
	got := expect(t, rec, http.StatusCreated, mediaJSON)
	if got["code"] != "chengguan" || got["version"] != 1.0 || rec.Header().Get("ETag") != `"1"` {
		t.Fatalf("created %v ETag %s", got, rec.Header().Get("ETag"))
	}
	d["contact"] = "12319"
	problem(t, c.postJSON(t, http.MethodPut, "/departments/chengguan", "admin", d, map[string]string{"If-Match": `"7"`}), http.StatusPreconditionFailed)
	got = expect(t, c.postJSON(t, http.MethodPut, "/departments/chengguan", "admin", d, map[string]string{"If-Match": `"1"`}), http.StatusOK, mediaJSON)
	if got["contact"] != "12319" || got["version"] != 2.0 {
		t.Errorf("changed %v", got)
	}
	for name, body := range map[string]map[string]any{
		"no name":        {"contact": "x"},
		"bad webhook":    {"name": "x", "webhook": "ftp://x"},
		"unknown member": {"name": "x", "colour": "red"},
		"other code":     {"name": "x", "code": "water"},
	} {
		t.Run(name, func(t *testing.T) {
			problem(t, c.postJSON(t, http.MethodPut, "/departments/chengguan", "admin", body, nil), http.StatusBadRequest)
		})
	}
	problem(t, c.postJSON(t, http.MethodPut, "/departments/bad%20code", "admin", map[string]any{"name": "x"}, nil), http.StatusBadRequest)
	// Everybody reads.
	list := expect(t, c.do(t, req{path: "/departments"}), http.StatusOK, mediaJSON)
	if ds := list["departments"].([]any); len(ds) != 1 {
		t.Errorf("departments %v", ds)
	}
	expect(t, c.do(t, req{path: "/departments/chengguan"}), http.StatusOK, mediaJSON)
	problem(t, c.do(t, req{path: "/departments/nobody"}), http.StatusNotFound)
	problem(t, c.do(t, req{method: http.MethodDelete, path: "/departments/chengguan", token: "water"}), http.StatusForbidden)
	if rec := c.do(t, req{method: http.MethodDelete, path: "/departments/chengguan", token: "admin"}); rec.Code != http.StatusNoContent {
		t.Fatalf("delete: %d %s", rec.Code, rec.Body.String())
	}
	problem(t, c.do(t, req{path: "/departments/chengguan"}), http.StatusNotFound)
	problem(t, c.do(t, req{method: http.MethodDelete, path: "/departments/chengguan", token: "admin"}), http.StatusNotFound)
}

func TestResponsibilities(t *testing.T) {
	c := newCaseCity(t, nil)
	put := func(path, token string, body map[string]any, status int) map[string]any {
		t.Helper()
		rec := c.postJSON(t, http.MethodPut, path, token, body, nil)
		if status >= 400 {
			return problem(t, rec, status)
		}
		return expect(t, rec, status, mediaJSON)
	}
	put("/responsibilities/320508/event:0505", "oper", map[string]any{"dept": "chengguan"}, http.StatusForbidden)
	row := put("/responsibilities/320508/event:0505", "admin", map[string]any{"dept": "chengguan"}, http.StatusCreated)
	if row["district"] != "320508" || row["type"] != "event" || row["class"] != "0505" || row["dept"] != "chengguan" {
		t.Fatalf("row %v", row)
	}
	put("/responsibilities/320508/event:0505", "admin", map[string]any{"dept": "traffic"}, http.StatusOK)
	put("/responsibilities/*/0118", "admin", map[string]any{"dept": "lighting-maint"}, http.StatusCreated) // a component class
	put("/responsibilities/3205/event:0505", "admin", map[string]any{"dept": "x"}, http.StatusBadRequest)
	put("/responsibilities/320508/event:05", "admin", map[string]any{"dept": "x"}, http.StatusBadRequest)
	put("/responsibilities/320508/parcel:0505", "admin", map[string]any{"dept": "x"}, http.StatusBadRequest)
	put("/responsibilities/320508/event:0505", "admin", map[string]any{"dept": ""}, http.StatusBadRequest)
	put("/responsibilities/320508/event:0505", "admin", map[string]any{"dept": "x", "district": "320509"}, http.StatusBadRequest)

	got := expect(t, c.do(t, req{path: "/responsibilities/320508/event:0505"}), http.StatusOK, mediaJSON)
	if got["dept"] != "traffic" || got["version"] != 2.0 {
		t.Errorf("row %v", got)
	}
	if got := expect(t, c.do(t, req{path: "/responsibilities/*/0118"}), http.StatusOK, mediaJSON); got["type"] != "component" {
		t.Errorf("a bare component class: %v", got)
	}
	all := expect(t, c.do(t, req{path: "/responsibilities?district=320508&type=event"}), http.StatusOK, mediaJSON)
	if rs := all["responsibilities"].([]any); len(rs) != 1 {
		t.Errorf("event rows of 320508: %v", rs)
	}
	// The row routes an illegal-parking report in the district.
	p := c.report(t, "pub", map[string]any{"lon": lon0 + 0.0015, "lat": lat0 + 0.0015, "class": "0505", "type": "event"}, http.StatusCreated)
	if p["dept"] != "traffic" || p["route"].(map[string]any)["rule"] != "class-table" {
		t.Errorf("routed to %v by %v", p["dept"], p["route"])
	}
	if rec := c.do(t, req{method: http.MethodDelete, path: "/responsibilities/320508/event:0505", token: "admin"}); rec.Code != http.StatusNoContent {
		t.Fatalf("delete: %d %s", rec.Code, rec.Body.String())
	}
	problem(t, c.do(t, req{path: "/responsibilities/320508/event:0505"}), http.StatusNotFound)
	problem(t, c.do(t, req{method: http.MethodDelete, path: "/responsibilities/320508/event:0505", token: "admin"}), http.StatusNotFound)
}
