package ingest

// maxErrors is how many row errors Stats keeps.
const maxErrors = 100

// Stats counts what a Reader has read so far.
type Stats struct {
	Read     int // records read, good or bad
	Imported int // parts returned by Next
	Skipped  int // records returned as a *RowError
	// Errors holds the first 100 row errors; a broken stream adds a last
	// entry with Field "input".
	Errors []RowError
	// MissingFields lists mapped source fields that no record read so far
	// had (a misspelt field name shows up here; for CSV it is an error at
	// NewReader).
	MissingFields []string
}

func (s *Stats) addError(e RowError) {
	if len(s.Errors) < maxErrors {
		s.Errors = append(s.Errors, e)
	}
}
