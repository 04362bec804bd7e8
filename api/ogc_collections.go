package api

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/paulmach/orb"
)

// The collections of the OGC endpoints.
const (
	collectionParts = "parts"
	collectionGrids = "grids"
)

type spatialExtent struct {
	BBox [][4]float64 `json:"bbox"`
	CRS  string       `json:"crs"`
}

type collectionExtent struct {
	Spatial spatialExtent `json:"spatial"`
}

// collectionInfo is the description of one collection.
type collectionInfo struct {
	ID          string            `json:"id"`
	Title       string            `json:"title"`
	Description string            `json:"description"`
	Extent      *collectionExtent `json:"extent,omitempty"`
	ItemType    string            `json:"itemType"`
	CRS         []string          `json:"crs"`
	StorageCRS  string            `json:"storageCrs"`
	Links       []link            `json:"links"`
}

type collectionList struct {
	Links       []link           `json:"links"`
	Collections []collectionInfo `json:"collections"`
}

// unknownCollection is the 404 of a collection id that does not exist.
func unknownCollection(id string) error {
	return newProblem(http.StatusNotFound, "not-found",
		fmt.Sprintf("no collection %q; the collections are %s", clipString(id), strings.Join(ogcCollectionIDs, ", ")))
}

// extentOf returns the extent of a non-empty layer, nil for an empty one.
func extentOf(n int, b orb.Bound) *collectionExtent {
	if n == 0 {
		return nil
	}
	return &collectionExtent{Spatial: spatialExtent{
		BBox: [][4]float64{{b.Min[0], b.Min[1], b.Max[0], b.Max[1]}},
		CRS:  crs84,
	}}
}

// collectionInfoOf describes collection id (parts or grids), false if
// there is no such collection.
func (s *Server) collectionInfoOf(base, id string) (collectionInfo, bool) {
	ci := collectionInfo{ID: id, ItemType: "feature", CRS: []string{crs84}, StorageCRS: crs84}
	switch id {
	case collectionParts:
		ci.Title = "City components (部件)"
		ci.Description = "Fixed public facilities with an owner, by 16-digit identification code: " +
			"manhole covers, street lamps, bus shelters, litter bins, trees, green spaces and the like. Retired (作废) components are not listed."
		r := s.twin.Parts()
		ci.Extent = extentOf(r.Len(), r.Bounds())
	case collectionGrids:
		ci.Title = "Unit grids (单元网格)"
		ci.Description = "Management grids of about 10,000 m², by 14-digit code (district, street, community, grid), with their responsible unit."
		ix := s.twin.Grids()
		ci.Extent = extentOf(ix.Len(), ix.Bounds())
	default:
		if !liveCollectionInfo(&ci) {
			return collectionInfo{}, false
		}
	}
	self := base + "/collections/" + id
	ci.Links = []link{
		{Href: self, Rel: "self", Type: mediaJSON},
		{Href: self + "/items", Rel: "items", Type: mediaGeoJSON},
	}
	return ci, true
}

// ogcCollections lists the collections.
func (s *Server) ogcCollections(c echo.Context) error {
	if err := checkOGCQuery(c.QueryParams()); err != nil {
		return err
	}
	base := ogcBase(c)
	out := collectionList{Links: []link{{Href: base + "/collections", Rel: "self", Type: mediaJSON}}}
	for _, id := range ogcCollectionIDs {
		ci, _ := s.collectionInfoOf(base, id)
		out.Collections = append(out.Collections, ci)
	}
	return writeJSON(c, http.StatusOK, mediaJSON, out)
}

// ogcCollection describes one collection.
func (s *Server) ogcCollection(c echo.Context) error {
	if err := checkOGCQuery(c.QueryParams()); err != nil {
		return err
	}
	ci, ok := s.collectionInfoOf(ogcBase(c), c.Param("id"))
	if !ok {
		return unknownCollection(c.Param("id"))
	}
	return writeJSON(c, http.StatusOK, mediaJSON, ci)
}
