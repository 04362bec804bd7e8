// Package mqtt is citytwin's MQTT transport: a Subscriber that receives
// sensor readings and hands them in batches to a Handler, a Publisher that
// sends department dispatch notifications and waits for the broker's
// acknowledgement, and an embedded loopback Broker for the one-machine setup.
// (citytwin simulate, in cmd/citytwin, plays a city's devices through the
// Publisher.)
//
// It is an adapter: it decodes payloads with the sensors parsers and knows
// nothing of rules, stores or HTTP. Topics, under a configurable prefix
// (default "citytwin"):
//
//	{prefix}/readings/{sensor}   {"value":12.5,"time":"2026-12-01T08:00:00Z"} (time optional)
//	{prefix}/readings            [{"sensor":"s1","value":12.5,"time":"..."}, ...] or one such object
//	{prefix}/dispatch/{dept}     dispatch notifications, published QoS 1
//
// # Delivery
//
// The Subscriber uses QoS 1, a persistent session (clean session off) under a
// stable client id, automatic reconnection and resubscription. The paho
// callback never blocks: it checks the size and topic of a message and queues
// it; worker goroutines decode it, hand the readings to the Handler in
// batches and only then acknowledge the messages (manual acknowledgement). A
// message is therefore acknowledged only once the Handler has taken it, and
// the broker's in-flight window (mosquitto's max_inflight_messages, 20 by
// default; at most 65,535 by the protocol's packet ids) bounds how many
// unacknowledged messages the Subscriber holds: backpressure reaches the
// broker, which keeps the rest queued in the session, instead of the
// Subscriber dropping them. Only QoS 0 messages, which the broker does not
// retain, are dropped when the queue is full (counted as "queue_full").
// Duplicates are possible (a broker redelivers unacknowledged messages after
// a reconnect); loss of an acknowledged QoS 1 message is not.
//
// Acknowledgements the workers send after the connection dropped are
// dropped by paho (its router for that connection has ended; they never
// reach a later connection, where the packet id may name another message),
// so those messages come again: duplicates, not loss.
//
// # Mosquitto across a restart
//
// No acknowledged QoS 1 reading is lost over a broker restart when the
// broker really keeps citytwin's session (tested with Mosquitto 2.0.11,
// restart_test.go):
//
//	persistence true
//	persistence_location /var/lib/mosquitto/   # writable by the broker's user
//	autosave_interval 60        # besides the save at a clean stop (SIGTERM)
//	max_queued_messages 100000  # per offline session; 1,000 by default, the rest dropped
//	max_inflight_messages 1000  # unacknowledged messages out to citytwin (20 by default)
//
// The persistence directory must be writable by the user Mosquitto runs as:
// started as root, it drops to the user "mosquitto" and, unable to write,
// logs "Error: Permission denied" and keeps nothing, so the restarted
// broker has no session and drops every reading published before citytwin
// subscribes again. Stop it with SIGTERM (systemctl stop does): a killed
// broker loses what arrived since the last autosave. The Publisher counts
// a message as published only on the broker's PUBACK (see Publisher).
package mqtt
