#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Fault-injection harness: mixed jobs under emulator faults and 20 SIGKILLs, the money section (~1,000 jobs per
# provider, gateway and Ark, under the faults that cost money and 20 SIGKILLs), a bad-input corpus, a full disk and
# a secret-key scan. Prints a table of invariants, the money summary and a verdict; exits 1 if an invariant breaks
# (< 15 minutes).
#   scripts/chaos.sh [--waves 10] [--kills 20] [--seed N] [--money-jobs 1000] [--providers gateway,ark]
#                    [--only mixed,money,bad,diskfull,secret] [--keep]
# HOTFOLDER_BIN=/path/to/hotfolder skips the release build.
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in python3 mount; do
  command -v "$tool" >/dev/null || { echo "chaos: $tool is missing; run scripts/setup.sh" >&2; exit 2; }
done
if [ -z "${HOTFOLDER_BIN:-}" ]; then
  echo "chaos: building the release binary (swift build -c release --scratch-path .build-release)"
  swift build -c release --scratch-path .build-release --product hotfolder >&2
  HOTFOLDER_BIN="$(swift build -c release --scratch-path .build-release --show-bin-path)/hotfolder"
fi
exec python3 scripts/bench/chaos.py "$HOTFOLDER_BIN" "$@"
