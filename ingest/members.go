package ingest

import (
	"bytes"
	"encoding/json"
	"strings"
)

// eachMember calls f with the key (quoted, as in the input) and raw value
// of each member of obj, a JSON object the json decoder has already
// checked, until f returns false. It stops quietly on anything unexpected;
// it never indexes out of range.
func eachMember(obj []byte, f func(rawKey, raw []byte) bool) {
	i := skipSpace(obj, 0)
	if i >= len(obj) || obj[i] != '{' {
		return
	}
	i++
	for {
		i = skipSpace(obj, i)
		if i >= len(obj) || obj[i] != '"' {
			return
		}
		k0 := i
		i = skipString(obj, i)
		rawKey := obj[k0:i]
		i = skipSpace(obj, i)
		if i >= len(obj) || obj[i] != ':' {
			return
		}
		i = skipSpace(obj, i+1)
		v0 := i
		i = skipValue(obj, i)
		if i > len(obj) || i <= v0 {
			return
		}
		if !f(rawKey, obj[v0:i]) {
			return
		}
		i = skipSpace(obj, i)
		if i >= len(obj) || obj[i] != ',' {
			return
		}
		i++
	}
}

// keyIs reports whether the quoted key rawKey is name; with fold, compared
// case-insensitively.
func keyIs(rawKey []byte, name string, fold bool) bool {
	if len(rawKey) < 2 {
		return false
	}
	k := rawKey[1 : len(rawKey)-1]
	if bytes.IndexByte(k, '\\') >= 0 {
		var s string
		if json.Unmarshal(rawKey, &s) != nil {
			return false
		}
		return s == name || fold && strings.EqualFold(s, name)
	}
	if string(k) == name {
		return true
	}
	if !fold {
		return false
	}
	ascii := true
	for i := 0; i < len(k); i++ {
		ascii = ascii && k[i] < 0x80
	}
	if ascii && len(k) == len(name) {
		for i := 0; i < len(k); i++ {
			a, b := k[i], name[i]
			if 'A' <= a && a <= 'Z' {
				a += 'a' - 'A'
			}
			if 'A' <= b && b <= 'Z' {
				b += 'a' - 'A'
			}
			if a != b {
				return false
			}
		}
		return true
	}
	return !ascii && strings.EqualFold(string(k), name)
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index after the string starting at b[i] == '"'.
func skipString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(b)
}

// skipValue returns the index after the value starting at b[i].
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return i
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				i = skipString(b, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return len(b)
	}
	for i < len(b) {
		switch b[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return i
		}
		i++
	}
	return i
}
