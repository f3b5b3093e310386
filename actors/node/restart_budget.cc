#include "actors/node/restart_budget.h"

#include <algorithm>

namespace tidegate::actors {

bool restart_budget::try_restart(uint64_t now_ms) {
  auto expired = std::find_if(recent_.begin(), recent_.end(), [&](uint64_t t) {
    return now_ms < period_ms_ || t > now_ms - period_ms_;
  });
  recent_.erase(recent_.begin(), expired);
  if (recent_.size() >= intensity_) {
    return false;
  }
  recent_.push_back(now_ms);
  return true;
}

}  // namespace tidegate::actors
