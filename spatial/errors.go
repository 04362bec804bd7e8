package spatial

import (
	"errors"
	"fmt"
)

// Sentinel errors of the package. Match them with errors.Is.
var (
	// ErrInvalidBound reports a box with min > max or coordinates out of range.
	ErrInvalidBound = errors.New("spatial: invalid bound")
	// ErrInvalidTile reports a z/x/y that does not name a tile.
	ErrInvalidTile = errors.New("spatial: invalid tile")
)

// BoundError is an invalid box, carrying the box and the reason.
type BoundError struct {
	Min, Max [2]float64
	Reason   string
}

// Error names the box and the reason.
func (e *BoundError) Error() string {
	return fmt.Sprintf("spatial: invalid bound [%v,%v,%v,%v]: %s", e.Min[0], e.Min[1], e.Max[0], e.Max[1], e.Reason)
}

// Unwrap makes errors.Is(err, ErrInvalidBound) true.
func (e *BoundError) Unwrap() error { return ErrInvalidBound }

// TileError is an invalid tile address.
type TileError struct {
	Z, X, Y uint32
	Reason  string
}

// Error names the tile and the reason.
func (e *TileError) Error() string {
	return fmt.Sprintf("spatial: invalid tile %d/%d/%d: %s", e.Z, e.X, e.Y, e.Reason)
}

// Unwrap makes errors.Is(err, ErrInvalidTile) true.
func (e *TileError) Unwrap() error { return ErrInvalidTile }
