#include "client/backoff.h"

#include <algorithm>

namespace tidegate::client {

using std::chrono::milliseconds;

backoff::backoff(backoff_config config, uint64_t seed) : config_(config), state_(seed) {}

uint64_t backoff::random() {
  // splitmix64: tiny state, good enough spread for jitter.
  uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

milliseconds backoff::jitter(milliseconds limit) {
  if (limit.count() <= 0) {
    return milliseconds{0};
  }
  return milliseconds{static_cast<int64_t>(random() % (static_cast<uint64_t>(limit.count()) + 1))};
}

milliseconds backoff::next(bool foreground) {
  auto base = foreground ? config_.foreground_base : config_.background_base;
  auto cap = foreground ? config_.foreground_cap : config_.background_cap;
  auto delay = std::max(base, milliseconds{1});
  for (uint32_t i = 0; i < attempts_ && delay < cap; ++i) {
    delay *= 2;
  }
  delay = std::min(delay, cap);
  if (attempts_ < 64) {
    ++attempts_;
  }
  auto half = delay / 2;
  return half + jitter(delay - half);
}

void backoff::on_session_end(milliseconds ready_for) {
  if (ready_for >= config_.stable_session) {
    attempts_ = 0;
  }
}

}  // namespace tidegate::client
