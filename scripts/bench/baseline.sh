#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The benchmark baseline: the simplest possible hot folder, a shell loop over inotifywait that sends one
# create call per closed file. Usage: baseline.sh DIR BASE_URL API_KEY   (prints "ready" once watching)
set -u
dir=$1 url=$2 key=$3
exec 3>&1  # "ready" must reach our caller, not the loop below
inotifywait -m -e close_write --format '%w%f' "$dir" 2> >(while IFS= read -r l; do
  case $l in *"Watches established"*) echo ready >&3;; esac; done) |
while IFS= read -r f; do
  prompt=$(<"$f")
  curl -s -o /dev/null -X POST "$url/v1/videos/generations" -H "Authorization: Bearer $key" \
    -H 'Content-Type: application/json' \
    -d "{\"model\":\"doubao-seedance-1-0-pro-fast\",\"prompt\":\"$prompt\",\"duration\":5,\"resolution\":\"720p\",\"aspect_ratio\":\"16:9\"}"
done
