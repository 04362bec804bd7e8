package tiles

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors of the package. Match them with errors.Is.
var (
	// ErrUnknownLayer is wrapped by every *LayerError.
	ErrUnknownLayer = errors.New("tiles: unknown layer")
	// ErrTileRange is wrapped by every *RangeError.
	ErrTileRange = errors.New("tiles: tile out of range")
	// ErrFilterUnsupported is wrapped by every *FilterError.
	ErrFilterUnsupported = errors.New("tiles: filter not supported at this zoom")
	// ErrEncodePanic is what the callers waiting for an encoding get when
	// it panicked (the caller that ran it gets the panic).
	ErrEncodePanic = errors.New("tiles: the encoding panicked")
)

// LayerError names a layer that the map does not serve.
type LayerError struct {
	Layer string   // the requested layer
	Known []string // the layers the map serves
}

// Error names the layer and the layers the map serves.
func (e *LayerError) Error() string {
	return fmt.Sprintf("tiles: unknown layer %q (known: %s)", e.Layer, strings.Join(e.Known, ", "))
}

// Unwrap makes errors.Is(err, ErrUnknownLayer) true.
func (e *LayerError) Unwrap() error { return ErrUnknownLayer }

// RangeError is a tile address outside the pyramid: z out of 0..MaxZoom,
// or x or y not below 2^z.
type RangeError struct {
	Z, X, Y uint32
	Reason  string
}

// Error names the tile and why it is out of range.
func (e *RangeError) Error() string {
	return fmt.Sprintf("tiles: tile %d/%d/%d out of range: %s", e.Z, e.X, e.Y, e.Reason)
}

// Unwrap makes errors.Is(err, ErrTileRange) true.
func (e *RangeError) Unwrap() error { return ErrTileRange }

// FilterError is a filter that the aggregate layer cannot answer at a zoom
// without scanning more components than Options.AggregateScanLimit.
type FilterError struct {
	Field string // the filter field ("owner", "dept", "grid_prefix", "changed_since")
	Z     uint32 // the requested zoom
	Count int    // components in the tile
	Limit int    // Options.AggregateScanLimit
	MinZ  uint32 // the lowest zoom that answers the filter without aggregation
}

// Error names the filter field, the zoom and how to get a tile.
func (e *FilterError) Error() string {
	return fmt.Sprintf("tiles: filter on %s is not supported at z%d: the tile holds %d components, more than the scan limit %d; zoom in to z%d or drop the filter",
		e.Field, e.Z, e.Count, e.Limit, e.MinZ)
}

// Unwrap makes errors.Is(err, ErrFilterUnsupported) true.
func (e *FilterError) Unwrap() error { return ErrFilterUnsupported }
