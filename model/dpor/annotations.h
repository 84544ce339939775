// weft/model/dpor/annotations.h: included first in every file of the DPOR build
// (DPOR_COPTS's -include, bazel/weft.bzl). libstdc++ marks the synchronization of its
// reference counts (std::shared_ptr's: each owner's releasing decrement, the last owner's
// acquire before it destroys the object) with the race-detector hooks
// _GLIBCXX_SYNCHRONIZATION_HAPPENS_BEFORE and _AFTER (bits/c++config, empty by default).
// Those counts are std atomics, not the platform's: without the hooks the checker would
// not see that a shared_ptr's last owner destroys the object after every other owner's
// use, and would report the destruction as racing that use. Each hook calls the engine
// (Engine::annotated_release and annotated_acquire). The declarations are local, with an
// assembler name, because the hooks expand inside namespace std.
#pragma once

#define _GLIBCXX_SYNCHRONIZATION_HAPPENS_BEFORE(A)                         \
  __extension__({                                                          \
    extern void weft_dpor_release_(const volatile void*) noexcept __asm__( \
        "weft_dpor_happens_before");                                       \
    weft_dpor_release_(A);                                                 \
  })
#define _GLIBCXX_SYNCHRONIZATION_HAPPENS_AFTER(A)                          \
  __extension__({                                                          \
    extern void weft_dpor_acquire_(const volatile void*) noexcept __asm__( \
        "weft_dpor_happens_after");                                        \
    weft_dpor_acquire_(A);                                                 \
  })
