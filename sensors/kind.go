package sensors

import (
	"slices"
	"time"

	"citytwin/parts"
)

// Kind is what a sensor measures.
type Kind string

// The kinds of the catalogue.
const (
	CoverTilt     Kind = "cover_tilt"     // manhole-cover tilt, degrees
	CoverGas      Kind = "cover_gas"      // combustible gas under a cover, %LEL
	WaterPressure Kind = "water_pressure" // water-main pressure, MPa
	BridgeStrain  Kind = "bridge_strain"  // bridge strain, microstrain
	WaterLevel    Kind = "water_level"    // standing-water depth, cm
	BinFill       Kind = "bin_fill"       // litter-bin fill level, %
	LampPower     Kind = "lamp_power"     // street-lamp power draw, W
)

// KindInfo describes a kind of sensor: its names, unit, the component classes
// it is fitted to, the rules a sensor gets when it is registered without any,
// and the Normal value and Spread (one standard deviation) of healthy readings,
// for simulation.
type KindInfo struct {
	Kind    Kind
	Name    string // Chinese name
	NameEN  string // English name
	Unit    string
	Classes []parts.Class
	Rules   []Rule
	Normal  float64
	Spread  float64
}

// Fits reports whether the kind is usually fitted to components of class c.
func (k KindInfo) Fits(c parts.Class) bool { return slices.Contains(k.Classes, c) }

// kindDef is one row of the catalogue; rules are built fresh for every caller
// so that nobody can change the catalogue through a pointer.
type kindDef struct {
	kind           Kind
	name, nameEN   string
	unit           string
	classes        []parts.Class
	rules          []ruleDef
	normal, spread float64
}

// ruleDef is a catalogue rule: a threshold (above/clear or below/clear), a
// rate (delta within window) or a silence (after).
type ruleDef struct {
	kind          RuleKind
	above, clearB float64 // threshold up: raise > above, clear < clearB
	below, clearA float64 // threshold down: raise < below, clear > clearA
	up, down      bool
	delta         float64
	window, after time.Duration
}

func up(above, clear float64) ruleDef {
	return ruleDef{kind: Threshold, up: true, above: above, clearB: clear}
}
func down(below, clear float64) ruleDef {
	return ruleDef{kind: Threshold, down: true, below: below, clearA: clear}
}
func rate(delta float64, window time.Duration) ruleDef {
	return ruleDef{kind: Rate, delta: delta, window: window}
}
func silence(after time.Duration) ruleDef { return ruleDef{kind: Silence, after: after} }

// covers are the manhole-cover classes (01xx 井盖).
var covers = []parts.Class{101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112, 114, 127, 128, 129, 130}

// catalogue is the kinds of sensor a city's IoT platform typically runs. The
// thresholds are common defaults of the field; a city overrides them per
// sensor.
var catalogue = []kindDef{
	{CoverTilt, "井盖倾斜", "manhole cover tilt", "deg", covers,
		// a seated cover reads under 2°; over 15° it is lifted or displaced.
		[]ruleDef{up(15, 10), silence(3 * time.Hour)}, 1, 0.8},
	{CoverGas, "井下可燃气体", "combustible gas under cover", "%LEL",
		[]parts.Class{102, 103, 105, 107, 110, 111, 128},
		// first-level alarm at 20 %LEL, second at 50 %LEL (GB 15322 set points).
		[]ruleDef{up(20, 10), up(50, 40), silence(time.Hour)}, 0.5, 0.5},
	{WaterPressure, "供水管网压力", "water-main pressure", "MPa", []parts.Class{101, 113, 127},
		// service pressure 0.28-0.40 MPa, at least 0.14 MPa at the far end; a
		// burst main shows as a sudden drop.
		[]ruleDef{down(0.15, 0.2), up(0.8, 0.7), rate(0.1, 5*time.Minute), silence(30 * time.Minute)}, 0.32, 0.03},
	{BridgeStrain, "桥梁应变", "bridge strain", "microstrain", []parts.Class{205, 206, 207, 208},
		// live-load strain of a girder: tens to low hundreds of microstrain;
		// overload warnings over 400.
		[]ruleDef{up(400, 300), rate(200, time.Minute), silence(15 * time.Minute)}, 80, 40},
	{WaterLevel, "积水深度", "standing-water depth", "cm", []parts.Class{103, 104, 206, 207},
		// 15 cm: warn; 40 cm: close the underpass.
		[]ruleDef{up(15, 5), up(40, 30), silence(time.Hour)}, 0.5, 0.5},
	{BinFill, "垃圾箱满溢", "litter-bin fill level", "%", []parts.Class{304, 305},
		// full at 80 %; clears when emptied.
		[]ruleDef{up(80, 30), silence(12 * time.Hour)}, 35, 12},
	{LampPower, "路灯功率", "street-lamp power", "W", []parts.Class{106, 118, 119, 120},
		// a 150 W LED lamp; over 250 W is a fault (short, ballast).
		[]ruleDef{up(250, 200), silence(time.Hour)}, 150, 10},
}

func (d *kindDef) info() KindInfo {
	ki := KindInfo{
		Kind: d.kind, Name: d.name, NameEN: d.nameEN, Unit: d.unit,
		Classes: slices.Clone(d.classes), Normal: d.normal, Spread: d.spread,
		Rules: make([]Rule, len(d.rules)),
	}
	for i, r := range d.rules {
		ki.Rules[i] = r.rule()
	}
	return ki
}

func (r ruleDef) rule() Rule {
	out := Rule{Kind: r.kind, Delta: r.delta, Window: Duration(r.window), After: Duration(r.after)}
	if r.up {
		out.Above, out.ClearBelow = ptr(r.above), ptr(r.clearB)
	}
	if r.down {
		out.Below, out.ClearAbove = ptr(r.below), ptr(r.clearA)
	}
	return out
}

func ptr(v float64) *float64 { return &v }

// Kinds returns the catalogue of sensor kinds, a fresh copy.
func Kinds() []KindInfo {
	out := make([]KindInfo, len(catalogue))
	for i := range catalogue {
		out[i] = catalogue[i].info()
	}
	return out
}

// LookupKind returns the catalogue entry of k.
func LookupKind(k Kind) (KindInfo, bool) {
	if d := lookupDef(k); d != nil {
		return d.info(), true
	}
	return KindInfo{}, false
}

func lookupDef(k Kind) *kindDef {
	for i := range catalogue {
		if catalogue[i].kind == k {
			return &catalogue[i]
		}
	}
	return nil
}
