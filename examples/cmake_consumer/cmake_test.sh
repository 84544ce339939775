#!/bin/sh
# weft for CMake users, end to end, offline (Debian's cmake, g++, pkg-config): configures,
# builds and installs weft's top-level CMakeLists.txt into a temporary prefix; builds
# examples/cmake_consumer against the installed tree with find_package, then against the
# source tree with add_subdirectory, and a one-file build with pkg-config's flags; runs
# each consumer.
set -eu

# The runfiles hold symlinks; an install of symlinks would point back into them. Work on
# a dereferenced copy of what the test was given.
src="$TEST_TMPDIR/weft"
mkdir -p "$src"
cp -RL CMakeLists.txt cmake sync interop "$src/"
mkdir -p "$src/examples"
cp -RL examples/cmake_consumer "$src/examples/"
prefix="$TEST_TMPDIR/prefix"
consumer="$src/examples/cmake_consumer"

cmake -S "$src" -B "$TEST_TMPDIR/build" -DCMAKE_INSTALL_PREFIX="$prefix" >/dev/null
cmake --build "$TEST_TMPDIR/build" >/dev/null
cmake --install "$TEST_TMPDIR/build" >/dev/null
test -f "$prefix/include/weft/sync/mpsc/bounded.h"
test -f "$prefix/include/weft/interop/asio_poll.h"
test -f "$prefix/lib/cmake/weft/weftConfig.cmake"
test -f "$prefix/share/pkgconfig/weft.pc"
if find "$prefix" -type l | grep -q .; then
  echo "the install holds symlinks" >&2
  exit 1
fi

echo "== find_package(weft) against $prefix"
cmake -S "$consumer" -B "$TEST_TMPDIR/by_package" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$TEST_TMPDIR/by_package" >/dev/null
"$TEST_TMPDIR/by_package/consumer"

echo "== add_subdirectory(weft)"
cmake -S "$consumer" -B "$TEST_TMPDIR/by_subdirectory" -DWEFT_SOURCE_DIR="$src" >/dev/null
cmake --build "$TEST_TMPDIR/by_subdirectory" >/dev/null
"$TEST_TMPDIR/by_subdirectory/consumer"

echo "== pkg-config weft"
flags=$(PKG_CONFIG_PATH="$prefix/share/pkgconfig" pkg-config --cflags --libs weft)
# shellcheck disable=SC2086 # the flags are words
g++ $flags "$consumer/main.cc" -o "$TEST_TMPDIR/by_pkg_config"
"$TEST_TMPDIR/by_pkg_config"
