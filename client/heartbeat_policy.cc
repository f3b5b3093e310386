#include "client/heartbeat_policy.h"

#include <algorithm>

namespace tidegate::client {

heartbeat_config heartbeat_config::fixed(milliseconds interval) {
  heartbeat_config config;
  config.foreground_interval = interval;
  config.initial_interval = interval;
  config.min_interval = interval;
  config.max_interval = interval;
  return config;
}

heartbeat_policy::heartbeat_policy(heartbeat_config config) : config_(config) {
  config_.min_interval = std::max(config_.min_interval, milliseconds{1});
  config_.max_interval = std::max(config_.max_interval, config_.min_interval);
  config_.step = std::max(config_.step, milliseconds{1});
  reset();
}

void heartbeat_policy::reset() {
  current_ = std::clamp(config_.initial_interval, config_.min_interval, config_.max_interval);
  last_good_ = milliseconds{0};
  ceiling_ = config_.max_interval + config_.step;
  successes_ = 0;
}

milliseconds heartbeat_policy::interval() const {
  return foreground_ ? std::min(config_.foreground_interval, current_) : current_;
}

void heartbeat_policy::on_success() {
  if (foreground_) {
    return;  // a short foreground interval says nothing about the NAT's timeout
  }
  last_good_ = std::max(last_good_, current_);
  if (++successes_ < config_.pongs_to_grow) {
    return;
  }
  successes_ = 0;
  auto next = std::min(current_ + config_.step, config_.max_interval);
  if (next < ceiling_) {
    current_ = next;
  }
}

void heartbeat_policy::on_failure() {
  successes_ = 0;
  if (foreground_) {
    return;  // at the minimum interval a failure is the network, not the interval
  }
  if (current_ > last_good_ && last_good_ > milliseconds{0}) {
    ceiling_ = std::min(ceiling_, current_);  // this probe failed: settle below it
    current_ = last_good_;
    return;
  }
  // The interval that worked before (or the first one) failed too: shrink.
  ceiling_ = std::min(ceiling_, current_);
  current_ = std::max(current_ - config_.step, config_.min_interval);
  last_good_ = std::min(last_good_, current_);
}

void heartbeat_policy::cap(milliseconds limit) {
  limit = std::max(limit, config_.min_interval);
  ceiling_ = std::min(ceiling_, limit + milliseconds{1});
  current_ = std::min(current_, limit);
  last_good_ = std::min(last_good_, current_);
}

}  // namespace tidegate::client
