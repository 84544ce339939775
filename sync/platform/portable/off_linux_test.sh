#!/usr/bin/env bash
# The production platform layer compiles off Linux (off_linux.cc with __linux__
# undefined): the futex headers stay out and platform::mutex / condvar are the std ones.
set -euo pipefail
src="${TEST_SRCDIR}/${TEST_WORKSPACE}"
g++ -std=c++20 -fsyntax-only -Wall -Wextra -Werror -U__linux__ -DWEFT_STD=1 -I"$src" \
  "$src/sync/platform/portable/off_linux.cc"
echo "the platform layer compiles with __linux__ undefined"
