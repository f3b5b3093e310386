#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "protocol/dispatch_answer.h"

namespace tidegate::client {

/// Where and how to ask dispatch (docs/protocol.md, "Dispatch").
struct dispatch_config {
  /// "host:port" of dispatch endpoints (any member's HTTP listener), tried in order.
  std::vector<std::string> endpoints;
  std::string app_id;
  /// The logged-in user's id, or the device id with `by_device`.
  std::string owner;
  bool by_device = false;
  /// The app's dispatch key: answers not signed with it are refused.
  std::string key;
  /// Connect and read timeout of one request.
  std::chrono::milliseconds timeout{2000};
  /// An expired answer is still used this long while a refresh runs (stale-while-revalidate).
  std::chrono::seconds stale_for{std::chrono::hours{24}};
  /// Unix seconds now; the system clock when empty (tests set it).
  std::function<uint64_t()> clock;
};

struct dispatch_counters {
  uint64_t requests = 0;  ///< HTTP requests sent.
  uint64_t answers = 0;   ///< Verified answers kept.
  uint64_t failures = 0;  ///< Requests without an answer (no reply, HTTP error, bad body).
  uint64_t refused = 0;   ///< Answers that parsed but failed the signature or expiry check.
};

/// The client side of dispatch: asks an endpoint where this app's user should connect, keeps
/// the verified answer for its TTL, and hands connect rounds its addresses (the connection
/// races them before its static list). Thread-safe: refreshes run on a thread of its own
/// while a connection on an event loop reads addresses(). Outlives the connections using it.
class dispatch_cache {
 public:
  explicit dispatch_cache(dispatch_config config);
  /// Waits for a refresh that is running (at most `timeout` per endpoint).
  ~dispatch_cache();
  dispatch_cache(const dispatch_cache&) = delete;
  dispatch_cache& operator=(const dispatch_cache&) = delete;

  /// Asks the endpoints in order, on the caller's thread, until one gives an answer that
  /// passes check_dispatch; keeps it. Returns empty on success, else why every endpoint
  /// failed.
  std::string refresh();
  /// Runs refresh() on the cache's thread unless one is already running.
  void refresh_async();
  bool refreshing() const;

  /// The addresses for a connect round: a fresh answer's; an expired one's while within
  /// stale_for, starting a refresh; none (empty) without a usable answer, starting a refresh.
  std::vector<std::string> addresses();
  /// The answer may be wrong (GOAWAY, a round where nothing answered, a network change): the
  /// next addresses() still returns it but starts a refresh.
  void invalidate();

  std::optional<protocol::dispatch_answer> answer() const;
  dispatch_counters counters() const;
  std::string last_error() const;

 private:
  uint64_t now_s() const;
  /// One request to `endpoint`: the verified answer, or nullopt with `error` set.
  std::optional<protocol::dispatch_answer> ask(const std::string& endpoint, std::string& error);

  const dispatch_config config_;
  mutable std::mutex mutex_;
  std::optional<protocol::dispatch_answer> answer_;
  bool suspect_ = false;
  bool refreshing_ = false;
  dispatch_counters counters_;
  std::string last_error_;
  std::thread refresher_;
};

}  // namespace tidegate::client
