package postgis

// The tables themselves are made by the migrations of package migrations
// (migrations/postgis/*.sql); see Migrate.

const (
	createPartsGeomIndex = `CREATE INDEX IF NOT EXISTS parts_geom ON parts USING gist (geom)`
	createGridsGeomIndex = `CREATE INDEX IF NOT EXISTS grids_geom ON grids USING gist (geom)`
)

// partColumns are the columns of parts in the order CopyParts writes them.
var partColumns = []string{
	"code", "class", "name", "dept_supervisor", "dept_owner", "dept_maintainer",
	"grid_code", "state", "retired", "surveyed", "changed", "source", "photo",
	"note", "material", "label", "version", "geom", "source_name", "source_id",
}

// gridColumns are the columns of grids in the order CopyGrids writes them.
var gridColumns = []string{"code", "name", "dept", "district", "street", "community", "version", "geom"}
