#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "bench/peers/loopback_socket.h"

namespace tidegate::bench {

/// What the publishers send: the shape of `tidegate bench sync --scenario ingest`.
struct publish_shape {
  uint32_t payload_bytes = 100;
  uint32_t owners = 1000;  ///< Ops spread over this many subjects or stream keys (--clients).
};

/// The owner of publish `seq` of publisher `index`: the same spread as the ingest scenario's.
inline uint32_t owner_of(uint32_t index, uint64_t seq, uint32_t owners) {
  return static_cast<uint32_t>((uint64_t{index} * 7919 + seq) % owners);
}

/// One connection's counts in run_pipeline().
struct pipeline_tally {
  uint64_t sent = 0;
  uint64_t acked = 0;
  uint64_t failed = 0;      ///< Answered with an error.
  uint64_t unanswered = 0;  ///< Not answered when the drain ended or the connection broke.
  std::string first_error;
};

/// One peer's framing for run_pipeline(): writes publishes, reads their replies. Not
/// thread-safe; one connection owns it.
class pipeline_codec {
 public:
  virtual ~pipeline_codec() = default;
  /// Appends publish number `seq` of this connection to `out`.
  virtual void append_publish(std::string& out, uint64_t seq) = 0;
  /// Takes bytes the server sent: counts every complete reply in `tally` as acked or failed and
  /// appends to `out` what the protocol owes (a NATS PONG). False if the stream broke
  /// (`tally.first_error` says why).
  virtual bool consume(std::string_view bytes, pipeline_tally& tally, std::string& out) = 0;
};

/// When run_pipeline() stops.
struct pipeline_limits {
  uint32_t window = 100;                        ///< Publishes outstanding at most.
  std::chrono::steady_clock::time_point end;    ///< No publish is sent from then on.
  std::chrono::steady_clock::time_point drain;  ///< Replies are awaited until then.
  uint64_t max_ops = 100'000'000;               ///< Publishes sent at most.
};

/// Keeps up to `window` publishes outstanding on `sock` until `end`, then waits for the rest
/// until `drain`. Returns once all were answered, the connection broke, or `drain` passed.
void run_pipeline(loopback_socket& sock, pipeline_codec& codec, const pipeline_limits& limits,
                  pipeline_tally& tally);

}  // namespace tidegate::bench
