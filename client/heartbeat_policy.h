#pragma once

#include <chrono>
#include <cstdint>

namespace tidegate::client {

using std::chrono::milliseconds;

/// Bounds of the adaptive heartbeat. Defaults suit mobile NATs (3.5 to 10 minutes in the
/// background); a fixed interval is min_interval == max_interval == foreground_interval.
struct heartbeat_config {
  milliseconds foreground_interval{std::chrono::seconds{45}};  ///< Used while in foreground.
  milliseconds initial_interval{std::chrono::seconds{210}};    ///< First background interval.
  milliseconds min_interval{std::chrono::seconds{60}};         ///< Never shrinks below this.
  milliseconds max_interval{std::chrono::minutes{10}};         ///< Never grows above this.
  milliseconds step{std::chrono::seconds{30}};                 ///< Grow and shrink step.
  uint32_t pongs_to_grow = 3;  ///< Consecutive background pongs at one interval before growing.

  /// A config that always pings every `interval`.
  static heartbeat_config fixed(milliseconds interval);
};

/// The adaptive heartbeat interval of one connection: grows by `step` after `pongs_to_grow`
/// consecutive successes in the background, falls back to the last interval that worked after
/// a failure (and never probes the failed one again until reset), shrinks by `step` when even
/// that fails, and uses `foreground_interval` while the app is in the foreground. Plain values
/// in and out, no clock. Not thread-safe; one connection owns it.
class heartbeat_policy {
 public:
  explicit heartbeat_policy(heartbeat_config config = {});

  /// The interval to ping at now.
  milliseconds interval() const;
  bool foreground() const { return foreground_; }
  void set_foreground(bool foreground) { foreground_ = foreground; }

  /// A pong arrived in time for a ping sent at interval().
  void on_success();
  /// A pong timed out, or the connection dropped while idle between pings.
  void on_failure();
  /// Caps the background interval, e.g. at what the server accepted.
  void cap(milliseconds limit);
  /// Forgets what was learned (e.g. the network changed), keeping the app state.
  void reset();

  /// The largest background interval known to work (0 before the first success).
  milliseconds last_good() const { return last_good_; }
  /// The smallest background interval known to fail (max_interval + step when none).
  milliseconds ceiling() const { return ceiling_; }
  milliseconds background_interval() const { return current_; }

 private:
  heartbeat_config config_;
  bool foreground_ = false;
  milliseconds current_;
  milliseconds last_good_{0};
  milliseconds ceiling_;
  uint32_t successes_ = 0;
};

}  // namespace tidegate::client
