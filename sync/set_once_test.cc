// Unit tests of SetOnce. Ported from tokio/tests/sync_set_once.rs, with counted values so
// every value is destroyed exactly once.
#include "sync/set_once.h"
#include "sync/platform/atomic.h"

#include "sync/task/block_on.h"
#include "sync/task/mock_task.h"
#include "testing/waker_leak_check.h"
#include "testing/counted.h"

#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace {

using weft::MockTask;
using weft::SetOnce;

using Counted = weft::testing::Counted;

TEST_CASE("drop_cell") {
  {
    SetOnce<Counted> once;
    CHECK(once.set(Counted(1)).is_ok());
    CHECK(Counted::live() == 1);
  }
  CHECK(Counted::live() == 0);
}

TEST_CASE("drop_cell_new_with") {
  {
    SetOnce<Counted> once(Counted(1));
    CHECK(once.initialized());
    CHECK(Counted::live() == 1);
  }
  CHECK(Counted::live() == 0);
}

TEST_CASE("drop_into_inner") {
  {
    SetOnce<Counted> once;
    CHECK(once.set(Counted(1)).is_ok());
    {
      auto inner = std::move(once).into_inner();
      REQUIRE(inner.has_value());
      CHECK(inner->value == 1);
      CHECK(Counted::live() == 1);
    }
    CHECK(Counted::live() == 0);
    CHECK_FALSE(once.initialized());
  }
  CHECK(Counted::live() == 0);
}

TEST_CASE("drop_into_inner_new_with") {
  {
    SetOnce<Counted> once(Counted(7));
    auto inner = std::move(once).into_inner();
    REQUIRE(inner.has_value());
    CHECK(inner->value == 7);
  }
  CHECK(Counted::live() == 0);
}

TEST_CASE("from") {
  SetOnce<int> cell(2);
  REQUIRE(cell.get() != nullptr);
  CHECK(*cell.get() == 2);
}

TEST_CASE("set_and_get") {
  SetOnce<int> once;
  std::thread setter([&] { CHECK(once.set(5).is_ok()); });
  setter.join();
  REQUIRE(once.get() != nullptr);
  CHECK(*once.get() == 5);
}

TEST_CASE("set_while_initializing_or_set") {
  SetOnce<Counted> once;
  CHECK(once.set(Counted(1)).is_ok());
  auto again = once.set(Counted(2));
  REQUIRE(again.is_err());
  CHECK(again.error().value.value == 2);  // the value comes back
  CHECK(once.get()->value == 1);
}

TEST_CASE("get_uninit") {
  SetOnce<int> once;
  CHECK(once.get() == nullptr);
  CHECK_FALSE(once.initialized());
}

TEST_CASE("set_twice") {
  SetOnce<int> once;
  CHECK(once.set(2).is_ok());
  CHECK(*once.get() == 2);
  auto err = once.set(3);
  REQUIRE(err.is_err());
  CHECK(err.error().value == 3);
}

TEST_CASE("is_none_initializing") {
  SetOnce<int> once;
  CHECK_FALSE(once.initialized());
  CHECK(once.set(20).is_ok());
  CHECK(once.initialized());
}

TEST_CASE("into_inner of an empty cell") {
  SetOnce<int> once;
  CHECK_FALSE(std::move(once).into_inner().has_value());
}

TEST_CASE("wait completes at once when set") {
  SetOnce<int> once(4);
  MockTask task;
  auto w = once.wait();
  auto p = task.poll(w);
  REQUIRE(p.is_ready());
  CHECK(p.value().get() == 4);
}

TEST_CASE("wait is woken by set, and every waiter sees the value") {
  SetOnce<std::string> once;
  MockTask t1, t2;
  auto w1 = once.wait();
  auto w2 = once.wait();
  CHECK(t1.poll(w1).is_pending());
  CHECK(t2.poll(w2).is_pending());
  CHECK(once.set("hello").is_ok());
  CHECK(t1.is_woken());
  CHECK(t2.is_woken());
  CHECK(t1.poll(w1).value().get() == "hello");
  CHECK(t2.poll(w2).value().get() == "hello");
}

TEST_CASE("a cancelled wait leaves nothing behind") {
  SetOnce<int> once;
  MockTask task;
  {
    auto w = once.wait();
    CHECK(task.poll(w).is_pending());
  }
  CHECK(task.waker_ref_count() == 0);
  CHECK(once.set(1).is_ok());
  CHECK_FALSE(task.is_woken());
}

TEST_CASE("clone and equality") {
  SetOnce<int> a;
  SetOnce<int> b;
  CHECK(a == b);
  CHECK(a.set(3).is_ok());
  CHECK_FALSE(a == b);
  SetOnce<int> c(a);
  CHECK(c == a);
  CHECK(*c.get() == 3);
}

TEST_CASE("set_and_wait_multiple_threads") {
  SetOnce<unsigned> once;
  bool first_err = false, second_err = false;
  std::thread t1([&] { first_err = once.set(4).is_err(); });
  std::thread t2([&] { second_err = once.set(3).is_err(); });
  t1.join();
  t2.join();
  CHECK(first_err != second_err);
}

TEST_CASE("set_and_wait_threads") {
  SetOnce<unsigned> once;
  std::thread setter([&] { CHECK(once.set(4).is_ok()); });
  const unsigned& value = weft::block_on(once.wait());
  setter.join();
  CHECK(value == 4);
}

TEST_CASE("racing setters: exactly one wins, every value destroyed once") {
  for (int round = 0; round < 50; ++round) {
    {
      SetOnce<Counted> once;
      weft::platform::atomic<int> wins{0};  // relaxed: a count, read after the joins
      std::vector<std::thread> threads;
      for (int i = 0; i < 4; ++i) {
        threads.emplace_back([&, i] {
          if (once.set(Counted(i)).is_ok()) wins.fetch_add(1, std::memory_order_relaxed);
        });
      }
      std::thread waiter([&] {
        const Counted& v = weft::block_on(once.wait());
        CHECK(v.value >= 0);
      });
      for (auto& t : threads) t.join();
      waiter.join();
      CHECK(wins.load(std::memory_order_relaxed) == 1);
    }
    CHECK(Counted::live() == 0);
  }
}

// Class check (issue 18, after Tokio #7886): a future that stored its task's waker drops
// it when destroyed (testing/waker_leak_check.h).
TEST_CASE("a destroyed wait() future releases its waker") {
  weft::SetOnce<int> once;
  CHECK(weft::testing::waker_released_on_destroy([&] { return once.wait(); }));
}

// Tokio's SetOnce::new_with (tokio/src/sync/set_once.rs).
TEST_CASE("new_with: a value makes a set cell, nullopt an empty one") {
  auto set = weft::SetOnce<std::string>::new_with(std::string("v"));
  REQUIRE(set.initialized());
  CHECK(*set.get() == "v");
  CHECK(set.set("w").is_err());
  MockTask task;
  auto wait = set.wait();
  CHECK(task.poll(wait).is_ready());  // a set cell's wait() is ready at once
  auto empty = weft::SetOnce<std::string>::new_with(std::nullopt);
  CHECK_FALSE(empty.initialized());
  CHECK(empty.get() == nullptr);
  CHECK(empty.set("w").is_ok());
  CHECK(*empty.get() == "w");
}

}  // namespace
