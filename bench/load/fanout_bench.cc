#include "bench/load/fanout_bench.h"

#include <chrono>
#include <iomanip>
#include <iostream>
#include <string>
#include <vector>

#include <httplib.h>

#include "bench/fanout/fanout_harness.h"
#include "bench/fanout/fanout_report.h"
#include "bench/fanout/peer_fanout.h"
#include "bench/load/bench_node.h"
#include "bench/load/http_topic_publisher.h"
#include "bench/load/mmtp_fanout_codec.h"
#include "bench/load/process.h"
#include "protocol/auth_token.h"

#include <nlohmann/json.hpp>

namespace tidegate::bench {
namespace {

using json = nlohmann::json;

const std::string topic = "bench:fanout";

fanout_options harness_options(const fanout_bench_options& o, uint32_t subscribers) {
  fanout_options h;
  h.subscribers = subscribers;
  h.threads = o.threads;
  h.window = o.window;
  h.payload_bytes = o.payload_bytes;
  h.duration_s = o.duration_s;
  h.rate = o.rate;
  return h;
}

uint16_t port_of(const std::string& address) {
  return static_cast<uint16_t>(std::stoi(address.substr(address.rfind(':') + 1)));
}

// Users u0..u(S-1) follow the topic, 1000 per request.
std::string follow_all(const bench_node& n, uint32_t subscribers) {
  httplib::Client http{n.http_host(), n.http_port()};
  http.set_read_timeout(std::chrono::seconds{60});
  const std::string auth = "Bearer " + bench_node::app_id + ":" + n.secret();
  for (uint32_t from = 0; from < subscribers; from += 1000) {
    json users = json::array();
    for (uint32_t i = from; i < subscribers && i < from + 1000; ++i) {
      users.push_back("u" + std::to_string(i));
    }
    auto res = http.Post("/v1/topics/follow", {{"Authorization", auth}},
                         json{{"topic", topic}, {"users", users}}.dump(), "application/json");
    if (!res || res->status != 200) {
      return res ? "follow: HTTP " + std::to_string(res->status) + " " + res->body
                 : "follow: no answer";
    }
  }
  return "";
}

fanout_result run_tidegate(const fanout_bench_options& o, uint32_t subscribers) {
  fanout_result failed;
  failed.system = "tidegate";
  failed.options = harness_options(o, subscribers);
  bench_node node;
  if (!node.start(self_executable(), o.durability, "")) {
    failed.first_error = "the node did not start";
    return failed;
  }
  if (auto err = follow_all(node, subscribers); !err.empty()) {
    failed.first_error = err;
    return failed;
  }
  auto now_s = std::chrono::duration_cast<std::chrono::seconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
  auto expires = static_cast<uint64_t>(now_s) + 86'400;
  fanout_target target;
  target.port = port_of(node.client_address());
  target.server_pids.push_back(node.pid());
  target.make_codec = [secret = node.secret(), expires](uint32_t index) {
    auto user = "u" + std::to_string(index);
    return make_mmtp_fanout_codec(bench_node::app_id, "d" + std::to_string(index),
                                  protocol::sign_token(secret, bench_node::app_id, user, expires),
                                  topic);
  };
  http_topic_publisher publisher{node.http_host(), node.http_port(),
                                 "Bearer " + bench_node::app_id + ":" + node.secret(), topic,
                                 o.batch};
  auto result = run_fanout(target, publisher, harness_options(o, subscribers));
  result.system = "tidegate";
  if (!node.stop() && result.first_error.empty()) {
    result.first_error = "the node died during the run";
  }
  return result;
}

void print_ratio(const fanout_result& ours, const fanout_result& peer) {
  if (!peer.skipped.empty() || peer.deliveries_per_s <= 0) {
    std::cout << "  vs " << peer.system << ": not measured (" << peer.skipped << peer.first_error
              << ")\n";
    return;
  }
  std::cout << "  vs " << std::left << std::setw(15) << peer.system << std::right << std::fixed
            << std::setprecision(2) << "deliveries/s x"
            << ours.deliveries_per_s / peer.deliveries_per_s << "   p99 x"
            << (peer.latency_p99_ms > 0 ? ours.latency_p99_ms / peer.latency_p99_ms : 0)
            << "   CPU/M x"
            << (peer.server_cpu_s_per_million > 0
                    ? ours.server_cpu_s_per_million / peer.server_cpu_s_per_million
                    : 0)
            << "\n";
}

}  // namespace

int run_fanout_bench(const fanout_bench_options& o) {
  json all = json::array();
  bool ok = true;
  for (auto subscribers : o.subscribers) {
    auto ours = run_tidegate(o, subscribers);
    ok = ok && ours.ok();
    std::vector<fanout_result> peers;
    if (o.peers) {
      for (auto peer : {fanout_peer::nats_core, fanout_peer::redis_pubsub,
                        fanout_peer::mosquitto_qos0, fanout_peer::mosquitto_qos1}) {
        peers.push_back(run_peer_fanout(peer, harness_options(o, subscribers)));
      }
    }
    if (o.json) {
      json run{{"subscribers", subscribers}, {"tidegate", fanout_json(ours)}};
      for (const auto& p : peers) {
        run[p.system] = fanout_json(p);
      }
      all.push_back(run);
      continue;
    }
    print_fanout_result(ours, std::cout);
    for (const auto& p : peers) {
      print_fanout_result(p, std::cout);
    }
    if (!peers.empty()) {
      std::cout << "tidegate, S=" << subscribers << ", as ratios to the peers in this run:\n";
      for (const auto& p : peers) {
        print_ratio(ours, p);
      }
    }
  }
  if (o.json) {
    std::cout << all.dump(2) << "\n";
  }
  return ok ? 0 : 1;
}

}  // namespace tidegate::bench
