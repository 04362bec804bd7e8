// Package e2e holds end-to-end tests that drive citytwin with real clients:
// the map page in headless Chromium (map.mjs, playwright-core with Debian's
// chromium). It has no code of its own.
package e2e
