package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"citytwin/parts"
	"citytwin/sensors"
)

// simPage is the size of the pages the simulator reads and binds.
const simPage = 1000

// simAPI is the citytwin HTTP API as the simulator uses it.
type simAPI struct {
	base  string // http://host:port, no trailing slash
	token string
	hc    *http.Client
}

// simCollection is the part of a GeoJSON page the simulator reads.
type simCollection struct {
	Features []struct {
		ID         string          `json:"id"`
		Properties json.RawMessage `json:"properties"`
	} `json:"features"`
	Links []struct {
		Href string `json:"href"`
		Rel  string `json:"rel"`
	} `json:"links"`
}

// get reads the GeoJSON page at path (or at an absolute next link).
func (a *simAPI) get(ctx context.Context, path string) (simCollection, error) {
	var fc simCollection
	u := path
	if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
		u = a.base + path
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fc, fmt.Errorf("GET %s: %w", path, err)
	}
	body, err := a.do(req)
	if err != nil {
		return fc, err
	}
	if err := json.Unmarshal(body, &fc); err != nil {
		return fc, fmt.Errorf("GET %s: %w", path, err)
	}
	return fc, nil
}

func (a *simAPI) do(req *http.Request) ([]byte, error) {
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	resp, err := a.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", req.Method, req.URL.Path, err)
	}
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("%s %s: %s: %s", req.Method, req.URL.Path, resp.Status, bytes.TrimSpace(body[:min(len(body), 500)]))
	}
	return body, nil
}

func nextLink(fc simCollection) string {
	for _, l := range fc.Links {
		if l.Rel == "next" {
			return l.Href
		}
	}
	return ""
}

// boundSensors reads up to n bound sensors with GET /sensors, page by page.
func (a *simAPI) boundSensors(ctx context.Context, n int) ([]simSensor, error) {
	var out []simSensor
	next := fmt.Sprintf("/sensors?limit=%d", simPage)
	for next != "" && len(out) < n {
		fc, err := a.get(ctx, next)
		if err != nil {
			return nil, err
		}
		for _, f := range fc.Features {
			var p struct {
				Kind  sensors.Kind   `json:"kind"`
				Rules []sensors.Rule `json:"rules"`
			}
			if err := json.Unmarshal(f.Properties, &p); err != nil {
				return nil, fmt.Errorf("GET /sensors: sensor %s: %w", f.ID, err)
			}
			out = append(out, simSensor{ID: sensors.ID(f.ID), Kind: p.Kind, Rules: p.Rules})
		}
		next = nextLink(fc)
	}
	return out[:min(len(out), n)], nil
}

// components reads up to n live components of the classes, skipping the
// codes in taken.
func (a *simAPI) components(ctx context.Context, classes []parts.Class, n int, taken map[parts.Code]bool) ([]parts.Code, error) {
	cs := make([]string, len(classes))
	for i, c := range classes {
		cs[i] = c.String()
	}
	var out []parts.Code
	next := "/parts?" + url.Values{"class": {strings.Join(cs, ",")}, "limit": {fmt.Sprint(simPage)}}.Encode()
	for next != "" && len(out) < n {
		fc, err := a.get(ctx, next)
		if err != nil {
			return nil, err
		}
		for _, f := range fc.Features {
			var p struct {
				Code    string `json:"code"`
				Retired bool   `json:"retired"`
			}
			if err := json.Unmarshal(f.Properties, &p); err != nil {
				return nil, fmt.Errorf("GET /parts: %s: %w", f.ID, err)
			}
			code, err := parts.ParseCode(p.Code)
			if err != nil || p.Retired || taken[code] {
				continue
			}
			taken[code] = true
			out = append(out, code)
			if len(out) == n {
				break
			}
		}
		next = nextLink(fc)
	}
	return out, nil
}

// simBinding is the body of one sensor of POST /sensors.
type simBinding struct {
	ID    sensors.ID     `json:"id"`
	Kind  sensors.Kind   `json:"kind"`
	Unit  string         `json:"unit"`
	Code  string         `json:"code"`
	Rules []sensors.Rule `json:"rules"`
}

// bind registers the sensors with POST /sensors, a page at a time.
func (a *simAPI) bind(ctx context.Context, bs []simBinding) error {
	for len(bs) > 0 {
		page := bs[:min(len(bs), simPage)]
		bs = bs[len(page):]
		body, err := json.Marshal(page)
		if err != nil {
			return fmt.Errorf("POST /sensors: %w", err)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.base+"/sensors", bytes.NewReader(body))
		if err != nil {
			return fmt.Errorf("POST /sensors: %w", err)
		}
		req.Header.Set("Content-Type", "application/json")
		if _, err := a.do(req); err != nil {
			return err
		}
	}
	return nil
}

// ensureSensors returns n sensors to simulate: the bound ones first, then
// new ones ("sim-<kind>-<n>") bound to real components of the classes each
// kind fits, the kinds taking turns, with their kind's default rules.
func (a *simAPI) ensureSensors(ctx context.Context, n int) (bound, added []simSensor, err error) {
	bound, err = a.boundSensors(ctx, n)
	if err != nil {
		return nil, nil, err
	}
	missing := n - len(bound)
	if missing <= 0 {
		return bound, nil, nil
	}
	have := make(map[sensors.ID]bool, len(bound))
	for _, s := range bound {
		have[s.ID] = true
	}
	kinds := sensors.Kinds()
	per := (missing + len(kinds) - 1) / len(kinds)
	taken := make(map[parts.Code]bool)
	var bs []simBinding
	for _, k := range kinds {
		codes, err := a.components(ctx, k.Classes, per, taken)
		if err != nil {
			return nil, nil, err
		}
		i := 0
		for _, code := range codes {
			id := sensors.ID(fmt.Sprintf("sim-%s-%d", k.Kind, i))
			for have[id] {
				i++
				id = sensors.ID(fmt.Sprintf("sim-%s-%d", k.Kind, i))
			}
			have[id] = true
			i++
			bs = append(bs, simBinding{ID: id, Kind: k.Kind, Unit: k.Unit, Code: code.String(), Rules: k.Rules})
		}
	}
	bs = bs[:min(len(bs), missing)]
	if len(bs) == 0 {
		return bound, nil, nil
	}
	if err := a.bind(ctx, bs); err != nil {
		return nil, nil, err
	}
	for _, b := range bs {
		added = append(added, simSensor{ID: b.ID, Kind: b.Kind, Rules: b.Rules})
	}
	return bound, added, nil
}
