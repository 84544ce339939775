// weft/sync/platform/config.h: which backend this translation unit is built for.
//
// Every weft library target exists twice (see //bazel:weft.bzl): the production variant
// defines WEFT_STD and runs on std::atomic; the model variant defines WEFT_MODEL and runs
// on Relacy's instrumented types inside a model-checking simulation. The two never meet
// in one binary: a binary that sees both defines does not compile.
#pragma once

#if defined(WEFT_MODEL) && defined(WEFT_STD)
#error "weft: the production (WEFT_STD) and model (WEFT_MODEL) variants met in one binary"
#endif

#if !defined(WEFT_MODEL) && !defined(WEFT_STD)
#define WEFT_STD 1  // built outside Bazel: the production backend
#endif

// The model build has two backends: weft's own DPOR checker (model/dpor), chosen by
// WEFT_MODEL_DPOR (the default model test's), and Relacy otherwise. Both keep WEFT_MODEL (the
// model's capacities); the platform headers switch on WEFT_MODEL_RELACY / WEFT_MODEL_DPOR.
#if defined(WEFT_MODEL_DPOR)
#if !defined(WEFT_MODEL)
#define WEFT_MODEL 1
#endif
#include "sync/platform/dpor.h"
#elif defined(WEFT_MODEL)
#define WEFT_MODEL_RELACY 1
#include "sync/platform/relacy.h"
#endif

// Whether production sleeps on the futex system call (Linux's): platform::futex is the
// system call and platform::mutex / condvar the futex ones. A build may set it to 0 to get
// std::mutex and std::condition_variable, and a futex emulated over them (futex.h).
#if !defined(WEFT_PLATFORM_FUTEX)
#if defined(__linux__)
#define WEFT_PLATFORM_FUTEX 1
#else
#define WEFT_PLATFORM_FUTEX 0
#endif
#endif
