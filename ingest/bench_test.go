package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime"
	"testing"
)

// featureStream generates a FeatureCollection of n point features on the
// fly, never holding more than one feature.
type featureStream struct {
	n, i int
	buf  bytes.Buffer
	done bool
}

func (s *featureStream) Read(p []byte) (int, error) {
	for s.buf.Len() < len(p) && !s.done {
		switch {
		case s.i == 0:
			s.buf.WriteString(`{"type":"FeatureCollection","features":[`)
		case s.i > s.n:
			s.buf.WriteString(`]}`)
			s.done = true
			continue
		}
		if s.i > 0 {
			if s.i > 1 {
				s.buf.WriteByte(',')
			}
			fmt.Fprintf(&s.buf, `{"type":"Feature","geometry":{"type":"Point","coordinates":[%.6f,%.6f]},"properties":{"ID":"H%d","Owner":"City","Note":"generated feature number %d"}}`,
				104+float64(s.i%1000)/1e4, 30.6+float64(s.i/1000)/1e4, s.i, s.i)
		}
		s.i++
	}
	return s.buf.Read(p)
}

// TestReaderStreams checks a FeatureCollection is not held in memory: the
// heap while reading stays far below the size of the input.
func TestReaderStreams(t *testing.T) {
	const n = 40000 // about 6.5 MB of GeoJSON
	rd, err := NewReader(&featureStream{n: n}, GeoJSON, Mapping{Code: "ID", Owner: "Owner", DefaultClass: 113}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	peak := uint64(0)
	count := 0
	for {
		_, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		count++
		if count%10000 == 0 {
			runtime.GC()
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc)
		}
	}
	if count != n {
		t.Fatalf("read %d features, want %d", count, n)
	}
	if grow := int64(peak) - int64(base); grow > 2<<20 {
		t.Fatalf("heap grew by %d bytes while streaming 6.5 MB", grow)
	}
}

func BenchmarkReaderGeoJSON(b *testing.B) {
	data := openData(b, "cambridge_INFRA_StreetLights.geojson")
	m := Mapping{Code: "PoleID", Owner: "Owner", Name: "Description", DefaultClass: 118}
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	n := 0
	for b.Loop() {
		n += readData(b, data, GeoJSON, m)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "features/s")
}

func BenchmarkReaderCSV(b *testing.B) {
	var buf bytes.Buffer
	buf.WriteString("id,lon,lat,owner\n")
	const rows = 10000
	for i := range rows {
		fmt.Fprintf(&buf, "L-%d,%.6f,%.6f,City\n", i, 104+float64(i%100)/1e3, 30.6+float64(i/100)/1e3)
	}
	data := buf.Bytes()
	m := Mapping{Code: "id", Owner: "owner", DefaultClass: 118}
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	n := 0
	for b.Loop() {
		n += readData(b, data, CSV, m)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "rows/s")
}

func BenchmarkWGS84FromGCJ02(b *testing.B) {
	p := GCJ02FromWGS84([2]float64{104.0657, 30.6574})
	b.ReportAllocs()
	for b.Loop() {
		_ = WGS84FromGCJ02(p)
	}
}

// readData reads every part of data, keeping none, and returns how many
// there were; any error fails the benchmark.
func readData(b *testing.B, data []byte, f Format, m Mapping) int {
	rd, err := NewReader(bytes.NewReader(data), f, m, nil)
	if err != nil {
		b.Fatal(err)
	}
	n := 0
	for {
		if _, err := rd.Next(); err != nil {
			if errors.Is(err, io.EOF) {
				return n
			}
			b.Fatal(err)
		}
		n++
	}
}
