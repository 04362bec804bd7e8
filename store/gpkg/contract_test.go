package gpkg

import (
	"context"
	"path/filepath"
	"testing"

	"citytwin/store/storetest"
)

// TestContract runs the store contract suite on new, empty files.
func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Store {
		path := filepath.Join(t.TempDir(), "city.gpkg")
		w, err := Create(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Commit(); err != nil {
			t.Fatal(err)
		}
		return openT(t, path)
	})
}
