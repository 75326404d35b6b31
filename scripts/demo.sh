#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The main job, with no API key: builds hotfolder and runs the service against the built-in Seedance
# emulator on ./demo/{inbox,outbox,failed,archive,state}. Drop a prompt file into demo/inbox and its
# video appears in demo/outbox seconds later. Ctrl-C stops it.
#   scripts/demo.sh               an empty inbox, waiting for your drops
#   scripts/demo.sh --examples    starts with one example drop of each kind already in the inbox
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build --product hotfolder
exec .build/debug/hotfolder demo "$@"
