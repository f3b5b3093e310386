#include "bench/peers/peer_ingest.h"

#include <unistd.h>

#include <iostream>
#include <memory>
#include <optional>
#include <thread>

#include "bench/load/proc_stats.h"
#include "bench/peers/loopback_socket.h"
#include "bench/peers/nats_publisher.h"
#include "bench/peers/pipeline.h"
#include "bench/peers/redis_publisher.h"

namespace tidegate::bench {
namespace {

using steady = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr auto start_timeout = seconds{30};
constexpr auto setup_timeout = seconds{15};
constexpr auto drain_limit = seconds{10};
constexpr uint64_t max_ops_per_connection = 100'000'000;

/// One publisher connection, ready for its first publish.
struct publisher {
  loopback_socket sock;
  std::unique_ptr<pipeline_codec> codec;
  pipeline_tally tally;
};

std::optional<publisher> connect_publisher(peer_kind kind, uint16_t port, uint32_t index,
                                           const publish_shape& shape, std::string& error) {
  auto deadline = steady::now() + setup_timeout;
  auto sock = kind == peer_kind::nats ? nats_connect_publisher(port, index, deadline, error)
                                      : loopback_socket::connect(port, deadline, error);
  if (!sock) {
    return std::nullopt;
  }
  auto codec =
      kind == peer_kind::nats ? make_nats_codec(index, shape) : make_redis_codec(index, shape);
  return publisher{std::move(*sock), std::move(codec), {}};
}

/// Runs the publishers against a started server and fills `r`'s counts and CPU times.
void measure(peer_kind kind, const peer_server& server, const peer_ingest_options& o,
             peer_result& r) {
  publish_shape shape{o.payload_bytes, o.owners};
  std::vector<publisher> pubs;
  for (uint32_t i = 0; i < o.publishers; ++i) {
    auto p = connect_publisher(kind, server.port(), i, shape, r.error);
    if (!p) {
      r.error = "publisher " + std::to_string(i) + ": " + r.error;
      return;
    }
    pubs.push_back(std::move(*p));
  }
  auto node_cpu0 = cpu_seconds(server.pid()).value_or(0);
  auto self_cpu0 = cpu_seconds(getpid()).value_or(0);
  auto start = steady::now() + milliseconds{20};
  pipeline_limits limits{o.window, start + seconds{o.duration_s},
                         start + seconds{o.duration_s} + drain_limit, max_ops_per_connection};
  std::vector<std::thread> threads;
  threads.reserve(pubs.size());
  for (auto& p : pubs) {
    threads.emplace_back([&p, &limits, start] {
      std::this_thread::sleep_until(start);
      run_pipeline(p.sock, *p.codec, limits, p.tally);
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  r.seconds = std::chrono::duration<double>(steady::now() - start).count();
  r.node_cpu_s = cpu_seconds(server.pid()).value_or(0) - node_cpu0;
  r.bench_cpu_s = cpu_seconds(getpid()).value_or(0) - self_cpu0;
  for (const auto& p : pubs) {
    r.acked_ops += p.tally.acked;
    r.failed_ops += p.tally.failed;
    r.unanswered_ops += p.tally.unanswered;
    if (r.error.empty() && !p.tally.first_error.empty()
        && (p.tally.failed > 0 || p.tally.unanswered > 0)) {
      r.error = p.tally.first_error;
    }
  }
}

}  // namespace

double peer_result::acked_ops_per_s() const {
  return seconds > 0 ? static_cast<double>(acked_ops) / seconds : 0.0;
}

double peer_result::node_cpu_us_per_op() const {
  return acked_ops > 0 ? node_cpu_s * 1e6 / static_cast<double>(acked_ops) : 0.0;
}

bool peer_result::ok() const {
  return !skipped.empty()
         || (error.empty() && acked_ops > 0 && failed_ops == 0 && unanswered_ops == 0);
}

peer_result run_peer_ingest(peer_kind kind, const peer_ingest_options& opts) {
  const auto& spec = spec_of(kind);
  peer_result r;
  r.kind = kind;
  auto program = find_program(spec.program);
  if (program.empty()) {
    r.skipped = std::string{spec.program} + " is not installed";
    std::cerr << "tidegate bench sync: " << spec.program << " not found, skipping " << spec.title
              << " (apt-get install -y nats-server redis-server)\n";
    return r;
  }
  r.version = program_version(program);
  peer_server server{kind};
  if (auto why = server.start(program, steady::now() + start_timeout); !why.empty()) {
    r.error = why;
    return r;
  }
  if (kind == peer_kind::nats) {
    r.error = nats_create_stream(server.port(), steady::now() + setup_timeout);
  }
  if (r.error.empty()) {
    measure(kind, server, opts, r);
  }
  if (!server.running() && r.error.empty()) {
    r.error = std::string{spec.program} + " exited during the run; its log:\n" + server.log_tail();
  }
  server.stop();
  return r;
}

std::vector<peer_result> run_peers(const peer_ingest_options& opts) {
  return {run_peer_ingest(peer_kind::nats, opts), run_peer_ingest(peer_kind::redis, opts)};
}

}  // namespace tidegate::bench
