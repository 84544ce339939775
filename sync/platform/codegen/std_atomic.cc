// Compiled by zero_overhead_test.sh: the reference, plain std::atomic.
#include <atomic>
using A = std::atomic<unsigned long>;
unsigned long f_load(A& a) { return a.load(std::memory_order_acquire); }
void f_store(A& a, unsigned long v) { a.store(v, std::memory_order_release); }
unsigned long f_add(A& a) { return a.fetch_add(2, std::memory_order_acq_rel); }
bool f_cas(A& a, unsigned long& e) {
  return a.compare_exchange_strong(e, 7, std::memory_order_acq_rel, std::memory_order_acquire);
}
unsigned long f_or(A& a) { return a.fetch_or(4, std::memory_order_seq_cst); }
