package grid

import "github.com/paulmach/orb"

// Grid is one unit grid (单元网格). Property names in the store and in
// GeoJSON are given in brackets; district, street and community codes
// ([district], [street], [community]) are derived from Code.
type Grid struct {
	Code     Code   // [code]
	Name     string // [name]
	Dept     string // [dept] responsible unit; the street office by default
	Version  uint64 // [version]
	Geometry orb.Polygon
}

// Division is a named level of the hierarchy above the grid: a district,
// a street or a community. Its Code is the 6, 9 or 12 digit prefix.
type Division struct {
	Code  string
	Name  string
	Level Level
}
