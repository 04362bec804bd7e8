package mqtt_test

import (
	"errors"
	"regexp"
	"testing"

	"citytwin/mqtt"
)

func errorsAs(err error, target any) bool { return errors.As(err, target) }

func TestDefaultClientID(t *testing.T) {
	valid := regexp.MustCompile(`^[A-Za-z0-9-]{1,23}$`)
	cases := map[string]struct {
		host, addr, want string
	}{
		"short":        {"web1", ":8080", "ct-web1-8080"},
		"loopback":     {"web1", "127.0.0.1:8080", "ct-web1-127-0-0-1-8080"},
		"long host":    {"citytwin-replica-7.prod.chengdu.example", "10.0.3.17:8080", ""},
		"unicode host": {"成都-01", "[::1]:9000", ""},
		"empty":        {"", "", "ct-host"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			id := mqtt.DefaultClientID(tc.host, tc.addr)
			if !valid.MatchString(id) {
				t.Errorf("%q: want 1-23 of [A-Za-z0-9-]", id)
			}
			if tc.want != "" && id != tc.want {
				t.Errorf("%q, want %q", id, tc.want)
			}
			if again := mqtt.DefaultClientID(tc.host, tc.addr); again != id {
				t.Errorf("not stable: %q then %q", id, again)
			}
		})
	}
	seen := map[string]string{}
	for _, host := range []string{"citytwin-replica-7.prod.chengdu.example", "citytwin-replica-8.prod.chengdu.example", "a"} {
		for _, addr := range []string{"127.0.0.1:8080", "127.0.0.1:8081", "0.0.0.0:8080", ":8080", "10.0.0.1:8080"} {
			id := mqtt.DefaultClientID(host, addr)
			if prev, ok := seen[id]; ok {
				t.Errorf("%s and %s %s share client id %q", prev, host, addr, id)
			}
			seen[id] = host + " " + addr
		}
	}
}
