#!/bin/bash
# The runner's command line and output, as a user meets them: each check runs the
# scenarios binary (cli/scenarios.cc) and reads what it prints.
set -u
bin="$1"   # the scenarios on the Relacy backend (:cli_test_scenarios_relacy)
dpor="$2"  # the same scenarios on the DPOR backend (:cli_test_scenarios)
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# random:N:SEED runs N executions, whatever the seed (it once ran N + SEED).
out=$("$bin" --scenario=one_step --strategy=random:100:7)
grep -q " 100 executions" <<<"$out" || fail "random:100:7 did not run 100 executions: $out"

# pct is accepted, and a bad depth is refused.
"$bin" --scenario=one_step --strategy=pct:50:2:3 | grep -q " 50 executions" ||
  fail "pct:50:2:3 did not run 50 executions"
"$bin" --scenario=one_step --strategy=pct:50:0 >/dev/null 2>&1
[ $? -eq 2 ] || fail "pct:50:0 was not refused"

# s.on_dpor(d): Relacy runs s, DPOR runs d, and each lists and reports its own.
"$bin" --list --scenario=one_step_per_backend | grep -q "random(100, seed 0)" ||
  fail "Relacy does not list the scenario's own strategy"
"$dpor" --list --scenario=one_step_per_backend | grep -q "bounded(3)" ||
  fail "DPOR does not list the strategy named for it"
"$dpor" --scenario=one_step_per_backend | grep -q "^\[dpor\] ok .* bounded(3) " ||
  fail "DPOR did not run the strategy named for it"
"$bin" --scenario=one_step_per_backend | grep -q " 100 executions" ||
  fail "Relacy did not run the scenario's own strategy"

# --jobs takes a number of processes (the DPOR backend's; the others ignore it).
"$bin" --scenario=one_step --jobs=2 | grep -q "1 passed" || fail "--jobs=2 was not accepted"
"$bin" --scenario=one_step --jobs=0 >/dev/null 2>&1
[ $? -eq 2 ] || fail "--jobs=0 was not refused"

# --time-limit stops a long search and reports a skip, not a pass.
out=$("$bin" --scenario=endless_search --time-limit=1)
code=$?
grep -q "^\[model\] skip   endless_search .*before the time limit" <<<"$out" ||
  fail "--time-limit=1 did not report a skip: $out"
grep -q "0 passed, 0 failed, 1 skipped" <<<"$out" || fail "the skip is not counted: $out"
[ $code -eq 0 ] || fail "a skipped search exited $code"

# A required point never reached fails the scenario and is named.
out=$("$bin" --scenario=misses_its_point)
[ $? -eq 1 ] || fail "an unreached required point did not fail"
grep -q "never reached: n was 1" <<<"$out" || fail "the unreached point is not named: $out"

# A failure prints its summary, the trace of weft steps and the replay command; no
# Relacy progress lines, no mangled names, no Relacy-internal locations.
out=$("$bin" --scenario=unexpected_race)
[ $? -eq 1 ] || fail "an unexpected race did not fail"
grep -q "^\[model\] FAILED unexpected_race" <<<"$out" || fail "no FAILED line: $out"
grep -q "^---- trace of unexpected_race (model/harness/cli/scenarios.cc:" <<<"$out" ||
  fail "no trace header: $out"
grep -q "cell read, in .*model/harness/cli/scenarios.cc([0-9]*)$" <<<"$out" ||
  fail "the racing read's step does not name its line: $out"
grep -q "^replay: .*--scenario=unexpected_race --strategy=exhaustive --replay='" <<<"$out" ||
  fail "no replay command: $out"
grep -qE "[0-9]+% \(" <<<"$out" && fail "Relacy progress lines in the failure: $out"
grep -qE "N4weft|relacy_suite|/relacy/" <<<"$out" && fail "mangled or Relacy-internal names: $out"
grep -q "^thread 0:" <<<"$out" && fail "the per-thread repetition of the trace is printed"

# DPOR --jobs: random(N) split over processes reports one job's failure (the lowest-
# numbered failing execution), with the same trace and replay; a time limit still skips.
one=$("$dpor" --scenario=unexpected_race --strategy=random:3000 --jobs=1)
three=$("$dpor" --scenario=unexpected_race --strategy=random:3000 --jobs=3)
grep -q "^replay: " <<<"$one" || fail "random:3000 found no failure: $one"
[ "$(grep -A1000 '^---- trace' <<<"$one")" = "$(grep -A1000 '^---- trace' <<<"$three")" ] ||
  fail "--jobs=3 reported another failure than one job: $one ---- $three"
"$dpor" --scenario=one_step --strategy=random:100 --jobs=3 | grep -q " 100 executions" ||
  fail "random:100 over --jobs=3 did not count 100 executions"
out=$("$dpor" --scenario=endless_search --time-limit=1 --jobs=2)
grep -q "^\[dpor\] skip   endless_search .*before the time limit" <<<"$out" ||
  fail "--jobs=2 --time-limit=1 did not report a skip: $out"

[ $failures -eq 0 ] && echo "cli_test: all checks passed"
exit $((failures != 0))
