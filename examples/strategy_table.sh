#!/bin/bash
# Prints the Markdown table of docs/guide.md section 3: every scenario of the given model
# test binaries under each strategy, each run stopped at a time limit.
#
#   bazel build //examples/...
#   examples/strategy_table.sh 60 bazel-bin/examples/*_model_test          # on DPOR
#   examples/strategy_table.sh 60 bazel-bin/examples/*_model_test_relacy   # on Relacy
#
# A cell is "executions, seconds", then what was found: "bug" (the expected failure of
# a _FAILS scenario), "ok" (a search that finished without failure), "not found" (a
# sample or bounded search that missed the bug), "> limit" (stopped by the time limit).
set -u
limit="$1"
shift
strategies=(exhaustive bounded:2 random:100000 pct:100000:3)
echo "| scenario | expects | ${strategies[*]} |" | sed 's/ \([a-z]*:[^ ]*\|exhaustive\)/ `\1` |/g; s/| |/|/g'
echo "| --- | --- |$(printf ' --- |%.0s' "${strategies[@]}")"
for bin in "$@"; do
  test=$(basename "$bin")
  "$bin" --list | while read -r name _ rest; do
    expects=$(sed -n 's/.*expects //p' <<<"$rest")
    test=${test%_relacy}
    row="| ${test%_model_test}: \`$name\` | ${expects:-pass} |"
    for s in "${strategies[@]}"; do
      line=$("$bin" --scenario="$name" --strategy="$s" --time-limit="$limit" | grep -E "^\[[a-z]+\] [a-zA-Z]+ +$name ")
      execs=$(sed -E 's/.* ([0-9]+) executions.*/\1/' <<<"$line")
      secs=$(sed -E 's/.* ([0-9.]+) s .*/\1/' <<<"$line")
      verdict=$(awk '{print $2}' <<<"$line")
      case "$verdict:$line" in
        skip:*) what="> limit" ;;
        ok:*expected*) what="bug" ;;
        ok:*) what="ok" ;;
        FAILED:*"no failure"*) what="not found" ;;
        *) what="FAILED" ;;
      esac
      row+=" $execs, ${secs} s, $what |"
    done
    echo "$row"
  done
done
