#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Benchmarks hotfolder against a baseline measured in the same run; prints a table and a one-line verdict.
#   scripts/bench.sh                          # everything (about 10 minutes on a 2-core machine)
#   scripts/bench.sh --only burst,latency     # some sections: burst latency idle pollscan polling restart bigimages
#                                             # pollscan100k start100k folders10k history1m dashboard burst-dashboard
#                                             # nodes (1 node on SQLite, 1 and 3 nodes on PostgreSQL)
#   scripts/bench.sh --burst-n 2000 --idle-seconds 10 ...   (see scripts/bench/bench.py --help)
# HOTFOLDER_BIN=/path/to/hotfolder skips the release build.
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in inotifywait curl python3 find; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing; run scripts/setup.sh" >&2; exit 2; }
done
if [ -z "${HOTFOLDER_BIN:-}" ]; then
  echo "bench: building the release binary (swift build -c release --scratch-path .build-release)"
  swift build -c release --scratch-path .build-release --product hotfolder >&2
  HOTFOLDER_BIN="$(swift build -c release --scratch-path .build-release --show-bin-path)/hotfolder"
fi
exec python3 scripts/bench/bench.py "$HOTFOLDER_BIN" "$@"
