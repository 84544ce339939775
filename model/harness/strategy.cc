#include "model/harness/strategy.h"

#include <charconv>

namespace weft::model {
namespace {

bool parse_number(std::string_view text, std::uint64_t& out) {
  if (text.empty()) return false;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out);
  return error == std::errc() && end == text.data() + text.size();
}

}  // namespace

std::string Strategy::describe() const {
  switch (search) {
    case Search::exhaustive:
      return "exhaustive";
    case Search::bounded:
      return "bounded(" + std::to_string(bound) + ")";
    case Search::random:
      return "random(" + std::to_string(iterations) + ", seed " + std::to_string(seed) + ")";
  }
  return "?";
}

std::string Strategy::spelling() const {
  switch (search) {
    case Search::exhaustive:
      return "exhaustive";
    case Search::bounded:
      return "bounded:" + std::to_string(bound);
    case Search::random:
      return "random:" + std::to_string(iterations) + ":" + std::to_string(seed);
  }
  return "?";
}

std::optional<Strategy> Strategy::parse(std::string_view text) {
  if (text == "exhaustive") return exhaustive();
  const auto colon = text.find(':');
  const std::string_view kind = text.substr(0, colon);
  std::string_view rest = colon == std::string_view::npos ? "" : text.substr(colon + 1);
  std::uint64_t n = 0;
  if (kind == "bounded") {
    if (rest.empty()) return bounded(2);
    if (!parse_number(rest, n)) return std::nullopt;
    return bounded(static_cast<unsigned>(n));
  }
  if (kind == "random") {
    const auto second = rest.find(':');
    std::uint64_t seed = 0;
    if (!parse_number(rest.substr(0, second), n)) return std::nullopt;
    if (second != std::string_view::npos && !parse_number(rest.substr(second + 1), seed)) {
      return std::nullopt;
    }
    return random(n, seed);
  }
  return std::nullopt;
}

const char* describe(Failure failure) {
  switch (failure) {
    case Failure::none: return "none";
    case Failure::data_race: return "data race";
    case Failure::assertion: return "assertion";
    case Failure::deadlock: return "deadlock";
    case Failure::livelock: return "livelock";
    case Failure::leak: return "leak";
    case Failure::use_after_free: return "use after free";
    case Failure::other: return "other";
  }
  return "?";
}

}  // namespace weft::model
