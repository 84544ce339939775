// weft/bench/line_handoff.h: how long one cache line takes to go from one core to the
// other, measured the way the contended workloads pay it.
//
// A cloud VM's vCPUs move between physical cores: on the project's 2-vCPU AMD EPYC
// machine the same binary finds a line handoff of ~28 ns (the two vCPUs near each other)
// or ~160 ns (far apart) for minutes at a time, and every workload whose tasks share
// lines across the two workers slows with it (bench/README, "The idle worker parks at
// once"). bench/run measures this before each repetition and prints it beside the
// results, so that a reader knows which placement a figure came from.
#pragma once

namespace bench {

// Nanoseconds for one one-way handoff of a line between two threads pinned to CPUs 0
// and 1 (unpinned if pinning fails): the median of several short ping-pong runs.
double line_handoff_ns();

}  // namespace bench
