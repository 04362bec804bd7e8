// Package spatial is a small generic in-memory spatial index over
// github.com/tidwall/rtree, with the exact geometry tests that follow the box
// filter: bbox intersects, intersects a polygon, point in polygon (with
// holes), distance in metres on the sphere, and nearest-k.
//
// Boxes are stored as float32 rounded outward (math.Nextafter32), which
// halves the memory of the tree; a box search therefore returns a superset
// of the candidates and callers run the exact test on the real geometry
// (Intersects, IntersectsPolygon, Distance) after it.
//
// Coordinates are WGS84 longitude/latitude in degrees (orb.Point{lon, lat}).
// Distances are in metres on a sphere of radius EarthRadius. Web-mercator
// helpers (EPSG:3857 metres and XYZ tile bounds) are in mercator.go.
//
// An Index is not safe for concurrent writes; readers may run concurrently
// with each other. Callers that mix readers and a writer guard the Index with
// a sync.RWMutex or use Copy for copy-on-write snapshots.
package spatial
