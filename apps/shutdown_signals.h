#pragma once

#include <signal.h>

namespace tidegate::apps {

/// Blocks SIGTERM and SIGINT in the calling thread and returns the set. Call before any other
/// thread starts: threads inherit the mask, so only the caller's sigwait() sees the signals.
inline sigset_t block_shutdown_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

}  // namespace tidegate::apps
