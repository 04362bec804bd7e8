package app

import (
	"errors"
	"fmt"
)

// ErrConfig is wrapped by every *ConfigError.
var ErrConfig = errors.New("app: invalid config")

// ConfigError is an invalid Config field.
type ConfigError struct {
	Field  string
	Reason string
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("app: invalid config: %s: %s", e.Field, e.Reason)
}

// Unwrap makes errors.Is(err, ErrConfig) true.
func (e *ConfigError) Unwrap() error { return ErrConfig }
