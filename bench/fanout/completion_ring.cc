#include "bench/fanout/completion_ring.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdlib>

namespace tidegate::bench {
namespace {

uint64_t power_of_two_at_least(uint64_t n) {
  uint64_t p = 1;
  while (p < n) {
    p <<= 1;
  }
  return p;
}

}  // namespace

completion_ring::completion_ring(uint64_t capacity, uint32_t parts)
    : mask_(power_of_two_at_least(capacity) - 1),
      parts_(parts),
      slots_(std::make_unique<slot[]>(mask_ + 1)),
      wake_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}

void completion_ring::begin(uint64_t seq, int64_t sent_ns) {
  auto& s = slots_[seq & mask_];
  s.sent_ns.store(sent_ns, std::memory_order_relaxed);
  s.state.store(tag(seq), std::memory_order_release);  // publishes sent_ns with it
}

std::optional<int64_t> completion_ring::part_done(uint64_t seq) {
  auto& s = slots_[seq & mask_];
  auto state = s.state.load(std::memory_order_acquire);
  for (;;) {
    if ((state & ~((uint64_t{1} << tag_shift) - 1)) != tag(seq) || (state & abandoned_bit) != 0) {
      return std::nullopt;  // abandoned, or a late share of a message whose slot was reused
    }
    if (s.state.compare_exchange_weak(state, state + 1, std::memory_order_acq_rel)) {
      break;
    }
  }
  if ((state & (abandoned_bit - 1)) + 1 != parts_) {
    return std::nullopt;
  }
  auto sent = s.sent_ns.load(std::memory_order_relaxed);
  auto done = completed_.fetch_add(1) + 1;
  if (armed_.load() && done >= wake_at_.load() && armed_.exchange(false)) {
    uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wake_.get(), &one, sizeof one);  // fails only if full
  }
  return sent;
}

bool completion_ring::abandon(uint64_t seq) {
  auto& s = slots_[seq & mask_];
  auto state = s.state.load(std::memory_order_acquire);
  for (;;) {
    if ((state & (abandoned_bit - 1)) >= parts_ || (state & abandoned_bit) != 0) {
      return false;
    }
    if (s.state.compare_exchange_weak(state, state | abandoned_bit, std::memory_order_acq_rel)) {
      return true;
    }
  }
}

bool completion_ring::resolved(uint64_t seq) const {
  auto state = slots_[seq & mask_].state.load(std::memory_order_acquire);
  return (state & abandoned_bit) != 0 || (state & (abandoned_bit - 1)) >= parts_;
}

int64_t completion_ring::sent_ns(uint64_t seq) const {
  return slots_[seq & mask_].sent_ns.load(std::memory_order_relaxed);
}

void completion_ring::arm(uint64_t count) {
  wake_at_.store(count);
  armed_.store(true);
}

void completion_ring::clear_wake() {
  uint64_t count = 0;
  [[maybe_unused]] auto n = ::read(wake_.get(), &count, sizeof count);  // EAGAIN when empty
}

part_tally::part_tally(uint64_t capacity, uint32_t members)
    : mask_(power_of_two_at_least(capacity) - 1), members_(members), slots_(mask_ + 1) {}

bool part_tally::add(uint64_t seq) {
  auto& [tag, count] = slots_[seq & mask_];
  if (tag == seq + 1) {
    return ++count == members_;
  }
  if (tag > seq + 1) {
    return false;  // the slot holds a newer message: this one was given up on long ago
  }
  tag = seq + 1;
  count = 1;
  return count == members_;
}

}  // namespace tidegate::bench
