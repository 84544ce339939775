#!/bin/bash
R=${R:-7}
WL=${WL:-"mutex_contended_4 spawn watch_4rx broadcast_1to4 notify_pingpong"}
RUST=/work/main/bench/tokio/target/release/rust_peers
for w in $WL; do
  for r in $(seq $R); do
    for b in base old new; do
      /tmp/bench.$b --workload=$w --impl=weft | awk -v b=$b '/^RESULT/{printf "%s %s %.4f\n",$2,b,$4/$5/1e6}'
    done
    $RUST --workload=$w --impl=tokio 2>/dev/null | awk '/^RESULT/{printf "%s tokio %.4f\n",$2,$4/$5/1e6}'
  done
done
