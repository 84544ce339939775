#!/usr/bin/env bash
# //bench:smoke: every benchmark entry (weft and the C++ peers) once, with tiny counts.
# Fails only if an entry fails its result check or the binary crashes; never on timing.
set -euo pipefail
"$1" --smoke
