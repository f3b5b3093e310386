#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace tidegate::bench {

/// The publishing side of the fan-out harness, driven by run_fanout() from one thread: it
/// calls publish() while the window allows, then pump() until it may publish again. Not
/// thread-safe; the harness' thread owns it for the run.
class fanout_publisher {
 public:
  using time_point = std::chrono::steady_clock::time_point;

  virtual ~fanout_publisher() = default;
  /// Connects and gets ready to publish by `deadline`; "" once ready, else why not.
  virtual std::string start(time_point deadline) = 0;
  /// Publishes message `seq` with `payload`, or queues it for the next pump(): the harness
  /// takes the publish time when it calls this. False if the publisher broke (error()).
  virtual bool publish(uint64_t seq, std::string_view payload) = 0;
  /// Sends what publish() queued and reads the server's answers, waiting at most until `until`;
  /// returns earlier once `wake_fd` (an eventfd the harness signals when the window opens; it
  /// may be ignored at the cost of latency) is readable. False if the publisher broke.
  virtual bool pump(time_point until, int wake_fd) = 0;
  /// True if the server answers every publish; the harness then waits for the answers too.
  virtual bool answers_publishes() const = 0;
  /// Publishes that may be unanswered at once; 0 for no limit.
  virtual uint64_t max_unanswered() const = 0;
  /// Publishes the server accepted, and refused, so far.
  virtual uint64_t accepted() const = 0;
  virtual uint64_t refused() const = 0;
  /// Why the publisher broke, or the first refusal; "" if neither happened.
  virtual std::string error() const = 0;
};

}  // namespace tidegate::bench
