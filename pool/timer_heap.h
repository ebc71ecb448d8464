// A min-heap of (time, lease id) that can also remove any member in
// O(log n): the lease table keeps one for lease deadlines and one for leak
// warnings, so that a reaper pass looks only at what is due
// (docs/architecture.md, "Threads") instead of walking every lease.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "pool/clock.h"

namespace litepool {

// Each member's owner provides a slot (a size_t that lives as long as the
// membership) in which the heap keeps the member's position, so Erase needs
// no search and Push/Erase allocate nothing once the vector has grown.
// Not thread-safe: the lease table uses it under its own mutex.
class TimerHeap {
 public:
  static constexpr size_t kNotIn = SIZE_MAX;

  bool empty() const { return nodes_.empty(); }
  size_t size() const { return nodes_.size(); }
  // The earliest time, or TimePoint::max() when empty.
  TimePoint top_time() const { return nodes_.empty() ? TimePoint::max() : nodes_[0].at; }
  uint64_t top_id() const { return nodes_[0].id; }

  // *slot must be kNotIn (not a member yet).
  void Push(TimePoint at, uint64_t id, size_t* slot) {
    nodes_.push_back(Node{at, id, slot});
    *slot = nodes_.size() - 1;
    SiftUp(nodes_.size() - 1);
  }

  void Pop() { Erase(nodes_[0].slot); }

  // Removes the member whose position is in *slot; nothing if kNotIn.
  void Erase(size_t* slot) {
    size_t i = *slot;
    if (i == kNotIn) return;
    *slot = kNotIn;
    size_t last = nodes_.size() - 1;
    if (i != last) {
      Place(i, nodes_[last]);
      nodes_.pop_back();
      // The moved node may belong above or below its new position.
      if (i > 0 && nodes_[i].at < nodes_[(i - 1) / 2].at) {
        SiftUp(i);
      } else {
        SiftDown(i);
      }
    } else {
      nodes_.pop_back();
    }
  }

 private:
  struct Node {
    TimePoint at;
    uint64_t id;
    size_t* slot;
  };

  void Place(size_t i, const Node& n) {
    nodes_[i] = n;
    *n.slot = i;
  }
  void SiftUp(size_t i) {
    Node n = nodes_[i];
    while (i > 0) {
      size_t parent = (i - 1) / 2;
      if (!(n.at < nodes_[parent].at)) break;
      Place(i, nodes_[parent]);
      i = parent;
    }
    Place(i, n);
  }
  void SiftDown(size_t i) {
    Node n = nodes_[i];
    size_t size = nodes_.size();
    for (;;) {
      size_t child = 2 * i + 1;
      if (child >= size) break;
      if (child + 1 < size && nodes_[child + 1].at < nodes_[child].at) ++child;
      if (!(nodes_[child].at < n.at)) break;
      Place(i, nodes_[child]);
      i = child;
    }
    Place(i, n);
  }

  std::vector<Node> nodes_;
};

}  // namespace litepool
