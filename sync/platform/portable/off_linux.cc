// Compiled by off_linux_test.sh with __linux__ undefined: the production platform layer
// must build where there is no futex system call, on std::mutex and
// std::condition_variable (sync/platform/mutex.h, WEFT_PLATFORM_FUTEX).
#include "sync/platform/platform.h"

static_assert(!WEFT_PLATFORM_FUTEX, "off Linux the production lock is std::mutex");

void use_the_layer() {
  weft::platform::mutex lock;
  weft::platform::condvar cv;
  {
    weft::platform::mutex_guard guard(lock);
    cv.notify_one();
  }
  weft::platform::parker parker;
  parker.unpark();
  parker.park();
  weft::platform::rwlock rw;
  rw.lock_shared();
  rw.unlock_shared();
}
