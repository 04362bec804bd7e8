package grid

import (
	"fmt"
	"strings"
)

// SetDivision names a district, street or community (d.Code of 6, 9 or 12
// digits; d.Level is derived from it). An empty name removes the name.
// Names are optional and independent of the grids: a division exists (for
// Division, Divisions) while grids are under it, named or not. A code of
// any other length is ignored.
func (ix *Index) SetDivision(d Division) {
	if _, err := parsePrefix(d.Code); err != nil {
		return
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if d.Name == "" {
		delete(ix.names, d.Code)
		return
	}
	if ix.names == nil {
		ix.names = make(map[string]string)
	}
	ix.names[d.Code] = d.Name
}

// Division returns the district, street or community with the 6, 9 or 12
// digit code, named by SetDivision (Name "" if it never was). The error
// wraps ErrNotFound when no grid is under code, and is a *CodeError when
// code is not a 6, 9 or 12 digit prefix.
func (ix *Index) Division(code string) (Division, error) {
	lv, err := parsePrefix(code)
	if err != nil {
		return Division{}, err
	}
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if ix.counts[code] == 0 {
		return Division{}, fmt.Errorf("%w: no grid under %s %s", ErrNotFound, lv, code)
	}
	return Division{Code: code, Name: ix.names[code], Level: lv}, nil
}

// Divisions returns the divisions of a level under parent that have grids,
// sorted by code: (District, "") all districts, (Street, district) the
// streets of a district, (Community, street) the communities of a street,
// (Cell, community) the grids of a community as Divisions (Code the grid
// code, Name the grid's name). parent may be any shorter prefix, "" for
// the whole index. It returns nil when nothing matches or the level is not
// below parent.
func (ix *Index) Divisions(level Level, parent string) []Division {
	n := 0
	switch level {
	case District:
		n = 6
	case Street:
		n = 9
	case Community:
		n = 12
	case Cell:
		n = 15 // longest; 14-digit codes are cut at their length
	default:
		return nil
	}
	if len(parent) >= n || (level == Cell && len(parent) >= 14) {
		return nil
	}
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	var out []Division
	for _, e := range under(ix.sortedLocked(), parent) {
		if level == Cell {
			out = append(out, Division{Code: string(e.grid.Code), Name: e.grid.Name, Level: Cell})
			continue
		}
		code := string(e.grid.Code[:n])
		if len(out) > 0 && out[len(out)-1].Code == code {
			continue
		}
		out = append(out, Division{Code: code, Name: ix.names[code], Level: level})
	}
	return out
}

// Children returns the codes of all grids under a 6, 9 or 12 digit prefix,
// sorted. The error wraps ErrNotFound when there are none, and is a
// *CodeError when prefix is not a 6, 9 or 12 digit prefix.
func (ix *Index) Children(prefix string) ([]Code, error) {
	lv, err := parsePrefix(prefix)
	if err != nil {
		return nil, err
	}
	ix.mu.RLock()
	es := under(ix.sortedLocked(), prefix)
	ix.mu.RUnlock()
	if len(es) == 0 {
		return nil, fmt.Errorf("%w: no grid under %s %s", ErrNotFound, lv, prefix)
	}
	out := make([]Code, len(es))
	for i, e := range es {
		out[i] = e.grid.Code
	}
	return out, nil
}

// parsePrefix validates a district (6), street (9) or community (12)
// code and returns its level.
func parsePrefix(s string) (Level, error) {
	lv := LevelOf(s)
	if lv == 0 || lv == Cell {
		return 0, &CodeError{Input: s, Field: "length", Reason: fmt.Sprintf("want a 6, 9 or 12 digit division code, got %d characters", len(s))}
	}
	if i := strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' }); i >= 0 {
		return 0, &CodeError{Input: s, Field: "digits", Reason: fmt.Sprintf("character %d is not a digit", i+1)}
	}
	return lv, nil
}
