#pragma once

#include <cstdint>
#include <vector>

namespace tidegate::actors {

/// Erlang's restart intensity: at most `intensity` restarts within any `period_ms`; the one
/// over that means the fault is not transient and the supervisor gives up. Plain C++ (time is
/// an argument); not thread-safe, one supervisor owns it.
class restart_budget {
 public:
  restart_budget(uint32_t intensity, uint64_t period_ms)
      : intensity_(intensity), period_ms_(period_ms) {}

  /// Records a restart at `now_ms` if the budget allows it; false if it is exhausted.
  bool try_restart(uint64_t now_ms);

 private:
  uint32_t intensity_;
  uint64_t period_ms_;
  std::vector<uint64_t> recent_;  // restart times within the period, oldest first
};

}  // namespace tidegate::actors
