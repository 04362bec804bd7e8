package app

import (
	"context"
	"fmt"

	"citytwin/incidents"
	"citytwin/store/gpkg"
	"citytwin/store/postgis"
	"citytwin/tokens"
	"citytwin/twin"
)

// Store is what the service needs of a store: the twin's persistence
// (components and grids, and the records of sensors and cases) and the API
// tokens. store/gpkg and store/postgis both are one.
type Store interface {
	twin.Store
	twin.Records
	tokens.Store
	// MarkNotifications writes the claims and outcomes of a batch of
	// deliveries in one transaction.
	MarkNotifications(ctx context.Context, ns []incidents.Notification) error
}

// OpenStore opens the GeoPackage at data, or, when pg is set, the PostGIS
// database at pg, and brings its schema up to date. close releases it.
func OpenStore(ctx context.Context, data, pg string) (st Store, close func(), err error) {
	switch {
	case pg != "" && data != "":
		return nil, nil, &ConfigError{Field: "PG", Reason: "give a GeoPackage file or a PostGIS URL, not both"}
	case pg != "":
		s, err := postgis.Open(ctx, pg)
		if err != nil {
			return nil, nil, err
		}
		if err := s.Migrate(ctx); err != nil {
			s.Close()
			return nil, nil, err
		}
		return s, s.Close, nil
	case data != "":
		s, err := gpkg.Open(ctx, data)
		if err != nil {
			return nil, nil, err
		}
		return s, func() { _ = s.Close() }, nil
	}
	return nil, nil, fmt.Errorf("%w: give a GeoPackage file or a PostGIS URL", ErrConfig)
}
