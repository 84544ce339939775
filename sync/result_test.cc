#include "sync/result.h"

#include <doctest/doctest.h>

#include <memory>
#include <string>

namespace {

enum class Why { Empty, Closed };

weft::Result<int, Why> half(int n) {
  if (n % 2 != 0) return weft::Err(Why::Empty);
  return n / 2;
}

TEST_CASE("Result holds a value or an error") {
  auto ok = half(4);
  REQUIRE(ok);
  CHECK(*ok == 2);
  auto err = half(3);
  REQUIRE(err.is_err());
  CHECK(err.error() == Why::Empty);
}

TEST_CASE("an error can carry a move-only value back") {
  struct Rejected {
    std::unique_ptr<std::string> value;
  };
  weft::Result<void, Rejected> r = weft::Err(Rejected{std::make_unique<std::string>("v")});
  REQUIRE(r.is_err());
  CHECK(*std::move(r).error().value == "v");
  weft::Result<void, Rejected> fine = weft::Ok();
  CHECK(fine.is_ok());
}
}  // namespace
