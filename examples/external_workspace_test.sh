#!/bin/sh
# Builds and tests examples/external_workspace as a workspace of its own that loads weft
# through local_repository (docs/guide.md, section 7), end to end: the macros of
# @weft//bazel:weft.bzl must resolve weft's targets from a workspace that is not weft,
# both model tests included: the DPOR one's copts' -include of model/dpor/annotations.h
# must resolve there too.
# It runs a nested Bazel in batch mode with its own output base under TEST_TMPDIR, fully
# offline; cold, that takes about 35 s on 2 cores.
set -eu

here=$(dirname "$(readlink -f examples/external_workspace/WORKSPACE)")
weft=$(dirname "$(dirname "$here")")
ws="$TEST_TMPDIR/my_project"
mkdir -p "$ws"
for f in WORKSPACE BUILD .bazelrc spinlock.h spinlock_scenarios.cc; do
  cp "$here/$f" "$ws/$f"
done
# The copy lives elsewhere: point its relative paths at this weft checkout.
sed -i "s|\"\\.\\./\\.\\.\"|\"$weft\"|; s|\"\\.\\./\\.\\./third_party|\"$weft/third_party|" \
  "$ws/WORKSPACE"
grep -q "path = \"$weft\"" "$ws/WORKSPACE" || { echo "WORKSPACE not rewritten" >&2; exit 1; }

cd "$ws"
# No nested sandbox (this test runs unsandboxed, tag "local"). The system bazelrc stays:
# Debian's holds the startup options its Bazel needs (install base, host JDK).
bazel --batch --nohome_rc --output_base="$TEST_TMPDIR/output_base" \
  test --spawn_strategy=local --symlink_prefix=/ --test_output=errors //...
