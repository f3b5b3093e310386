#pragma once

#include <chrono>
#include <cstdint>

namespace tidegate::client {

/// Reconnect delays: `base * 2^attempt`, capped, with "equal jitter" (half fixed, half random)
/// so a node restart does not bring every client back in the same millisecond.
struct backoff_config {
  std::chrono::milliseconds foreground_base{500};
  std::chrono::milliseconds foreground_cap{std::chrono::seconds{30}};
  std::chrono::milliseconds background_base{std::chrono::seconds{5}};
  std::chrono::milliseconds background_cap{std::chrono::minutes{10}};
  /// A session that stayed ready this long resets the attempt count.
  std::chrono::milliseconds stable_session{std::chrono::seconds{60}};
};

/// Jittered exponential reconnect backoff. Eight bytes of RNG state (splitmix64), so 15k
/// connections can each have one; a fixed seed makes the delays reproducible. Not
/// thread-safe; one connection owns it.
class backoff {
 public:
  explicit backoff(backoff_config config = {}, uint64_t seed = 1);

  /// The delay before the next attempt; counts the attempt.
  std::chrono::milliseconds next(bool foreground);
  /// A session ended after `ready_for` in the ready state; resets if that was stable.
  void on_session_end(std::chrono::milliseconds ready_for);
  void reset() { attempts_ = 0; }
  uint32_t attempts() const { return attempts_; }

  /// A uniform random duration in [0, limit] from the same generator (GOAWAY jitter).
  std::chrono::milliseconds jitter(std::chrono::milliseconds limit);
  const backoff_config& config() const { return config_; }

 private:
  uint64_t random();

  backoff_config config_;
  uint64_t state_;
  uint32_t attempts_ = 0;
};

}  // namespace tidegate::client
