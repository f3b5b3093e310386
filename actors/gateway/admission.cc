#include "actors/gateway/admission.h"

#include <sys/resource.h>

#include <algorithm>

namespace tidegate::actors {

admission::admission(size_t max_connections, uint32_t rate, uint32_t burst)
    : max_connections_(max_connections),
      rate_per_us_(rate / 1e6),
      burst_(burst != 0 ? burst : rate),
      tokens_(burst_) {}

bool admission::admit(size_t open, uint64_t now_us, reject_reason& why) {
  if (open >= max_connections_) {
    why = reject_reason::max_connections;
    return false;
  }
  if (rate_per_us_ <= 0) {
    return true;
  }
  if (now_us > last_us_) {
    tokens_ = std::min(burst_, tokens_ + static_cast<double>(now_us - last_us_) * rate_per_us_);
    last_us_ = now_us;
  }
  if (tokens_ < 1.0) {
    why = reject_reason::accept_rate;
    return false;
  }
  tokens_ -= 1.0;
  return true;
}

size_t connection_cap(size_t configured, size_t fd_limit, size_t headroom) {
  size_t usable = fd_limit > headroom ? fd_limit - headroom : 0;
  return configured == 0 ? usable : std::min(configured, usable);
}

size_t raise_fd_limit() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0) {
    return 1024;
  }
  if (lim.rlim_cur < lim.rlim_max) {
    rlimit raised = lim;
    raised.rlim_cur = lim.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) {
      lim = raised;
    }
  }
  return static_cast<size_t>(lim.rlim_cur);
}

}  // namespace tidegate::actors
