package main

import (
	"errors"
	"fmt"
)

var (
	// errUsage marks an error that is the user's: exit code 2.
	errUsage = errors.New("usage")
	// errFailed reports that measured requests failed (non-2xx or errors).
	errFailed = errors.New("requests failed")
	// errDiscovery reports that the city could not be learned from the server.
	errDiscovery = errors.New("cannot learn the city from the server")
)

// flagError is a bad flag value: the flag, the value and why.
type flagError struct {
	Flag   string
	Value  string
	Reason string
}

func (e *flagError) Error() string {
	return fmt.Sprintf("--%s %q: %s", e.Flag, e.Value, e.Reason)
}

// Unwrap makes every flag error a usage error.
func (e *flagError) Unwrap() error { return errUsage }
