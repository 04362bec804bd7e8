package sensors

import (
	"errors"
	"fmt"
)

// Sentinel errors of the package. Match them with errors.Is; Reason maps them
// to short metric labels.
var (
	// ErrInvalid reports an invalid sensor, rule or id; it is wrapped by every
	// *FieldError.
	ErrInvalid = errors.New("sensors: invalid sensor")
	// ErrUnknownSensor reports a reading for a sensor the engine does not hold.
	ErrUnknownSensor = errors.New("sensors: unknown sensor")
	// ErrBadValue reports a reading whose value is missing, not a number, NaN
	// or infinite.
	ErrBadValue = errors.New("sensors: bad value")
	// ErrFuture reports a reading from more than Options.MaxFuture ahead.
	ErrFuture = errors.New("sensors: reading from the future")
	// ErrTooOld reports a reading older than Options.MaxPast.
	ErrTooOld = errors.New("sensors: reading too old")
	// ErrDuplicate reports a reading with the same time as the sensor's last.
	ErrDuplicate = errors.New("sensors: duplicate reading")
	// ErrOutOfOrder reports a reading older than the sensor's last one.
	ErrOutOfOrder = errors.New("sensors: reading out of order")
	// ErrTooLarge reports a payload over MaxPayload or a batch over MaxBatch.
	ErrTooLarge = errors.New("sensors: payload too large")
	// ErrMalformed reports a payload that is not the JSON expected.
	ErrMalformed = errors.New("sensors: malformed payload")
	// ErrNotFound reports a sensor or alarm that is not known.
	ErrNotFound = errors.New("sensors: not found")
	// ErrExists reports a create of a sensor that already exists.
	ErrExists = errors.New("sensors: sensor already exists")
	// ErrVersionMismatch reports an optimistic-concurrency conflict.
	ErrVersionMismatch = errors.New("sensors: version mismatch")
)

// Reason returns a short label for err, for metrics and logs: "invalid",
// "unknown_sensor", "bad_value", "future", "too_old", "duplicate",
// "out_of_order", "too_large", "malformed", "not_found", "exists",
// "version_mismatch"; "" for nil and "other" for anything else.
func Reason(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrUnknownSensor):
		return "unknown_sensor"
	case errors.Is(err, ErrBadValue):
		return "bad_value"
	case errors.Is(err, ErrFuture):
		return "future"
	case errors.Is(err, ErrTooOld):
		return "too_old"
	case errors.Is(err, ErrDuplicate):
		return "duplicate"
	case errors.Is(err, ErrOutOfOrder):
		return "out_of_order"
	case errors.Is(err, ErrTooLarge):
		return "too_large"
	case errors.Is(err, ErrMalformed):
		return "malformed"
	case errors.Is(err, ErrInvalid):
		return "invalid"
	case errors.Is(err, ErrNotFound):
		return "not_found"
	case errors.Is(err, ErrExists):
		return "exists"
	case errors.Is(err, ErrVersionMismatch):
		return "version_mismatch"
	}
	return "other"
}

// FieldError is an invalid field of a sensor or of an id. Field is the path
// of the field as it appears in JSON: "id", "kind", "unit", "code", "rules",
// "rules[1].above", "rules[0].window".
type FieldError struct {
	Field  string
	Reason string
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("%v: %s: %s", ErrInvalid, e.Field, e.Reason)
}

// Unwrap makes errors.Is(err, ErrInvalid) true.
func (e *FieldError) Unwrap() error { return ErrInvalid }

// PayloadError is a payload that ParseValue or AppendReadings could not (fully)
// decode. Err is ErrMalformed, ErrTooLarge, ErrBadValue or ErrInvalid (a bad
// sensor id).
type PayloadError struct {
	Index   int    // element of a batch; -1 for the payload as a whole
	Field   string // "value", "time", "sensor" or "" (syntax)
	Offset  int    // byte offset in the payload
	Reason  string
	Err     error
	Skipped int // AppendReadings: elements skipped for errors; this one is the first
}

func (e *PayloadError) Error() string {
	s := e.Err.Error()
	if e.Index >= 0 {
		s += fmt.Sprintf(": element %d", e.Index)
	}
	if e.Field != "" {
		s += ": " + e.Field
	}
	s += fmt.Sprintf(": %s (offset %d)", e.Reason, e.Offset)
	if e.Skipped > 1 {
		s += fmt.Sprintf(" (%d elements skipped)", e.Skipped)
	}
	return s
}

// Unwrap returns the sentinel the error belongs to.
func (e *PayloadError) Unwrap() error { return e.Err }
