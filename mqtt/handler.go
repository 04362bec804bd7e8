package mqtt

import "citytwin/sensors"

// Handler takes the readings the Subscriber receives. Its methods are called
// from the Subscriber's worker goroutines, possibly concurrently.
type Handler interface {
	// HandleReadings takes a batch of decoded readings. The Subscriber
	// acknowledges the batch's messages to the broker when it returns, so
	// a slow Handler slows the broker's deliveries instead of losing them.
	// rs is reused after the call: copy what must be kept.
	HandleReadings(rs []sensors.Reading)
	// Rejected is told of each message (or reading) the Subscriber
	// refused, with the reason, one of the Reason* constants.
	Rejected(reason string)
}
