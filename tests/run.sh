#!/usr/bin/env bash
# `make test`: the whole suite. The ten-minute soak of `make run` (tests/e2e/test_soak.py)
# mostly waits — people loading a page a second — so it runs beside the rest of the suite
# in its own pytest process, and the suite takes the longer of the two, not their sum. Its
# report follows the suite's. With PYTEST_ARGS (a selection, or extra options) everything
# runs as asked in one process.
set -uo pipefail
cd "$(dirname "$0")/.."
py=.venv/bin/python
if [ -n "${PYTEST_ARGS:-}" ]; then
  # shellcheck disable=SC2086  # the arguments are words
  exec "$py" -m pytest $PYTEST_ARGS
fi
soak_log=$(mktemp)
"$py" -m pytest tests/e2e/test_soak.py -p no:cacheprovider -ra >"$soak_log" 2>&1 &
soak=$!
"$py" -m pytest --ignore=tests/e2e/test_soak.py
suite=$?
wait "$soak"
soaked=$?
echo "--- the soak of make run (tests/e2e/test_soak.py), run beside the suite ---"
cat "$soak_log"
rm -f "$soak_log"
[ "$suite" -eq 0 ] && [ "$soaked" -eq 0 ]
