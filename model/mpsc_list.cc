// Model scenarios of the mpsc block list. Ported from tokio/src/sync/tests/loom_list.rs
// (smoke), plus scenarios that cross block boundaries with recycling.
#include "model/harness/scenario.h"
#include "sync/mpsc/list.h"
#include "sync/platform/platform.h"

#include <memory>
#include <optional>
#include <utility>

namespace platform = weft::platform;
namespace mpsc = weft::mpsc::detail;

namespace {

using Message = std::pair<int, int>;  // (sender, sequence number)

// Both halves of a list, freed at the end as the channel does.
struct List {
  mpsc::Block<Message>* initial = new mpsc::Block<Message>(0);
  mpsc::ListTx<Message> tx{initial};
  mpsc::ListRx<Message> rx{initial};
  platform::parker pushed;  // senders unpark after each push; the receiver parks on Empty
  void push(Message m) {
    tx.push(m);
    pushed.unpark();
  }
  ~List() {
    std::optional<Message> value;
    while (rx.pop(tx, value) == mpsc::ReadStatus::Value) value.reset();
    rx.free_blocks();
  }
};

// Pops until every sender's messages arrived, each sender's in order.
template <int Senders, int Messages>
void receive_all(List& list) {
  int next[Senders] = {};
  int received = 0;
  std::optional<Message> value;
  while (received < Senders * Messages) {
    switch (list.rx.pop(list.tx, value)) {
      case mpsc::ReadStatus::Value: {
        auto [sender, sequence] = *value;
        WEFT_INVARIANT(sequence == next[sender]);
        ++next[sender];
        ++received;
        value.reset();
        break;
      }
      case mpsc::ReadStatus::Closed: WEFT_INVARIANT(false); break;
      case mpsc::ReadStatus::Empty: list.pushed.park(); break;
    }
  }
}

}  // namespace

// Two senders push two messages each (BLOCK_CAP is 2 here: the list grows twice).
void smoke_body() {
  constexpr int senders = 2;
  constexpr int messages = 2;
  auto list = std::make_shared<List>();
  platform::thread threads[senders];
  for (int s = 0; s < senders; ++s) {
    threads[s] = platform::thread([list, s] {
      for (int i = 0; i < messages; ++i) list->push(Message{s, i});
    });
  }
  receive_all<senders, messages>(*list);
  for (auto& t : threads) t.join();
}

// Every interleaving with one preemption (two take minutes: three threads, ~40 atomic
// steps), then PCT samples (any number of preemptions).
WEFT_MODEL_TEST(smoke, weft::model::bounded(1).on_dpor(weft::model::bounded(2)), 2) {
  smoke_body();
}
WEFT_MODEL_TEST(smoke_random, weft::model::pct(100000, 3), 2) { smoke_body(); }

// One sender pushes three blocks' worth while the receiver pops: blocks are released,
// recycled to the tail and written again; every message arrives once, in order.
WEFT_MODEL_TEST(recycle_blocks, weft::model::bounded(1).on_dpor(weft::model::bounded(2)), 1) {
  constexpr int messages = 3 * static_cast<int>(mpsc::BLOCK_CAP);
  auto list = std::make_shared<List>();
  platform::thread sender([list] {
    for (int i = 0; i < messages; ++i) list->push(Message{0, i});
  });
  receive_all<1, messages>(*list);
  sender.join();
}

// close() after values: the receiver reads every value, then Closed; try_pop agrees.
WEFT_MODEL_TEST(close_after_values, weft::model::bounded(2), 1) {
  auto list = std::make_shared<List>();
  platform::thread sender([list] {
    for (int i = 0; i < 2; ++i) list->push(Message{0, i});
    list->tx.close();
    list->pushed.unpark();
  });
  int received = 0;
  std::optional<Message> value;
  for (;;) {
    const mpsc::TryPop status = list->rx.try_pop(list->tx, value);
    if (status == mpsc::TryPop::Closed) break;
    if (status == mpsc::TryPop::Value) {
      WEFT_INVARIANT(value->second == received);
      ++received;
      value.reset();
      continue;
    }
    WEFT_INVARIANT(list->rx.len(list->tx) <= 2 - static_cast<std::size_t>(received));
    list->pushed.park();
  }
  WEFT_INVARIANT(received == 2);
  WEFT_INVARIANT(list->rx.len(list->tx) == 0);
  sender.join();
}
