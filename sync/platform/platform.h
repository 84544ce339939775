// weft/sync/platform/platform.h: the whole platform layer in one include.
//
// weft's primitives, and any algorithm a user wants checked by weft's harness, are
// written against these types only; the build chooses std or Relacy underneath.
#pragma once

#include "sync/platform/atomic.h"
#include "sync/platform/cache_padded.h"
#include "sync/platform/cell.h"
#include "sync/platform/clock.h"
#include "sync/platform/config.h"
#include "sync/platform/fence.h"
#include "sync/platform/futex.h"
// The futex lock and condvar are platform::mutex and condvar on Linux (and checked in the
// model build); elsewhere those are the std ones (mutex.h) and these are left out.
#if defined(WEFT_MODEL) || defined(__linux__)
#include "sync/platform/futex_condvar.h"
#include "sync/platform/futex_lock.h"
#endif
#include "sync/platform/invariant.h"
#include "sync/platform/mutex.h"
#include "sync/platform/parker.h"
#include "sync/platform/rwlock.h"
#include "sync/platform/spin.h"
#include "sync/platform/thread.h"
#include "sync/platform/thread_cached.h"
#include "sync/platform/thread_local_pointer.h"
