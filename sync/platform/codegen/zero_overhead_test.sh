#!/usr/bin/env bash
# The production platform::atomic compiles to exactly the instructions of std::atomic:
# the same functions written on each are compiled at -O2 and their disassembly compared
# (symbol names aside).
set -euo pipefail
src="${TEST_SRCDIR}/${TEST_WORKSPACE}"
out="${TEST_TMPDIR:-$(mktemp -d)}"
for name in weft_atomic std_atomic; do
  g++ -std=c++20 -O2 -I"$src" -c "$src/sync/platform/codegen/$name.cc" -o "$out/$name.o"
  objdump -d --no-show-raw-insn "$out/$name.o" | grep -v 'file format' |
    sed -e 's/^ *[0-9a-f]*://' -e 's/<[^>]*>//g' >"$out/$name.asm"
done
if ! diff -u "$out/std_atomic.asm" "$out/weft_atomic.asm"; then
  echo "platform::atomic does not compile to the same code as std::atomic" >&2
  exit 1
fi
echo "identical: $(wc -l <"$out/weft_atomic.asm") lines of disassembly"
