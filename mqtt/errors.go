package mqtt

import (
	"errors"
	"fmt"
)

var (
	// ErrConfig marks invalid options; errors are *OptionError wrapping it.
	ErrConfig = errors.New("mqtt: invalid options")
	// ErrConnect is returned when the first connection to the broker fails.
	ErrConnect = errors.New("mqtt: cannot connect")
	// ErrSubscribe is returned when the broker refuses a subscription.
	ErrSubscribe = errors.New("mqtt: subscription refused")
	// ErrPublish is returned when a publication is not acknowledged.
	ErrPublish = errors.New("mqtt: publication failed")
	// ErrTimeout is returned when the broker does not acknowledge in time.
	ErrTimeout = errors.New("mqtt: timed out waiting for the broker")
	// ErrClosed is returned by a closed Publisher.
	ErrClosed = errors.New("mqtt: closed")
	// ErrBroker is returned when the embedded broker cannot start.
	ErrBroker = errors.New("mqtt: embedded broker")
	// ErrTopic marks a topic that cannot be published to.
	ErrTopic = errors.New("mqtt: invalid topic")
)

// OptionError is an invalid option, named by its field.
type OptionError struct {
	Field  string
	Reason string
}

func (e *OptionError) Error() string {
	return fmt.Sprintf("mqtt: invalid option %s: %s", e.Field, e.Reason)
}

// Unwrap makes errors.Is(err, ErrConfig) hold.
func (e *OptionError) Unwrap() error { return ErrConfig }
