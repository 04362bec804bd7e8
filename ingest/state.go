package ingest

import (
	"strings"

	"citytwin/parts"
)

// stateWords maps lower-cased source state values to a state; retired
// values set the part's Retired flag with state 完好.
var stateWords = map[string]struct {
	state   parts.State
	retired bool
}{
	// 完好 intact / in use
	"完好": {parts.Intact, false}, "在用": {parts.Intact, false}, "正常": {parts.Intact, false},
	"intact": {parts.Intact, false}, "0": {parts.Intact, false}, "active": {parts.Intact, false},
	"act": {parts.Intact, false}, "in service": {parts.Intact, false}, "inservice": {parts.Intact, false},
	"in use": {parts.Intact, false}, "good": {parts.Intact, false}, "ok": {parts.Intact, false},
	"normal": {parts.Intact, false}, "operational": {parts.Intact, false}, "enabled": {parts.Intact, false},
	// 破损 damaged
	"破损": {parts.Damaged, false}, "损坏": {parts.Damaged, false}, "damaged": {parts.Damaged, false},
	"1": {parts.Damaged, false}, "broken": {parts.Damaged, false}, "faulty": {parts.Damaged, false},
	"out of service": {parts.Damaged, false}, "outofservice": {parts.Damaged, false},
	// 丢失 missing
	"丢失": {parts.Missing, false}, "缺失": {parts.Missing, false}, "missing": {parts.Missing, false},
	"2": {parts.Missing, false}, "lost": {parts.Missing, false},
	// 占用 occupied
	"占用": {parts.Occupied, false}, "occupied": {parts.Occupied, false}, "3": {parts.Occupied, false},
	// 作废 retired
	"作废": {parts.Intact, true}, "废弃": {parts.Intact, true}, "拆除": {parts.Intact, true},
	"retired": {parts.Intact, true}, "removed": {parts.Intact, true}, "abandoned": {parts.Intact, true},
	"abn": {parts.Intact, true}, "inactive": {parts.Intact, true}, "decommissioned": {parts.Intact, true},
	"demolished": {parts.Intact, true},
}

// ParseState reads a source state value: the Chinese and English names of
// parts.State and their digits 0-3 (完好/intact, 破损/damaged, 丢失/missing,
// 占用/occupied), common synonyms (在用, 正常, ACTIVE, ACT, "In Service",
// good, normal → 完好; 损坏, broken, faulty, "Out of Service" → 破损; 缺失,
// lost → 丢失), and values that mean the component is gone (作废, 废弃, 拆除,
// RETIRED, REMOVED, ABANDONED, ABN, INACTIVE, DECOMMISSIONED, DEMOLISHED),
// which return retired = true with state 完好. Case and surrounding spaces
// are ignored; "" is 完好. ok is false for any other value.
func ParseState(s string) (st parts.State, retired, ok bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return parts.Intact, false, true
	}
	w, ok := stateWords[s]
	return w.state, w.retired, ok
}
