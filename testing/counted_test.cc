#include "testing/counted.h"

#include <doctest/doctest.h>

#include <optional>
#include <type_traits>
#include <utility>

using weft::testing::Counted;
using weft::testing::MoveOnlyCounted;

TEST_CASE("every instance counts once, copies and moves included") {
  const long before = Counted::live();
  {
    Counted a(1);
    Counted b = a;
    Counted c = std::move(a);
    CHECK(Counted::live() == before + 3);
    CHECK(b == c);
    b = Counted(2);
    CHECK(b.value == 2);
    CHECK(Counted::live() == before + 3);
  }
  CHECK(Counted::live() == before);
}

TEST_CASE("a count the test owns") {
  Counted::Count live{0};
  {
    std::optional<MoveOnlyCounted> v;
    v.emplace(&live, 7);
    MoveOnlyCounted moved = std::move(*v);
    CHECK(live.load(std::memory_order_relaxed) == 2);
    v.reset();
    CHECK(moved.value == 7);
  }
  CHECK(live.load(std::memory_order_relaxed) == 0);
  CHECK(Counted::live() == 0);
}

static_assert(std::is_copy_constructible_v<Counted>);
static_assert(!std::is_copy_constructible_v<MoveOnlyCounted>);
static_assert(std::is_nothrow_move_constructible_v<MoveOnlyCounted>);
