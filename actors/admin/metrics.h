#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>

#include "actors/admin/process_stats.h"
#include "protocol/protocol_errc.h"

namespace tidegate::actors {

/// Why the acceptor refused a connection (label `reason` of tidegate_rejects_total).
enum class reject_reason : uint8_t { max_connections, accept_rate, draining, count_ };

/// Why a connection ended (label `reason` of tidegate_closes_total).
enum class close_reason : uint8_t {
  peer_closed,
  protocol_error,
  auth_failed,
  idle_timeout,
  handshake_timeout,
  dead_connection,
  slow_reader,
  replaced,
  drained,
  redirected,
  crashed,
  count_
};

const char* to_string(reject_reason r);
const char* to_string(close_reason r);

/// The node's counters and gauges. Lock-free: any actor or thread updates them with relaxed
/// atomics; the HTTP thread renders them. One instance per node, shared by reference and
/// outliving every actor that holds it.
struct gateway_metrics {
  using counter = std::atomic<uint64_t>;
  using gauge = std::atomic<int64_t>;
  gauge connections{0};    ///< Open client connections.
  gauge authenticated{0};  ///< Connections past AUTH.
  counter accepts{0};      ///< Connections accepted.
  counter handshakes{0};   ///< HELLO+AUTH completed.
  counter frames_in{0};
  counter frames_out{0};
  counter bytes_in{0};
  counter bytes_out{0};
  counter session_restarts{0};  ///< Supervised children restarted.
  std::array<counter, static_cast<size_t>(reject_reason::count_)> rejects{};
  std::array<counter, static_cast<size_t>(close_reason::count_)> closes{};
  /// Indexed by protocol_errc; counts errors sent to clients by code.
  std::array<counter, 16> protocol_errors{};

  void reject(reject_reason r) { rejects[static_cast<size_t>(r)].fetch_add(1, relaxed); }
  void close(close_reason r) { closes[static_cast<size_t>(r)].fetch_add(1, relaxed); }
  void protocol_error(protocol::protocol_errc c) {
    protocol_errors[static_cast<size_t>(c) % protocol_errors.size()].fetch_add(1, relaxed);
  }
  static constexpr auto relaxed = std::memory_order_relaxed;
};

/// Prometheus text exposition format (version 0.0.4) of `m`, with `node` as a label.
/// Also reads this process's resident memory and descriptors (read_process_stats).
std::string render_prometheus(const gateway_metrics& m, const std::string& node);

/// The same with the process gauges given: deterministic, for tests.
std::string render_prometheus(const gateway_metrics& m, const std::string& node,
                              const process_stats& process);

}  // namespace tidegate::actors
