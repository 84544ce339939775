#!/usr/bin/env bash
# //bench:smoke: every benchmark entry (weft and the C++ peers) once, with tiny counts, and
# the memory program (bench/run --memory) once. Fails only if an entry fails its result
# check, the memory program misses an object, or a binary crashes; never on timing.
set -euo pipefail
"$1" --smoke
objects=$("$2" | grep -c '^MEMORY ')
[ "$objects" -eq 8 ] || { echo "memory: $objects MEMORY lines, want 8" >&2; exit 1; }
echo "memory: $objects objects"
