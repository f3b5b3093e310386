#include "bench/load/connect_bench.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <httplib.h>

#include "bench/load/bench_node.h"
#include "bench/load/connect_dataset.h"
#include "bench/load/connect_phase.h"
#include "bench/load/connect_report.h"
#include "bench/load/connections_report.h"
#include "bench/load/proc_stats.h"

#include <nlohmann/json.hpp>

namespace tidegate::bench {
namespace {

using json = nlohmann::json;
using steady = std::chrono::steady_clock;
using std::chrono::seconds;

constexpr uint64_t data_seed = 20'261'121;
constexpr uint32_t in_flight = 64;            // clients connecting or syncing at once
constexpr auto round_timeout = seconds{60};   // per round of N connects
constexpr auto settle_timeout = seconds{10};  // for the node to close every session
constexpr size_t max_batch = 1000;            // ops per POST (the ingress's limit) ...
constexpr size_t max_body = size_t{6} << 20;  // ... and well under its 8 MiB body limit
constexpr double target_ratio = 0.20;         // bucketed / per-business, sync only

/// Publishes `ops` (msg ids + `suffix`) in batches; returns how many were acked, and the first
/// error in `error`.
uint64_t publish(const bench_node& n, const std::vector<bench_op>& ops, uint32_t payload_bytes,
                 const std::string& suffix, std::string& error) {
  httplib::Client http{n.http_host(), n.http_port()};
  http.set_keep_alive(true);
  http.set_connection_timeout(seconds{5});
  http.set_read_timeout(seconds{30});
  http.set_write_timeout(seconds{30});
  httplib::Headers headers{{"Authorization", "Bearer " + bench_node::app_id + ":" + n.secret()}};
  const std::string payload(payload_bytes, 'x');
  const size_t per_batch = std::clamp<size_t>(max_body / (payload_bytes + 256), 1, max_batch);
  uint64_t acked = 0;
  for (size_t first = 0; first < ops.size(); first += per_batch) {
    json batch = json::array();
    for (size_t i = first; i < ops.size() && i < first + per_batch; ++i) {
      batch.push_back({{"business", ops[i].business},
                       {"owner", ops[i].owner},
                       {"msg_id", ops[i].msg_id + suffix},
                       {"payload", payload}});
    }
    auto res =
        http.Post("/v1/sync/ops:batch", headers, json{{"ops", batch}}.dump(), "application/json");
    if (!res || res->status != 200) {
      if (error.empty()) {
        error = res ? std::to_string(res->status) + " " + res->body.substr(0, 200)
                    : "no answer: " + httplib::to_string(res.error());
      }
      continue;
    }
    auto answer = json::parse(res->body, nullptr, false);
    if (answer.is_discarded() || !answer.contains("results")) {
      error = error.empty() ? "unreadable answer: " + res->body.substr(0, 200) : error;
      continue;
    }
    for (const auto& r : answer["results"]) {
      if (r.contains("version")) {
        ++acked;
      } else if (error.empty()) {
        error = r.dump();
      }
    }
  }
  return acked;
}

/// The sum of a phase's measured rounds.
struct phase_total {
  uint32_t connects = 0;
  uint32_t done = 0;
  uint32_t failed = 0;
  double seconds = 0;
  double node_cpu_s = 0;
  double bench_cpu_s = 0;
  double cold_node_cpu_s = 0;  // the warm-up round
  uint32_t cold_connects = 0;
  uint64_t frames = 0;
  uint64_t final_pages = 0;
  uint64_t ops = 0;
  uint64_t resets = 0;
  uint64_t sync_requests = 0;
  bool settled = true;  // the node closed every session after each round
  std::string first_error;

  double per_connect(double v) const { return connects > 0 ? v / connects : 0.0; }
  json to_json() const {
    return {{"connects", connects},
            {"done", done},
            {"failed", failed},
            {"seconds", seconds},
            {"connects_per_s", seconds > 0 ? connects / seconds : 0.0},
            {"node_cpu_s", node_cpu_s},
            {"node_cpu_us_per_connect", per_connect(node_cpu_s * 1e6)},
            {"warm_up_node_cpu_us_per_connect",
             cold_connects > 0 ? cold_node_cpu_s * 1e6 / cold_connects : 0.0},
            {"bench_cpu_s", bench_cpu_s},
            {"sync_data_frames_per_connect", per_connect(static_cast<double>(frames))},
            {"final_pages_per_connect", per_connect(static_cast<double>(final_pages))},
            {"ops_per_connect", per_connect(static_cast<double>(ops))},
            {"sync_requests_per_connect", per_connect(static_cast<double>(sync_requests))},
            {"resets", resets},
            {"settled", settled}};
  }
};

/// Measures one round of `clients` on `n` into `t`; round 0 is the warm-up, kept apart (the
/// first sync after the publish spawns most of the (bucket, shard) actors). False if a client
/// failed.
bool measure_round(const bench_node& n, connect_phase& clients, uint32_t round, phase_total& t) {
  t.settled = n.wait_no_connections(steady::now() + settle_timeout) && t.settled;
  auto node0 = cpu_seconds(n.pid()).value_or(0);
  auto self0 = cpu_seconds(getpid()).value_or(0);
  auto res = clients.run_round();
  // Session teardown belongs to the connect: measured until the node closed every one.
  t.settled = n.wait_no_connections(steady::now() + settle_timeout) && t.settled;
  auto node_cpu = cpu_seconds(n.pid()).value_or(0) - node0;
  auto self_cpu = cpu_seconds(getpid()).value_or(0) - self0;
  if (t.first_error.empty()) {
    t.first_error = res.first_error;
  }
  t.failed += res.failed;
  if (round == 0) {
    t.cold_node_cpu_s = node_cpu;
    t.cold_connects = res.done + res.failed;
    return res.failed == 0;
  }
  t.connects += res.done + res.failed;
  t.done += res.done;
  t.seconds += res.seconds;
  t.node_cpu_s += node_cpu;
  t.bench_cpu_s += self_cpu;
  t.frames += res.sync_data_frames;
  t.final_pages += res.final_pages;
  t.ops += res.ops;
  t.resets += res.resets;
  t.sync_requests += res.sync_requests;
  return res.failed == 0;
}

/// One layout: its node (the businesses on the default buckets, or each on a bucket of its
/// own), the data published to it, its clients and their tallies.
struct layout_run {
  bool per_business = false;
  uint32_t buckets = 0;
  bench_node node;
  std::vector<bench_op> ops;
  std::vector<bench_op> once_ops;  // deleted once acked: published again before each round
  uint64_t acked = 0;
  uint64_t republished = 0;
  std::string error;
  std::unique_ptr<connect_phase> handshake_clients;  // sync off
  std::unique_ptr<connect_phase> sync_clients;
  phase_total handshake;
  phase_total sync;
  bool running = false;  // started, published, and no client failed yet
  bool node_ok = false;

  /// Starts the node and publishes the data; false if either failed.
  bool start(const sync_options& o, const std::string& exe,
             const std::vector<bench_business>& businesses) {
    buckets = bucket_count(businesses.size(), per_business);
    if (!node.start(exe, o.durability, businesses_toml(businesses, per_business))) {
      return false;
    }
    ops = make_ops(businesses, o.clients, bench_node::app_id, data_seed);
    for (const auto& op : ops) {
      if (op.kind == business_kind::once) {
        once_ops.push_back(op);
      }
    }
    acked = publish(node, ops, o.payload_bytes, "", error);
    connect_phase_options phase;
    phase.address = node.client_address();
    phase.app_id = bench_node::app_id;
    phase.secret = node.secret();
    phase.clients = o.clients;
    phase.sync = false;
    phase.buckets = buckets;
    phase.kept_buckets = once_buckets(businesses, per_business);
    phase.in_flight = in_flight;
    phase.timeout = round_timeout;
    handshake_clients = std::make_unique<connect_phase>(phase);
    phase.sync = true;
    sync_clients = std::make_unique<connect_phase>(phase);
    running = acked == ops.size();
    return running;
  }

  /// Round `round` of the handshake (sync off) or the sync phase; stops the layout on failure.
  void run_round(bool with_sync, uint32_t round, uint32_t payload_bytes) {
    if (!running) {
      return;
    }
    if (with_sync && round > 0 && !once_ops.empty()) {
      auto again = publish(node, once_ops, payload_bytes, "-r" + std::to_string(round), error);
      republished += again;
      if (again != once_ops.size()) {
        running = false;
        return;
      }
    }
    running = with_sync ? measure_round(node, *sync_clients, round, sync)
                        : measure_round(node, *handshake_clients, round, handshake);
  }

  json to_json() {
    node_ok = node.stop();
    auto total_us = sync.per_connect(sync.node_cpu_s * 1e6);
    auto handshake_us = handshake.per_connect(handshake.node_cpu_s * 1e6);
    json r{{"name", per_business ? "per_business" : "bucketed"},
           {"buckets", buckets},
           {"published_ops", ops.size()},
           {"acked_ops", acked},
           {"republished_once_ops", republished},
           {"sync", sync.to_json()},
           {"handshake", handshake.to_json()},
           {"node_cpu_us_per_connect", total_us},
           {"handshake_node_cpu_us_per_connect", handshake_us},
           {"sync_node_cpu_us_per_connect", total_us - handshake_us},
           {"sync_data_frames_per_connect", sync.per_connect(static_cast<double>(sync.frames))},
           {"node_ok", node_ok}};
    if (error.empty()) {
      error = sync.first_error.empty() ? handshake.first_error : sync.first_error;
    }
    if (!error.empty()) {
      r["first_error"] = error;
    }
    r["ok"] = node_ok && acked == ops.size() && sync.failed == 0 && handshake.failed == 0
              && sync.connects > 0 && sync.done == sync.connects
              && handshake.done == handshake.connects && sync.resets == 0 && sync.settled
              && handshake.settled;
    return r;
  }
};

}  // namespace

int run_connect_bench(const sync_options& opts, const std::string& exe) {
  ::signal(SIGPIPE, SIG_IGN);
  auto businesses = make_businesses(opts.businesses);
  json scenario{{"name", "connect"},
                {"clients", opts.clients},
                {"rounds", opts.rounds},
                {"businesses", opts.businesses},
                {"ops_per_user", ops_per_user},
                {"ops_per_global_business", global_ops},
                {"payload_bytes", opts.payload_bytes},
                {"durability", opts.durability},
                {"in_flight", in_flight},
                {"sync_key", "empty, but once buckets continue from the last round's cursor"},
                {"runs", json::array()}};
  // Both nodes run side by side and the rounds alternate between them, so a change in the
  // machine's background load (the cores are shared) touches both layouts alike.
  std::vector<std::unique_ptr<layout_run>> layouts;
  bool ok = true;
  for (bool per_business : {false, true}) {
    auto& l = layouts.emplace_back(std::make_unique<layout_run>());
    l->per_business = per_business;
    ok = l->start(opts, exe, businesses) && ok;
  }
  for (bool with_sync : {false, true}) {
    for (uint32_t r = 0; r <= opts.rounds; ++r) {
      for (size_t k = 0; k < layouts.size(); ++k) {
        layouts[(k + r) % layouts.size()]->run_round(with_sync, r, opts.payload_bytes);
      }
    }
  }
  for (auto& l : layouts) {
    auto r = l->to_json();
    ok = ok && r["ok"].get<bool>();
    scenario["runs"].push_back(std::move(r));
  }
  const auto& b = scenario["runs"][0];
  const auto& p = scenario["runs"][1];
  auto ratio = [&](const char* field) {  // null when the baseline measured nothing
    auto base = p[field].get<double>();
    return base > 0 ? json(b[field].get<double>() / base) : json(nullptr);
  };
  scenario["ratio_sync_only"] = ratio("sync_node_cpu_us_per_connect");
  scenario["ratio_total"] = ratio("node_cpu_us_per_connect");
  scenario["ratio_sync_data_frames"] = ratio("sync_data_frames_per_connect");
  scenario["target_ratio"] = target_ratio;
  scenario["target_met"] = scenario["ratio_sync_only"].is_number()
                           && scenario["ratio_sync_only"].get<double>() <= target_ratio;
  // /proc counts CPU in ticks (10 ms at the usual 100 Hz): a phase needs many for a figure.
  scenario["cpu_tick_s"] = 1.0 / static_cast<double>(sysconf(_SC_CLK_TCK));
  scenario["ok"] = ok;
  json report{{"scenario", "sync"},
              {"machine", machine_line()},
              {"scenarios", json::array({scenario})},
              {"ok", ok}};
  if (opts.json) {
    std::cout << report.dump() << std::endl;
  } else {
    print_connect_table(report);
  }
  return ok ? 0 : 1;
}

}  // namespace tidegate::bench
