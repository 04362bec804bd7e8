// Package api serves the city twin over HTTP with echo: components and unit
// grids as GeoJSON (read, query, nearest, within, counts, edits with
// optimistic concurrency), Mapbox vector tiles and TileJSON, and the
// operational endpoints (health, readiness, Prometheus metrics).
//
// Handlers are thin: they decode and check the request, call twin, parts,
// grid or tiles, and encode the answer. Every error leaves through one
// function (problemOf) as an RFC 9457 application/problem+json document;
// store and SQL text never reaches a client.
//
// Decisions worth knowing:
//   - A component's GeoJSON id is its 16-digit code; properties use the
//     store's column names (code, class, name, dept_supervisor, dept_owner,
//     dept_maintainer, grid_code, state, retired, surveyed, changed, source,
//     photo, note, material, label, version).
//   - The public (no token, or a public token) reads everything except photo
//     and note; department fields are codes of public bodies and stay.
//   - A retired (作废) component answers 410 Gone to reads and writes.
//   - Versions travel as strong ETags ("3"); If-Match accepts "3", W/"3"
//     and *. A mismatch is 412. properties.version in a body acts as an
//     If-Match when the header is absent.
//   - GET /parts without bbox, codes or grid covers the whole city, paged.
//   - Unknown query parameters and unknown properties are 400 errors that
//     name them: a typo must not silently widen a query or drop an edit.
//   - Paging cursors are bound to the query they came from; a cursor used
//     with another query is a 400 naming "cursor".
package api
