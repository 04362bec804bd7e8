#!/usr/bin/env bash
# Runs every fuzz target of the module for FUZZTIME each (default 3s): the
# seeds run in every `go test`; this explores beyond them. A crasher fails
# the script and is written under the package's testdata/fuzz/.
set -euo pipefail
cd "$(dirname "$0")/.."
t="${FUZZTIME:-3s}"
fail=0
while IFS=: read -r file name; do
  dir=$(dirname "$file")
  echo "fuzz ./$dir $name ($t)"
  if ! go test -run '^$' -fuzz "^${name}\$" -fuzztime "$t" "./$dir" >/tmp/citytwin-fuzz.log 2>&1; then
    cat /tmp/citytwin-fuzz.log
    fail=1
  fi
done < <(grep -rHo --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*' . | sed -e 's#^\./##' -e 's#:func #:#')
exit $fail
