#!/usr/bin/env bash
# //ci:format_test: every .h and .cc of the tree is as ci/format (clang-format 14, the
# tree's .clang-format) leaves it. To mend a failure: ci/format.
set -euo pipefail
[[ -f .clang-format ]] || { echo "format_test: .clang-format is not in the runfiles" >&2; exit 2; }
mapfile -t files < <(find -L . -path ./external -prune -o \( -name '*.h' -o -name '*.cc' \) -print | sort)
# Self-check: the file list is the tree, not an empty or partial runfiles set.
(( ${#files[@]} >= 150 )) || { echo "format_test: only ${#files[@]} files found" >&2; exit 2; }
exec ci/format --check "${files[@]}"
