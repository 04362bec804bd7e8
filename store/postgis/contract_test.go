package postgis_test

import (
	"testing"

	"citytwin/store/storetest"
)

// TestContract runs the store contract suite on new, migrated schemas.
func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Store {
		s, _ := openTest(t)
		return s
	})
}
