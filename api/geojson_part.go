package api

import (
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/labstack/echo/v4"

	"citytwin/parts"
)

// The hottest answers (one component, nearest) are written straight from
// the parts.Part into a pooled buffer: no partFeature, no strings made for
// the code, class, dates. The bytes are those of appendPartFeature over
// featureOfPart (a test holds them equal), and, for a single component,
// those encoding/json wrote before (HTML characters escaped).

// appendPart writes p as the GeoJSON Feature featureOfPart(p, who) with
// distance dist (nil: none). html escapes <, > and & as encoding/json's
// Marshal does.
func appendPart(b []byte, p *parts.Part, who Principal, dist *float64, html bool) []byte {
	safe := &jsonSafe
	if html {
		safe = &jsonHTMLSafe
	}
	b = append(b, `{"type":"Feature","id":"`...)
	b = p.Code.AppendDigits(b)
	b = append(b, `","geometry":`...)
	if p.Geometry == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, `{"type":`...)
		b = appendJSONStr(b, p.Geometry.GeoJSONType(), safe)
		b = append(b, `,"coordinates":`...)
		b = appendCoordinates(b, p.Geometry)
		b = append(b, '}')
	}
	b = append(b, `,"properties":{"code":"`...)
	b = p.Code.AppendDigits(b)
	b = append(b, `","class":`...)
	b = appendClass(b, p.Class, safe)
	b = appendStrField(b, `,"name":`, p.Name, safe)
	b = appendStrField(b, `,"dept_supervisor":`, p.Supervisor, safe)
	b = appendStrField(b, `,"dept_owner":`, p.Owner, safe)
	b = appendStrField(b, `,"dept_maintainer":`, p.Maintainer, safe)
	b = appendStrField(b, `,"grid_code":`, p.Grid, safe)
	b = appendStrField(b, `,"state":`, p.State.String(), safe)
	if p.Retired {
		b = append(b, `,"retired":true`...)
	} else {
		b = append(b, `,"retired":false`...)
	}
	if !p.Surveyed.IsZero() {
		b = append(b, `,"surveyed":"`...)
		b = appendDate(b, p.Surveyed)
		b = append(b, '"')
	}
	if !p.Changed.IsZero() {
		b = append(b, `,"changed":"`...)
		b = appendDate(b, p.Changed)
		b = append(b, '"')
	}
	b = appendStrField(b, `,"source":`, p.Source.String(), safe)
	if who.seesPrivate() {
		b = appendStrField(b, `,"photo":`, p.Photo, safe)
		b = appendStrField(b, `,"note":`, p.Note, safe)
		b = appendStrField(b, `,"source_name":`, p.SourceName, safe)
		b = appendStrField(b, `,"source_id":`, p.SourceID, safe)
	}
	b = appendStrField(b, `,"material":`, p.Material, safe)
	b = appendStrField(b, `,"label":`, p.Label, safe)
	b = append(b, `,"version":`...)
	b = strconv.AppendUint(b, p.Version, 10)
	if dist != nil {
		b = append(b, `,"distance":`...)
		b = appendFloat(b, *dist)
	}
	return append(b, "}}"...)
}

func appendStrField(b []byte, key, v string, safe *[utf8.RuneSelf]bool) []byte {
	b = append(b, key...)
	return appendJSONStr(b, v, safe)
}

// appendClass writes Class.String (%04d) as a JSON string.
func appendClass(b []byte, c parts.Class, safe *[utf8.RuneSelf]bool) []byte {
	if c > 9999 {
		return appendJSONStr(b, c.String(), safe)
	}
	return append(b, '"', byte('0'+c/1000), byte('0'+c/100%10), byte('0'+c/10%10), byte('0'+c%10), '"')
}

// appendNearest writes the collection of nearest components that
// writeJSON(newCollection(features with distances)) wrote, at now.
func appendNearest(b []byte, ns []parts.Neighbor, who Principal, now time.Time) []byte {
	b = append(b, `{"type":"FeatureCollection","features":[`...)
	for i := range ns {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendPart(b, &ns[i].Part, who, &ns[i].Distance, false)
	}
	b = append(b, `],"numberReturned":`...)
	b = strconv.AppendInt(b, int64(len(ns)), 10)
	b = append(b, `,"timeStamp":"`...)
	b = appendTimeStamp(b, now)
	return append(b, `"}`...)
}

// appendPage writes a page of components as the FeatureCollection that
// marshalPartCollection writes for their featureOfPart, with numberMatched,
// the time stamp now and links, without making the features first.
func appendPage(b []byte, page *parts.Page, who Principal, links []link, now time.Time) ([]byte, error) {
	b = append(b, `{"type":"FeatureCollection","features":[`...)
	for i := range page.Parts {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendPart(b, &page.Parts[i], who, nil, false)
	}
	b = append(b, `],"numberMatched":`...)
	b = strconv.AppendInt(b, int64(page.NumberMatched), 10)
	b = append(b, `,"numberReturned":`...)
	b = strconv.AppendInt(b, int64(len(page.Parts)), 10)
	b = append(b, `,"timeStamp":"`...)
	b = appendTimeStamp(b, now)
	b = append(b, '"')
	if len(links) > 0 {
		lb, err := json.Marshal(links)
		if err != nil {
			return nil, err
		}
		b = append(b, `,"links":`...)
		b = append(b, lb...)
	}
	return append(b, '}'), nil
}

// appendDate writes t.UTC().Format(dateLayout), YYYY-MM-DD, without
// reading the layout.
func appendDate(b []byte, t time.Time) []byte {
	t = t.UTC()
	y, m, d := t.Date()
	if y < 0 || y > 9999 {
		return t.AppendFormat(b, dateLayout)
	}
	return append(b, byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10),
		'-', byte('0'+m/10), byte('0'+m%10), '-', byte('0'+d/10), byte('0'+d%10))
}

// appendTimeStamp writes t.UTC().Format(time.RFC3339), as
// YYYY-MM-DDThh:mm:ssZ, without reading the layout.
func appendTimeStamp(b []byte, t time.Time) []byte {
	t = t.UTC()
	if y := t.Year(); y < 0 || y > 9999 {
		return t.AppendFormat(b, time.RFC3339)
	}
	b = appendDate(b, t)
	hh, mm, ss := t.Clock()
	return append(b, 'T', byte('0'+hh/10), byte('0'+hh%10), ':', byte('0'+mm/10), byte('0'+mm%10),
		':', byte('0'+ss/10), byte('0'+ss%10), 'Z')
}

// bufPool holds the buffers of answers written by hand. Buffers over
// maxPooledBuf are left to the collector.
type bufPool struct{ p sync.Pool }

const maxPooledBuf = 256 << 10

func (bp *bufPool) get() *[]byte {
	if b, ok := bp.p.Get().(*[]byte); ok {
		return b
	}
	b := make([]byte, 0, 4096)
	return &b
}

func (bp *bufPool) put(b *[]byte) {
	if cap(*b) > maxPooledBuf {
		return
	}
	*b = (*b)[:0]
	bp.p.Put(b)
}

// writeBytes sends b, a complete JSON answer, as writeJSON sends what it
// marshals (a HEAD gets the headers only).
func writeBytes(c echo.Context, status int, contentType string, b []byte) error {
	res := c.Response()
	h := res.Header()
	if c.Request().Method == http.MethodHead {
		h.Set(echo.HeaderContentType, contentType)
		return c.NoContent(status)
	}
	// c.Blob, its Header.Get and Set done by hand: canonical keys, and
	// one allocation for both values and the length's digits.
	v := new(lengthType)
	n := len(strconv.AppendInt(v.digits[:0], int64(len(b)), 10))
	v.v[0] = unsafe.String(&v.digits[0], n) // the digits are never written again
	h[echo.HeaderContentLength] = v.v[0:1:1]
	if ct := h[echo.HeaderContentType]; len(ct) == 0 || ct[0] == "" {
		v.v[1] = contentType
		h[echo.HeaderContentType] = v.v[1:2:2]
	}
	res.WriteHeader(status)
	_, err := res.Write(b)
	return err
}

// lengthType holds the Content-Length and Content-Type values of an
// answer, and the length's digits.
type lengthType struct {
	v      [2]string
	digits [20]byte
}

// appendClassDigits writes Class.String (%04d) without fmt.
func appendClassDigits(b []byte, c parts.Class) []byte {
	if c > 9999 {
		return append(b, c.String()...)
	}
	return append(b, byte('0'+c/1000), byte('0'+c/100%10), byte('0'+c/10%10), byte('0'+c%10))
}

// appendCountsDoc writes d as encoding/json's Marshal does (HTML escaped).
func appendCountsDoc(b []byte, d *countsDoc) []byte {
	safe := &jsonHTMLSafe
	b = append(b, `{"by":`...)
	b = appendJSONStr(b, d.By, safe)
	if len(d.BBox) > 0 {
		b = append(b, `,"bbox":[`...)
		for i, v := range d.BBox {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendFloat(b, v)
		}
		b = append(b, ']')
	}
	if d.Grid != "" {
		b = appendStrField(b, `,"grid":`, d.Grid, safe)
	}
	b = append(b, `,"total":`...)
	b = strconv.AppendInt(b, int64(d.Total), 10)
	b = append(b, `,"counts":[`...)
	for i := range d.Counts {
		r := &d.Counts[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '{')
		if r.Class != "" {
			b = appendStrField(b, `"class":`, r.Class, safe)
		}
		if r.Major != "" {
			if r.Class != "" {
				b = append(b, ',')
			}
			b = appendStrField(b, `"major":`, r.Major, safe)
		}
		if r.Name != "" {
			if r.Class != "" || r.Major != "" {
				b = append(b, ',')
			}
			b = appendStrField(b, `"name":`, r.Name, safe)
		}
		if r.Class != "" || r.Major != "" || r.Name != "" {
			b = append(b, ',')
		}
		b = append(b, `"count":`...)
		b = strconv.AppendInt(b, int64(r.Count), 10)
		b = append(b, '}')
	}
	return append(b, "]}"...)
}
