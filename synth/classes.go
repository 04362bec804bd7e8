package synth

import (
	"sort"

	"citytwin/parts"
)

// kindShare is the share of points, lines and polygons among the parts
// (renormalised over the kinds the catalogue has).
var kindShare = [3]float64{parts.Point: 0.96, parts.Line: 0.03, parts.Polygon: 0.01}

// classTable draws classes: a kind by kindShare, then a class of that kind
// by ClassInfo.Weight.
type classTable struct {
	infos []parts.ClassInfo // classes with a positive weight, ascending
	cum   []float64         // cumulative probability
}

func newClassTable(cat *parts.Catalogue) (*classTable, error) {
	ct := &classTable{}
	var kindW [3]float64
	for _, ci := range cat.All() {
		if ci.Weight > 0 && int(ci.Kind) < len(kindW) {
			ct.infos = append(ct.infos, ci)
			kindW[ci.Kind] += float64(ci.Weight)
		}
	}
	if len(ct.infos) == 0 {
		return nil, &OptionError{Field: "catalogue", Value: len(cat.All()), Reason: "no class has a positive Weight"}
	}
	var shares float64
	for k, w := range kindW {
		if w > 0 {
			shares += kindShare[k]
		}
	}
	var cum float64
	for _, ci := range ct.infos {
		cum += kindShare[ci.Kind] / shares * float64(ci.Weight) / kindW[ci.Kind]
		ct.cum = append(ct.cum, cum)
	}
	return ct, nil
}

// pick returns the index of a class for u in [0, 1).
func (ct *classTable) pick(u float64) int {
	i := sort.SearchFloat64s(ct.cum, u*ct.cum[len(ct.cum)-1])
	return min(i, len(ct.cum)-1)
}
