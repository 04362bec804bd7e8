#!/usr/bin/env bash
# Runs every fuzz target of the module for FUZZTIME each: the seeds run in
# every `go test`; this explores beyond them. FUZZTIME is a count of inputs
# ("3000x", the default) or a duration ("3s"). A count is what CI uses: a
# duration makes Go's fuzz coordinator race its own deadline, and on a busy
# machine it can report "context deadline exceeded" with no failing input.
# A crasher fails the script and is written under the package's
# testdata/fuzz/.
set -euo pipefail
cd "$(dirname "$0")/.."
t="${FUZZTIME:-3000x}"
log=$(mktemp -t citytwin-fuzz.XXXXXX)
trap 'rm -f "$log"' EXIT
fail=0
while IFS=: read -r file name; do
  dir=$(dirname "$file")
  echo "fuzz ./$dir $name ($t)"
  if ! go test -run '^$' -fuzz "^${name}\$" -fuzztime "$t" "./$dir" >"$log" 2>&1; then
    cat "$log"
    fail=1
  fi
done < <(grep -rHo --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*' . | sed -e 's#^\./##' -e 's#:func #:#')
exit $fail
