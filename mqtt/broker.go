package mqtt

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"

	mochi "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/mochi-mqtt/server/v2/packets"
)

// Broker is an embedded MQTT broker (mochi-mqtt) on a loopback address, so
// that one machine runs citytwin with nothing else installed. It accepts
// anonymous clients from loopback addresses only and keeps persistent
// sessions (subscriptions and queued QoS 1 messages) in memory for as long
// as it runs.
type Broker struct {
	server *mochi.Server
	addr   string
	once   sync.Once
	err    error
}

// StartBroker starts a broker listening on addr, which must be a loopback
// address: "127.0.0.1:0" picks a free port (an ephemeral one, never 1883).
// The broker stops when ctx ends or Close is called.
func StartBroker(ctx context.Context, addr string) (*Broker, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("%w: address %q: %w", ErrBroker, addr, err)
	}
	if host == "localhost" {
		host = "127.0.0.1"
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("%w: address %q is not a loopback address", ErrBroker, addr)
	}
	caps := mochi.NewDefaultServerCapabilities()
	caps.MaximumClientWritesPending = 64 * 1024
	srv := mochi.New(&mochi.Options{
		Capabilities:             caps,
		Logger:                   slog.New(slog.DiscardHandler),
		ClientNetReadBufferSize:  64 * 1024,
		ClientNetWriteBufferSize: 64 * 1024,
	})
	if err := srv.AddHook(new(loopbackAuth), nil); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBroker, err)
	}
	tcp := listeners.NewTCP(listeners.Config{ID: "citytwin", Address: net.JoinHostPort(host, port)})
	if err := srv.AddListener(tcp); err != nil {
		return nil, fmt.Errorf("%w: listen on %s: %w", ErrBroker, addr, err)
	}
	if err := srv.Serve(); err != nil {
		_ = srv.Close()
		return nil, fmt.Errorf("%w: %w", ErrBroker, err)
	}
	b := &Broker{server: srv, addr: tcp.Address()}
	go func() {
		<-ctx.Done()
		_ = b.Close()
	}()
	return b, nil
}

// Addr is the address the broker listens on, "127.0.0.1:PORT".
func (b *Broker) Addr() string { return b.addr }

// Port is the port the broker listens on.
func (b *Broker) Port() int {
	_, p, _ := net.SplitHostPort(b.addr)
	n, _ := strconv.Atoi(p)
	return n
}

// URL is the broker's URL for clients, "tcp://127.0.0.1:PORT".
func (b *Broker) URL() string { return "tcp://" + b.addr }

// Close stops the broker, disconnecting its clients. The sessions it kept
// are gone.
func (b *Broker) Close() error {
	b.once.Do(func() {
		if err := b.server.Close(); err != nil {
			b.err = fmt.Errorf("%w: close: %w", ErrBroker, err)
		}
	})
	return b.err
}

// loopbackAuth admits anonymous clients that connect from a loopback
// address, and lets them publish and subscribe to every topic.
type loopbackAuth struct {
	mochi.HookBase
}

func (h *loopbackAuth) ID() string { return "citytwin-loopback-auth" }

func (h *loopbackAuth) Provides(b byte) bool {
	return bytes.Contains([]byte{mochi.OnConnectAuthenticate, mochi.OnACLCheck}, []byte{b})
}

func (h *loopbackAuth) OnConnectAuthenticate(cl *mochi.Client, _ packets.Packet) bool {
	return isLoopback(cl.Net.Remote)
}

func (h *loopbackAuth) OnACLCheck(cl *mochi.Client, _ string, _ bool) bool {
	return isLoopback(cl.Net.Remote)
}

func isLoopback(remote string) bool {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
