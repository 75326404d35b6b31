#!/usr/bin/env bash
# Builds everything with warnings as errors and runs the whole test suite.
# Usage: scripts/test.sh [extra `swift test` arguments, e.g. --filter WatcherTests]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# Warnings are errors for this package's own targets (SwiftPM silences warnings in dependencies).
swift build --build-tests -Xswiftc -warnings-as-errors
swift test --skip-build --parallel --num-workers 2 "$@"
