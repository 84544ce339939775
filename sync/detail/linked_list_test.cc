#include "sync/detail/linked_list.h"

#include <doctest/doctest.h>

#include <vector>

namespace {

struct Node {
  int value;
  weft::detail::ListLinks<Node> links;
  explicit Node(int v) : value(v) {}
};
using List = weft::detail::LinkedList<Node, &Node::links>;

std::vector<int> values(const List& list) {
  std::vector<int> out;
  list.for_each([&](Node* n) { out.push_back(n->value); });
  return out;
}

TEST_CASE("push_front and pop_back make a FIFO queue") {
  Node a(1), b(2), c(3);
  List list;
  CHECK(list.is_empty());
  list.push_front(&a);
  list.push_front(&b);
  list.push_front(&c);
  CHECK(values(list) == std::vector<int>{3, 2, 1});
  CHECK(list.pop_back() == &a);
  CHECK(list.pop_back() == &b);
  CHECK(list.pop_back() == &c);
  CHECK(list.pop_back() == nullptr);
  CHECK(list.is_empty());
}

TEST_CASE("push_back and pop_front") {
  Node a(1), b(2);
  List list;
  list.push_back(&a);
  list.push_back(&b);
  CHECK(list.front() == &a);
  CHECK(list.back() == &b);
  CHECK(list.pop_front() == &a);
  CHECK(list.pop_front() == &b);
  CHECK(list.pop_front() == nullptr);
}

TEST_CASE("remove unlinks from anywhere and refuses strangers") {
  Node a(1), b(2), c(3), stranger(4);
  List list;
  list.push_front(&a);
  list.push_front(&b);
  list.push_front(&c);
  CHECK_FALSE(list.remove(&stranger));
  CHECK(list.remove(&b));
  CHECK(values(list) == std::vector<int>{3, 1});
  CHECK_FALSE(list.remove(&b));
  CHECK(list.remove(&c));
  CHECK(list.remove(&a));
  CHECK(list.is_empty());
  CHECK(list.back() == nullptr);
}
}  // namespace
