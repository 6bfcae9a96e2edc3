#!/usr/bin/env bash
# Runs one browser test file with node's test runner; exits 77 (CTest: skipped) with a message
# when node, chromium or the npm packages (scripts/install-deps runs `npm ci` here) are missing.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
test_file="$1"
skip() { echo "SKIPPED: $1" >&2; exit 77; }
command -v node >/dev/null || skip "node is not installed (scripts/install-deps installs nodejs)"
chromium="${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}"
[ -n "$chromium" ] || skip "chromium is not installed (scripts/install-deps installs it)"
[ -d "$here/node_modules/playwright-core" ] || skip "playwright-core is missing: run scripts/install-deps (npm ci in tests/browser)"
export CHROMIUM="$chromium"
exec node --test --test-reporter=spec "$here/$test_file"
