#!/bin/bash
# Alternated idle timing: each binary run directly, R rounds, medians after.
R=${R:-7}
RUST=/work/main/bench/tokio/target/release/rust_peers
run() { # label workload binary-args...
  local label=$1 w=$2; shift 2
  "$@" --workload=$w 2>/dev/null | awk -v b=$label '/^RESULT/{printf "%s %s %.4f\n",$2,b,$4/$5/1e6}'
}
for r in $(seq $R); do
  for b in $SPSC_BINS; do run $b mpsc_bounded_spsc_blocking /tmp/bench.$b --impl=weft; done
  run crossbeam mpsc_bounded_spsc_blocking $RUST --impl=crossbeam
  run tokio mpsc_bounded_spsc_blocking $RUST --impl=tokio
done
for w in $OTHER_WL; do
  for r in $(seq $R); do
    for b in $OTHER_BINS; do run $b $w /tmp/bench.$b --impl=weft; done
    run tokio $w $RUST --impl=tokio
  done
done
