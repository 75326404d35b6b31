#!/usr/bin/env bash
# Installs the system packages hotfolder needs to build, test, benchmark and run its demo.
# Idempotent: when everything is present it only checks and returns. Runs as root (or via sudo).
set -euo pipefail

packages=(
  libinotifytools0-dev   # the inotify library the watcher links (GPL-2)
  inotify-tools          # inotifywait: the benchmark baseline and a handy debugging tool
  libsqlite3-dev         # SQLite for the state database (GRDB)
  rsync                  # watcher tests exercise rsync's temp-file-then-rename pattern
  ffmpeg                 # the emulator renders real MP4s; tests check them with ffprobe
  curl                   # README examples and the benchmark baseline
  wrk                    # HTTP load generator: emulator throughput (scripts/emulator-load.lua)
  procps                 # ps/pgrep for the benchmark and chaos scripts
  valgrind               # profiling in scripts/bench.sh (optional but documented)
  fonts-dejavu-core      # the font ffmpeg's drawtext writes names with on the report's contact sheet
  chromium               # the browser test opens the morning report headless
  chromium-driver        # chromedriver, which selenium drives chromium through
  python3-venv           # the virtual environment that holds selenium for the browser test
  postgresql             # initdb and pg_ctl for the tests' private PostgreSQL clusters (issue 12: several nodes)
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all system packages present (${#packages[@]} checked)"
else
  echo "setup: installing ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
      echo "setup: must run as root (or have sudo) to install: ${missing[*]}" >&2; exit 1
    fi
  fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  echo "setup: system packages installed"
fi

# selenium for the browser test (scripts/browser/check_report.py), in a virtual environment made with Debian's
# python3 (not whatever python3 is first on PATH); the tests look for it at the same place.
venv="${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/hotfolder/venv"
if [ ! -x "$venv/bin/python" ]; then
  echo "setup: creating the Python environment $venv"
  mkdir -p "$(dirname "$venv")"
  /usr/bin/python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -c 'import selenium' >/dev/null 2>&1; then
  echo "setup: installing selenium into $venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check selenium
fi
# jsonschema and PyYAML: the dashboard test checks real API answers against etc/openapi.yaml; schemathesis fuzzes it.
if ! "$venv/bin/python" -c 'import jsonschema, yaml' >/dev/null 2>&1 || [ ! -x "$venv/bin/schemathesis" ]; then
  echo "setup: installing jsonschema, pyyaml and schemathesis into $venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check jsonschema pyyaml schemathesis
fi
echo "setup: done"
