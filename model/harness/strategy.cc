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
    case Search::exhaustive: return "exhaustive";
    case Search::bounded: return "bounded(" + std::to_string(bound) + ")";
    case Search::random:
      return "random(" + std::to_string(iterations) + ", seed " + std::to_string(seed) + ")";
    case Search::pct:
      return "pct(" + std::to_string(iterations) + ", depth " + std::to_string(depth) + ", seed " +
             std::to_string(seed) + ")";
  }
  return "?";
}

std::string Strategy::spelling() const {
  switch (search) {
    case Search::exhaustive: return "exhaustive";
    case Search::bounded: return "bounded:" + std::to_string(bound);
    case Search::random: return "random:" + std::to_string(iterations) + ":" + std::to_string(seed);
    case Search::pct:
      return "pct:" + std::to_string(iterations) + ":" + std::to_string(depth) + ":" +
             std::to_string(seed);
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
  // The numbers after the kind: random:N[:SEED], pct:N:D[:SEED].
  std::uint64_t numbers[3] = {0, 0, 0};
  std::size_t count = 0;
  while (!rest.empty() && count < 3) {
    const auto next = rest.find(':');
    if (!parse_number(rest.substr(0, next), numbers[count++])) return std::nullopt;
    rest = next == std::string_view::npos ? "" : rest.substr(next + 1);
  }
  if (!rest.empty()) return std::nullopt;
  if (kind == "random" && (count == 1 || count == 2)) return random(numbers[0], numbers[1]);
  if (kind == "pct" && (count == 2 || count == 3) && numbers[1] >= 1) {
    return pct(numbers[0], static_cast<unsigned>(numbers[1]), numbers[2]);
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
