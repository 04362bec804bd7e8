package mqtt

import (
	"fmt"
	"hash/fnv"
	"strings"
)

// maxPortableID is the client id length every MQTT 3.1.1 broker must accept
// (MQTT-3.1.3-5). Mosquitto and mochi accept longer ids; some brokers do not.
const maxPortableID = 23

// DefaultClientID derives a stable client id from the host name and the
// listen address of the process ("ct-web1-8080"), so that a replica gets its
// persistent session back after a restart and two processes on one host,
// which cannot listen on the same address, never take each other's session.
// Characters other than letters, digits and '-' are dropped or turned into
// '-'. When the readable form is longer than 23 characters, the most every
// broker must accept, the id is the start of the host name and a hash of
// both inputs: "ct-" + up to 11 characters + "-" + 8 hex digits.
func DefaultClientID(hostname, listenAddr string) string {
	host := sanitize(hostname)
	if host == "" {
		host = "host"
	}
	addr := sanitize(strings.TrimPrefix(listenAddr, ":"))
	id := "ct-" + host
	if addr != "" {
		id += "-" + addr
	}
	if len(id) <= maxPortableID {
		return id
	}
	h := fnv.New32a()
	h.Write([]byte(hostname))
	h.Write([]byte{0})
	h.Write([]byte(listenAddr))
	if len(host) > 11 {
		host = strings.TrimRight(host[:11], "-")
	}
	return fmt.Sprintf("ct-%s-%08x", host, h.Sum32())
}

// sanitize keeps ASCII letters and digits, turns runs of anything else into
// one '-' and trims '-' at both ends.
func sanitize(s string) string {
	var b strings.Builder
	dash := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteByte(c)
			continue
		}
		dash = true
	}
	return b.String()
}
