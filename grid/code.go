package grid

import "fmt"

// Level is a level of the hierarchy a code names.
type Level uint8

// Levels of the hierarchy, from the widest.
const (
	District  Level = iota + 1 // 6 digits: county / district (GB/T 2260)
	Street                     // 9 digits: street office, town or township
	Community                  // 12 digits: community (社区)
	Cell                       // 14 (or 15) digits: the unit grid itself
)

func (l Level) String() string {
	switch l {
	case District:
		return "district"
	case Street:
		return "street"
	case Community:
		return "community"
	case Cell:
		return "grid"
	}
	return fmt.Sprintf("Level(%d)", uint8(l))
}

// Code is a grid code: 6 county + 3 street + 3 community + 2 grid serial
// (14 digits), or 3 serial digits in the 15-digit variant. Prefixes of it
// name the district (6), street (9) and community (12). Construct with
// ParseCode.
type Code string

// ParseCode validates a 14- or 15-digit grid code.
func ParseCode(s string) (Code, error) {
	if len(s) != 14 && len(s) != 15 {
		return "", &CodeError{Input: s, Field: "length", Reason: fmt.Sprintf("want 14 or 15 digits, got %d characters", len(s))}
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return "", &CodeError{Input: s, Field: "digits", Reason: fmt.Sprintf("character %d is %q, not a digit", i+1, s[i])}
		}
	}
	switch {
	case s[:6] < "110000" || s[:6] > "829999":
		return "", &CodeError{Input: s, Field: "county", Reason: fmt.Sprintf("county %s is not a GB/T 2260 code (11xxxx-82xxxx)", s[:6])}
	case s[6:9] == "000":
		return "", &CodeError{Input: s, Field: "street", Reason: "street 000 is not a street"}
	case s[9:12] == "000":
		return "", &CodeError{Input: s, Field: "community", Reason: "community 000 is not a community"}
	}
	serial := s[12:]
	zero := true
	for i := 0; i < len(serial); i++ {
		zero = zero && serial[i] == '0'
	}
	if zero {
		return "", &CodeError{Input: s, Field: "serial", Reason: "serial " + serial + " names the community, not a grid"}
	}
	return Code(s), nil
}

// District returns the 6-digit district (county) code.
func (c Code) District() string { return prefix(c, 6) }

// Street returns the 9-digit street code.
func (c Code) Street() string { return prefix(c, 9) }

// Community returns the 12-digit community code.
func (c Code) Community() string { return prefix(c, 12) }

func prefix(c Code, n int) string {
	if len(c) < n {
		return string(c)
	}
	return string(c[:n])
}

// LevelOf returns the level that a code prefix of n digits names
// (6 district, 9 street, 12 community, 14/15 grid), or 0.
func LevelOf(prefix string) Level {
	switch len(prefix) {
	case 6:
		return District
	case 9:
		return Street
	case 12:
		return Community
	case 14, 15:
		return Cell
	}
	return 0
}
