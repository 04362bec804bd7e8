package postgis

import (
	"context"
	"encoding/binary"
	"reflect"
	"testing"
	"time"

	"citytwin/grid"
	"citytwin/parts"
	"citytwin/synth"
)

type partSink struct{ parts []parts.Part }

func (*partSink) AddGrids([]grid.Grid) error         { return nil }
func (*partSink) AddDivisions([]grid.Division) error { return nil }
func (s *partSink) AddParts(ps []parts.Part) error   { s.parts = append(s.parts, ps...); return nil }

// loadRow is p as the bulk read's query sends it.
func loadRow(t testing.TB, p parts.Part) [][]byte {
	t.Helper()
	geom, err := encodeGeometry(p.Geometry)
	if err != nil {
		t.Fatal(err)
	}
	date := func(d time.Time) []byte {
		if d.IsZero() {
			return nil
		}
		return binary.BigEndian.AppendUint32(nil, uint32(int32(d.Unix()/86400-pgEpochDays)))
	}
	retired := []byte{0}
	if p.Retired {
		retired[0] = 1
	}
	row := make([][]byte, lcCount)
	row[lcCode] = []byte(p.Code.String())
	row[lcClass] = []byte(p.Class.String())
	row[lcName] = []byte(p.Name)
	row[lcSupervisor] = []byte(p.Supervisor)
	row[lcOwner] = []byte(p.Owner)
	row[lcMaintainer] = []byte(p.Maintainer)
	row[lcGrid] = []byte(p.Grid)
	row[lcState] = []byte(p.State.String())
	row[lcRetired] = retired
	row[lcSurveyed] = date(p.Surveyed)
	row[lcChanged] = date(p.Changed)
	row[lcSource] = []byte(p.Source.String())
	row[lcPhoto] = []byte(p.Photo)
	row[lcNote] = []byte(p.Note)
	row[lcMaterial] = []byte(p.Material)
	row[lcLabel] = []byte(p.Label)
	row[lcVersion] = binary.BigEndian.AppendUint64(nil, p.Version)
	row[lcGeom] = geom
	row[lcSourceName] = []byte(p.SourceName)
	row[lcSourceID] = []byte(p.SourceID)
	return row
}

func synthParts(t testing.TB, n int) []parts.Part {
	t.Helper()
	o := synth.DefaultOptions()
	o.Components, o.Grids, o.SizeKm = n, 256, 8
	s := &partSink{}
	if err := synth.Generate(context.Background(), o, parts.DefaultCatalogue(), s, nil); err != nil {
		t.Fatal(err)
	}
	return s.parts
}

// A row decodes to the part it was made of.
func TestDecodeRow(t *testing.T) {
	ps := synthParts(t, 2000)
	d := newPartDecoder()
	for i, want := range ps {
		if want.Version == 0 {
			want.Version = 1
		}
		var got parts.Part
		if err := d.decode(&got, loadRow(t, want)); err != nil {
			t.Fatalf("part %d: %v", i, err)
		}
		if want.Class == 0 {
			want.Class = want.Code.Class()
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("part %d:\n got %+v\nwant %+v", i, got, want)
		}
	}
}

func BenchmarkDecodeRow(b *testing.B) {
	ps := synthParts(b, 20000)
	rows := make([][][]byte, len(ps))
	for i, p := range ps {
		rows[i] = loadRow(b, p)
	}
	d := newPartDecoder()
	var p parts.Part
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if err := d.decode(&p, rows[i%len(rows)]); err != nil {
			b.Fatal(err)
		}
	}
}
