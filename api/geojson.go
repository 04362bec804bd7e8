package api

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/paulmach/orb"

	"citytwin/grid"
	"citytwin/parts"
)

// Media types of the API.
const (
	mediaGeoJSON = "application/geo+json"
	mediaJSON    = "application/json"
	mediaProblem = "application/problem+json"
	mediaMVT     = "application/vnd.mapbox-vector-tile"
)

// dateLayout is how surveyed and changed dates are written.
const dateLayout = "2006-01-02"

// geometryJSON is a GeoJSON geometry object; orb's types marshal as the
// nested coordinate arrays GeoJSON wants.
type geometryJSON struct {
	Type        string       `json:"type"`
	Coordinates orb.Geometry `json:"coordinates"`
}

func geometryOf(g orb.Geometry) *geometryJSON {
	if g == nil {
		return nil
	}
	return &geometryJSON{Type: g.GeoJSONType(), Coordinates: g}
}

// partProps are a component's GeoJSON properties, named as the store's
// columns. Photo, Note, SourceName and SourceID are nil when the reader may
// not see them (Principal.seesPrivate).
type partProps struct {
	Code           string   `json:"code"`
	Class          string   `json:"class"`
	Name           string   `json:"name"`
	DeptSupervisor string   `json:"dept_supervisor"`
	DeptOwner      string   `json:"dept_owner"`
	DeptMaintainer string   `json:"dept_maintainer"`
	GridCode       string   `json:"grid_code"`
	State          string   `json:"state"`
	Retired        bool     `json:"retired"`
	Surveyed       string   `json:"surveyed,omitempty"`
	Changed        string   `json:"changed,omitempty"`
	Source         string   `json:"source"`
	Photo          *string  `json:"photo,omitempty"`
	Note           *string  `json:"note,omitempty"`
	SourceName     *string  `json:"source_name,omitempty"` // provenance of an import
	SourceID       *string  `json:"source_id,omitempty"`
	Material       string   `json:"material"`
	Label          string   `json:"label"`
	Version        uint64   `json:"version"`
	Distance       *float64 `json:"distance,omitempty"` // metres, nearest only
}

// partFeature is a component as a GeoJSON Feature; its id is the code.
type partFeature struct {
	Type       string        `json:"type"`
	ID         string        `json:"id"`
	Geometry   *geometryJSON `json:"geometry"`
	Properties partProps     `json:"properties"`
}

func formatDate(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(dateLayout)
}

// featureOfPart encodes p for the principal who reads it.
func featureOfPart(p *parts.Part, who Principal) partFeature {
	code := p.Code.String()
	f := partFeature{
		Type:     "Feature",
		ID:       code,
		Geometry: geometryOf(p.Geometry),
		Properties: partProps{
			Code:           code,
			Class:          p.Class.String(),
			Name:           p.Name,
			DeptSupervisor: p.Supervisor,
			DeptOwner:      p.Owner,
			DeptMaintainer: p.Maintainer,
			GridCode:       p.Grid,
			State:          p.State.String(),
			Retired:        p.Retired,
			Surveyed:       formatDate(p.Surveyed),
			Changed:        formatDate(p.Changed),
			Source:         p.Source.String(),
			Material:       p.Material,
			Label:          p.Label,
			Version:        p.Version,
		},
	}
	if who.seesPrivate() {
		photo, note, srcName, srcID := p.Photo, p.Note, p.SourceName, p.SourceID
		f.Properties.Photo, f.Properties.Note = &photo, &note
		f.Properties.SourceName, f.Properties.SourceID = &srcName, &srcID
	}
	return f
}

// gridProps are a grid's GeoJSON properties.
type gridProps struct {
	Code      string `json:"code"`
	Name      string `json:"name"`
	Dept      string `json:"dept"`
	District  string `json:"district"`
	Street    string `json:"street"`
	Community string `json:"community"`
	Version   uint64 `json:"version"`
}

// gridFeature is a grid as a GeoJSON Feature; its id is the code.
type gridFeature struct {
	Type       string        `json:"type"`
	ID         string        `json:"id"`
	Geometry   *geometryJSON `json:"geometry"`
	Properties gridProps     `json:"properties"`
}

func featureOfGrid(g *grid.Grid) gridFeature {
	var geom *geometryJSON
	if len(g.Geometry) > 0 {
		geom = geometryOf(g.Geometry)
	}
	return gridFeature{
		Type:     "Feature",
		ID:       string(g.Code),
		Geometry: geom,
		Properties: gridProps{
			Code:      string(g.Code),
			Name:      g.Name,
			Dept:      g.Dept,
			District:  g.Code.District(),
			Street:    g.Code.Street(),
			Community: g.Code.Community(),
			Version:   g.Version,
		},
	}
}

// link is an OGC-style link.
type link struct {
	Href string `json:"href"`
	Rel  string `json:"rel"`
	Type string `json:"type,omitempty"`
}

// featureCollection is a page of features. NumberMatched is nil when not
// known; Missing lists requested codes that are unknown or retired.
type featureCollection[F any] struct {
	Type           string   `json:"type"`
	Features       []F      `json:"features"`
	NumberMatched  *int     `json:"numberMatched,omitempty"`
	NumberReturned int      `json:"numberReturned"`
	TimeStamp      string   `json:"timeStamp"`
	Links          []link   `json:"links,omitempty"`
	Missing        []string `json:"missing,omitempty"`
}

func newCollection[F any](fs []F) *featureCollection[F] {
	if fs == nil {
		fs = []F{}
	}
	return &featureCollection[F]{
		Type:           "FeatureCollection",
		Features:       fs,
		NumberReturned: len(fs),
		TimeStamp:      time.Now().UTC().Format(time.RFC3339),
	}
}

// writeJSON marshals v and sends it with the given content type.
func writeJSON(c echo.Context, status int, contentType string, v any) error {
	var b []byte
	var err error
	if fc, ok := v.(*featureCollection[partFeature]); ok {
		b, err = marshalPartCollection(fc)
	} else {
		b, err = json.Marshal(v)
	}
	if err != nil {
		return err
	}
	if c.Request().Method == http.MethodHead {
		c.Response().Header().Set(echo.HeaderContentType, contentType)
		return c.NoContent(status)
	}
	c.Response().Header().Set(echo.HeaderContentLength, strconv.Itoa(len(b)))
	return c.Blob(status, contentType, b)
}
