package ingest

import (
	"encoding/json"
	"testing"
)

// membersOf collects eachMember's view of obj, last key wins like encoding/json.
func membersOf(obj []byte) map[string]string {
	out := map[string]string{}
	eachMember(obj, func(key, raw []byte) bool {
		var k string
		if json.Unmarshal(key, &k) != nil {
			k = "<bad key " + string(key) + ">"
		}
		out[k] = string(raw)
		return true
	})
	return out
}

func checkMembers(t *testing.T, obj []byte) {
	var want map[string]json.RawMessage
	if err := json.Unmarshal(obj, &want); err != nil || want == nil {
		return
	}
	got := membersOf(obj)
	if len(got) != len(want) {
		t.Fatalf("%s: eachMember found %d members %v, encoding/json %d", obj, len(got), got, len(want))
	}
	for k, v := range want {
		if got[k] != string(v) {
			t.Fatalf("%s: member %q = %q, encoding/json says %q", obj, k, got[k], v)
		}
	}
}

func TestEachMember(t *testing.T) {
	tests := map[string]string{
		"flat":           `{"a":1,"b":"x","c":null,"d":true}`,
		"spaces":         " { \"a\" : 1 ,\n\t\"b\" : [ 1 , 2 ] } ",
		"nested":         `{"a":{"b":{"c":[1,{"d":"}"}]}},"e":"]"}`,
		"escapes":        `{"a\"b":"c\\\"d","\u0041":"\u00e9"}`,
		"empty":          `{}`,
		"duplicate keys": `{"a":1,"a":2}`,
		"unicode":        `{"类别":"消防设施","Owner":"City"}`,
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) { checkMembers(t, []byte(in)) })
	}
	// keyIs folds ASCII and Unicode case
	for _, tc := range []struct {
		key, name  string
		fold, want bool
	}{
		{`"Owner"`, "Owner", false, true},
		{`"Owner"`, "owner", false, false},
		{`"Owner"`, "owner", true, true},
		{`"ÉTAT"`, "état", true, true},
		{`"a\u0062"`, "ab", false, true},
		{`"ab"`, "abc", true, false},
	} {
		if got := keyIs([]byte(tc.key), tc.name, tc.fold); got != tc.want {
			t.Errorf("keyIs(%s, %q, %v) = %v", tc.key, tc.name, tc.fold, got)
		}
	}
}

func FuzzEachMember(f *testing.F) {
	for _, s := range []string{`{"a":1,"b":"x"}`, `{"a":{"b":[1,"]"]}}`, `{"\u0041":"\"}"}`, `{`, `[]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := []byte(s)
		if !json.Valid(b) {
			membersOf(b) // must not panic on anything
			return
		}
		checkMembers(t, b)
	})
}
