// weft/sync/detail/linked_list.h: an intrusive doubly linked list whose nodes live inside
// other objects (the waiter inside a future), so queuing a waiter never allocates.
//
// Follows tokio/src/util/linked_list.rs.
//
// Concurrency: none of its own. A list and the links of every node in it are protected
// by the owner's lock; each link is a platform::cell, so the model build reports any
// access made without that lock as a data race. A node must be removed before the object
// holding it is destroyed (a future's destructor unlinks it under the lock).
//
//   struct Waiter { ListLinks<Waiter> links; ... };
//   LinkedList<Waiter, &Waiter::links> queue;
//   queue.push_front(&w);             // newest at the front
//   Waiter* oldest = queue.pop_back(); // FIFO from the back
//   queue.remove(&w);                 // false if w is not linked in this list
#pragma once

#include "sync/platform/cell.h"
#include "sync/platform/invariant.h"

namespace weft::detail {

template <class T>
struct ListLinks {
  platform::cell<T*> prev{nullptr};
  platform::cell<T*> next{nullptr};
};

template <class T, ListLinks<T> T::*Links>
class LinkedList {
 public:
  LinkedList() = default;
  LinkedList(const LinkedList&) = delete;
  LinkedList& operator=(const LinkedList&) = delete;

  bool is_empty() const { return head() == nullptr; }
  T* front() const { return head(); }
  T* back() const { return tail(); }

  void push_front(T* node) {
    WEFT_INVARIANT(node != head());
    set(prev_of(node), nullptr);
    set(next_of(node), head());
    if (T* old = head()) set(prev_of(old), node);
    set(head_, node);
    if (tail() == nullptr) set(tail_, node);
  }

  void push_back(T* node) {
    WEFT_INVARIANT(node != tail());
    set(next_of(node), nullptr);
    set(prev_of(node), tail());
    if (T* old = tail()) set(next_of(old), node);
    set(tail_, node);
    if (head() == nullptr) set(head_, node);
  }

  T* pop_back() {
    T* node = tail();
    if (node == nullptr) return nullptr;
    T* before = get(prev_of(node));
    set(tail_, before);
    if (before != nullptr) {
      set(next_of(before), nullptr);
    } else {
      set(head_, nullptr);
    }
    set(prev_of(node), nullptr);
    set(next_of(node), nullptr);
    return node;
  }

  T* pop_front() {
    T* node = head();
    if (node == nullptr) return nullptr;
    T* after = get(next_of(node));
    set(head_, after);
    if (after != nullptr) {
      set(prev_of(after), nullptr);
    } else {
      set(tail_, nullptr);
    }
    set(prev_of(node), nullptr);
    set(next_of(node), nullptr);
    return node;
  }

  // Unlinks `node` if it is in this list, or in a Guarded list made from it; returns
  // whether it was.
  bool remove(T* node) {
    T* before = get(prev_of(node));
    T* after = get(next_of(node));
    if (before != nullptr) {
      set(next_of(before), after);
    } else {
      if (head() != node) return false;  // not linked here
      set(head_, after);
    }
    if (after != nullptr) {
      set(prev_of(after), before);
    } else {
      WEFT_INVARIANT(tail() == node);
      set(tail_, before);
    }
    set(prev_of(node), nullptr);
    set(next_of(node), nullptr);
    return true;
  }

  // Visits nodes from front (newest) to back (oldest); fn must not unlink them.
  template <class Fn>
  void for_each(Fn&& fn) const {
    for (T* node = head(); node != nullptr; node = get(next_of(node))) fn(node);
  }

  // The node after `node` towards the back, for callers that walk and unlink.
  static T* next(T* node) { return get(next_of(node)); }
  static T* prev(T* node) { return get(prev_of(node)); }

  // A circular list anchored at a guard node its owner keeps (Tokio's GuardedLinkedList),
  // made by into_guarded(). Every node in it has both neighbours set, so remove() on the
  // list the nodes came from still unlinks them: a waiter cancels itself without knowing
  // which of the two lists holds it. Protected by the same lock as the original list.
  class Guarded {
   public:
    bool is_empty() const { return get(prev_of(guard_)) == guard_; }
    // The oldest node (the original list's back), or nullptr when empty.
    T* pop_back() {
      T* node = get(prev_of(guard_));
      if (node == guard_) return nullptr;
      T* before = get(prev_of(node));
      set(prev_of(guard_), before);
      set(next_of(before), guard_);
      set(prev_of(node), nullptr);
      set(next_of(node), nullptr);
      return node;
    }

   private:
    friend class LinkedList;
    explicit Guarded(T* guard) : guard_(guard) {}
    T* guard_;
  };

  // Moves every node into a Guarded list anchored at `guard` (which must outlive it and
  // stay unlinked from everything else), leaving this list empty. O(1).
  Guarded into_guarded(T* guard) {
    T* first = head();
    if (first == nullptr) {
      set(prev_of(guard), guard);
      set(next_of(guard), guard);
    } else {
      T* last = tail();
      set(prev_of(first), guard);
      set(next_of(guard), first);
      set(next_of(last), guard);
      set(prev_of(guard), last);
      set(head_, nullptr);
      set(tail_, nullptr);
    }
    return Guarded(guard);
  }

 private:
  static platform::cell<T*>& prev_of(T* node) { return (node->*Links).prev; }
  static platform::cell<T*>& next_of(T* node) { return (node->*Links).next; }
  static T* get(const platform::cell<T*>& c) {
    return c.with([](T* const& p) { return p; });
  }
  static void set(platform::cell<T*>& c, T* value) {
    c.with_mut([value](T*& p) { p = value; });
  }
  T* head() const { return get(head_); }
  T* tail() const { return get(tail_); }

  platform::cell<T*> head_{nullptr};
  platform::cell<T*> tail_{nullptr};
};

}  // namespace weft::detail
