#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Several nodes on one inbox and one PostgreSQL database under faults (issue 12): 3 nodes, ~700 mixed jobs, node n1
# killed with SIGKILL 5 times, node n2 frozen with SIGSTOP past its lease, PostgreSQL restarted once. Prints a table
# of invariants, jobs done per node and take-overs, and a verdict; exits 1 if an invariant breaks (< 10 minutes).
#   scripts/cluster.sh [--waves 7] [--kills 5] [--seed N] [--lease 5] [--keep]
# HOTFOLDER_BIN=/path/to/hotfolder skips the release build.
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in python3; do
  command -v "$tool" >/dev/null || { echo "cluster: $tool is missing; run scripts/setup.sh" >&2; exit 2; }
done
ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || { echo "cluster: PostgreSQL is missing; run scripts/setup.sh" >&2; exit 2; }
if [ -z "${HOTFOLDER_BIN:-}" ]; then
  echo "cluster: building the release binary (swift build -c release --scratch-path .build-release)"
  swift build -c release --scratch-path .build-release --product hotfolder >&2
  HOTFOLDER_BIN="$(swift build -c release --scratch-path .build-release --show-bin-path)/hotfolder"
fi
exec python3 scripts/bench/cluster.py "$HOTFOLDER_BIN" "$@"
