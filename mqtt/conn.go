package mqtt

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"net"
	"net/url"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// readBuffer is the read buffer of a broker connection.
const readBuffer = 64 << 10

// bufferedConn is a broker connection whose reads are buffered. paho reads
// a packet with a read call for the fixed header, one per byte of the
// remaining length and one for the rest: four system calls or more per
// reading on the one-reading-per-message path, where a buffer needs one per
// many messages. Writes are left as they are: paho writes a packet with
// one call and expects it sent.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// dial opens the connection to a broker for paho (ClientOptions
// .SetCustomOpenConnectionFn): TCP and TLS connections get a read buffer,
// WebSocket ones, which are framed already, are paho's own.
func dial(u *url.URL, o paho.ClientOptions) (net.Conn, error) {
	d := &net.Dialer{Timeout: o.ConnectTimeout}
	var (
		c   net.Conn
		err error
	)
	switch u.Scheme {
	case "tcp", "mqtt":
		c, err = d.Dial("tcp", u.Host)
	case "ssl", "tls", "mqtts", "tcps":
		c, err = tls.DialWithDialer(d, "tcp", u.Host, o.TLSConfig)
	case "ws", "wss":
		ws := *u
		ws.User = nil
		var tlsc *tls.Config
		if u.Scheme == "wss" {
			tlsc = o.TLSConfig
		}
		return paho.NewWebsocket(ws.String(), tlsc, o.ConnectTimeout, o.HTTPHeaders, o.WebsocketOptions)
	default:
		return nil, fmt.Errorf("mqtt: scheme %q not supported", u.Scheme)
	}
	if err != nil {
		return nil, err
	}
	return &bufferedConn{Conn: c, r: bufio.NewReaderSize(c, readBuffer)}, nil
}
