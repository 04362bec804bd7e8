package sensors

import "fmt"

// MaxIDLen is the longest sensor id.
const MaxIDLen = 64

// ID identifies a sensor: 1 to 64 characters of [A-Za-z0-9_.:-], as the city's
// IoT platform names its devices. It is the last level of the readings topic.
type ID string

// ParseID validates s as a sensor id. The error is a *FieldError for "id".
func ParseID(s string) (ID, error) {
	if err := checkID(s); err != "" {
		return "", &FieldError{Field: "id", Reason: err}
	}
	return ID(s), nil
}

// checkID returns why s is not an id, or "".
func checkID(s string) string {
	if len(s) == 0 {
		return "empty"
	}
	if len(s) > MaxIDLen {
		return fmt.Sprintf("%d characters, at most %d", len(s), MaxIDLen)
	}
	for i := 0; i < len(s); i++ {
		if !idChar(s[i]) {
			return fmt.Sprintf("character %d is %q, not one of A-Z a-z 0-9 _ . : -", i+1, s[i])
		}
	}
	return ""
}

func idChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '_' || c == '.' || c == ':' || c == '-'
}
