#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "bench/fanout/fanout_socket.h"

namespace tidegate::bench {

/// Which fan-out messages have reached every subscriber. The publisher thread begins each
/// message; each subscriber thread reports its share of a message done (all its subscribers
/// got it, see part_tally) and the last share completes the message. A message is resolved
/// once complete or abandoned by the publisher; its slot is then free for the message
/// `capacity()` later. The publisher may wait for completions on wake_fd(). Lock-free.
class completion_ring {
 public:
  /// `capacity` is rounded up to a power of two; `parts` is the number of subscriber threads.
  completion_ring(uint64_t capacity, uint32_t parts);
  uint64_t capacity() const { return mask_ + 1; }

  /// Publisher: message `seq` was published at `sent_ns` (steady clock). Message
  /// `seq - capacity()` must be resolved.
  void begin(uint64_t seq, int64_t sent_ns);
  /// Subscriber thread: its share of `seq` is done. Returns the publish time if that completed
  /// the message, else nullopt (more shares to come, or abandoned).
  std::optional<int64_t> part_done(uint64_t seq);
  /// Publisher: gives up on `seq`, which then never completes; false if it had completed.
  bool abandon(uint64_t seq);
  /// Publisher: true once `seq` completed or was abandoned.
  bool resolved(uint64_t seq) const;
  /// Publisher: when `seq` was published.
  int64_t sent_ns(uint64_t seq) const;
  /// Messages completed so far.
  uint64_t completed() const { return completed_.load(); }

  /// Publisher: signal wake_fd() once completed() reaches `count`. Then it re-checks
  /// completed() before it waits, and calls disarm() after.
  void arm(uint64_t count);
  void disarm() { armed_.store(false); }
  /// An eventfd, readable after a wake-up; the publisher empties it with clear_wake().
  int wake_fd() const { return wake_.get(); }
  void clear_wake();

 private:
  // A slot's state: (seq + 1) << 24 | abandoned << 23 | shares done.
  static constexpr int tag_shift = 24;
  static constexpr uint64_t abandoned_bit = uint64_t{1} << 23;
  struct slot {
    std::atomic<uint64_t> state{0};
    std::atomic<int64_t> sent_ns{0};
  };
  static uint64_t tag(uint64_t seq) { return (seq + 1) << tag_shift; }

  uint64_t mask_;
  uint32_t parts_;
  std::unique_ptr<slot[]> slots_;
  std::atomic<uint64_t> completed_{0};
  std::atomic<bool> armed_{false};
  std::atomic<uint64_t> wake_at_{0};
  unique_fd wake_;
};

/// One subscriber thread's count of each message among its own `members` subscribers: add()
/// is true once all of them received it. Not thread-safe; the subscriber thread owns it.
class part_tally {
 public:
  part_tally(uint64_t capacity, uint32_t members);
  /// One of the members received `seq`; true when that makes all of them (once per message).
  /// Deliveries of a message older than its slot's current one are ignored.
  bool add(uint64_t seq);

 private:
  uint64_t mask_;
  uint32_t members_;
  std::vector<std::pair<uint64_t, uint32_t>> slots_;  // (seq + 1, deliveries)
};

}  // namespace tidegate::bench
