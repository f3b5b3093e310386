#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "bench/fanout/fanout_codec.h"
#include "bench/fanout/fanout_publisher.h"

namespace tidegate::bench {

/// Subscribers one process can hold: the open-files limit is 20,000 per process here.
constexpr uint32_t max_fanout_subscribers = 19'000;

/// The shape of one fan-out run.
struct fanout_options {
  uint32_t subscribers = 1000;    ///< S connections on one topic, at most max_fanout_subscribers.
  uint32_t threads = 2;           ///< Subscriber threads, each an epoll loop over its share.
  uint32_t window = 1000;         ///< Messages published but not yet delivered to all S, at most.
  uint32_t payload_bytes = 100;   ///< At least 16 (the sequence number's hex digits).
  double warmup_s = 1;            ///< Published but not measured.
  double duration_s = 10;         ///< Measured, after the warmup.
  double setup_timeout_s = 60;    ///< For connecting and subscribing all S, and the publisher.
  double drain_timeout_s = 30;    ///< After publishing stopped, for the last deliveries.
  double message_timeout_s = 30;  ///< A message not delivered to all S by then is given up.
  uint32_t connect_batch = 64;    ///< Handshakes in progress per subscriber thread at most.
  uint64_t max_messages = 1'000'000'000;  ///< Publishing stops after this many anyway.
  /// Messages per second at most (paced from the start of publishing); 0 = as fast as the
  /// window allows. Paced, the latency is that of the rate, not of a full window.
  double rate = 0;
};

/// What one run measured. Counts cover the whole run (warmup and drain too) unless they say
/// "measured": those cover the window of `seconds` after the warmup.
struct fanout_result {
  std::string system;   ///< Report key of what was measured: "nats_core", "tidegate", ...
  std::string version;  ///< The server's version, when known.
  std::string skipped;  ///< Not run, and why (its program is not installed).
  fanout_options options;
  uint32_t subscribers_ready = 0;  ///< Connected with the subscription confirmed.
  double seconds = 0;              ///< The measured window as it happened.
  uint64_t published = 0;
  uint64_t completed = 0;         ///< Delivered to every subscriber.
  uint64_t abandoned = 0;         ///< Not delivered to every one within message_timeout_s.
  uint64_t deliveries = 0;        ///< Messages received, summed over the subscribers.
  uint64_t lost = 0;              ///< published * subscribers_ready - deliveries, if positive.
  uint64_t out_of_order = 0;      ///< Received after a later message on the same connection.
  uint64_t gaps = 0;              ///< Missing on a connection when a later one came.
  uint64_t publish_accepted = 0;  ///< Answers to publishes, where the protocol has them.
  uint64_t publish_refused = 0;
  uint64_t measured_deliveries = 0;
  uint64_t measured_completed = 0;
  double deliveries_per_s = 0;   ///< measured_deliveries / seconds.
  double messages_per_s = 0;     ///< measured_completed / seconds.
  uint64_t latency_samples = 0;  ///< Completed messages published in the measured window.
  double latency_p50_ms = 0;     ///< From publish() to the last subscriber's delivery.
  double latency_p99_ms = 0;
  double latency_max_ms = 0;
  double server_cpu_s = 0;              ///< utime+stime of the server processes over `seconds`.
  double server_cpu_s_per_million = 0;  ///< server_cpu_s per million measured deliveries.
  double harness_cpu_s = 0;             ///< This process' over `seconds` (subscribers, publisher).
  std::string first_error;

  /// Ran, every message reached every subscriber, nothing failed; or was skipped.
  bool ok() const;
};

/// Where the subscribers connect and how they speak.
struct fanout_target {
  uint16_t port = 0;                ///< On 127.0.0.1.
  fanout_codec_factory make_codec;  ///< Called for subscribers 0..S-1.
  std::vector<pid_t> server_pids;   ///< Their CPU time is measured; may be empty.
};

/// "" if `options` can run, else why not (more than max_fanout_subscribers, say).
std::string check_fanout_options(const fanout_options& options);

/// Connects S subscribers to `target`, starts `publisher`, publishes 100-byte (payload_bytes)
/// messages keeping at most `window` incomplete, for warmup_s + duration_s, then waits for the
/// rest. The window closes the loop: at saturation the latency is about window * S divided by
/// the deliveries per second, so a small window shows latency below saturation. Raises the
/// open-files limit. Every phase has a deadline: returns within setup, run, drain and a few
/// seconds, with first_error set if something broke.
fanout_result run_fanout(const fanout_target& target, fanout_publisher& publisher,
                         const fanout_options& options);

}  // namespace tidegate::bench
