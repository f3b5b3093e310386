#include "bench/load/failover_bench.h"

#include <atomic>
#include <csignal>
#include <iomanip>
#include <iostream>
#include <memory>
#include <optional>
#include <random>
#include <thread>
#include <vector>

#include <httplib.h>

#include "actors/sync/bucket_config.h"
#include "bench/load/bench_node.h"
#include "bench/load/proc_stats.h"
#include "bench/load/process.h"
#include "bench/load/sync_clients.h"
#include "bench/load/sync_publish.h"

#include <nlohmann/json.hpp>

namespace tidegate::bench {
namespace {

using json = nlohmann::json;
using steady = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr auto serving_timeout = seconds{60};
constexpr auto recovery_timeout = seconds{60};  // each post-kill phase must end within this
constexpr uint16_t cluster_port = 7200;
constexpr uint16_t shard_count = 1024;
const std::string business = "bench";

/// Who answers HTTP where.
struct http_target {
  std::string host;
  int port = 0;
  std::string secret;
};

http_target target_of(const bench_node& n) {
  return {n.http_host(), n.http_port(), n.secret()};
}

std::unique_ptr<httplib::Client> client_for(const http_target& t, seconds read_timeout) {
  auto http = std::make_unique<httplib::Client>(t.host, t.port);
  http->set_keep_alive(true);
  http->set_tcp_nodelay(true);
  http->set_connection_timeout(seconds{2});
  http->set_read_timeout(read_timeout);
  return http;
}

httplib::Headers auth(const http_target& t) {
  return {{"Authorization", "Bearer " + bench_node::app_id + ":" + t.secret}};
}

std::string op_json(const std::string& owner, const std::string& msg_id,
                    const std::string& payload) {
  std::string body;
  append_op(body, business, owner, msg_id, payload);
  return body;
}

/// Acknowledged ops/s of `publishers` threads posting batches back to back to `targets`
/// (round robin by thread) for `duration`.
double ingest(const std::vector<http_target>& targets, const failover_options& o,
              const std::string& tag) {
  std::vector<uint64_t> acked(o.publishers, 0);
  std::vector<std::thread> threads;
  const std::string payload(o.payload_bytes, 'x');
  auto start = steady::now();
  auto end = start + seconds{o.duration_s};
  for (uint32_t t = 0; t < o.publishers; ++t) {
    threads.emplace_back([&, t] {
      const auto& target = targets[t % targets.size()];
      auto http = client_for(target, seconds{30});
      auto headers = auth(target);
      uint64_t seq = 0;
      std::string body;
      while (steady::now() < end) {
        body = R"({"ops":[)";
        for (uint32_t k = 0; k < o.batch; ++k, ++seq) {
          body += (k == 0 ? "" : ",")
                  + op_json("u" + std::to_string((t * 7919 + seq) % o.clients),
                            tag + std::to_string(t) + "-" + std::to_string(seq), payload);
        }
        body += "]}";
        auto res = http->Post("/v1/sync/ops:batch", headers, body, "application/json");
        if (res && res->status == 200) {
          acked[t] += count_versions(res->body);
        }
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  uint64_t total = 0;
  for (auto n : acked) {
    total += n;
  }
  return static_cast<double>(total) / std::chrono::duration<double>(steady::now() - start).count();
}

std::optional<json> get_json(const http_target& t, const std::string& path) {
  auto http = client_for(t, seconds{2});
  auto res = http->Get(path);
  if (!res || res->status != 200) {
    return std::nullopt;
  }
  auto doc = json::parse(res->body, nullptr, false);
  if (doc.is_discarded()) {
    return std::nullopt;
  }
  return doc;
}

/// Every member up, a committed map, every shard served and every replica in sync, and no
/// shard moving (a learner doubles a shard's replication while it catches up, and a seal
/// holds its requests: a measurement then would count the rebalancing).
bool serving(const http_target& t) {
  auto v = get_json(t, "/cluster");
  if (!v) {
    return false;
  }
  const auto& map = (*v)["map"];
  return (*v)["reachable"] == (*v)["known"] && map.value("version", 0) > 0
         && map.value("unavailable", 1) == 0 && map.value("replicas_in_sync", 0) == shard_count
         && map.value("moving", 1) == 0 && map.value("learners", 1) == 0;
}

std::string state_of(const json& cluster, const std::string& name) {
  for (const auto& m : cluster["members"]) {
    if (m.value("name", "") == name) {
      return m.value("state", "");
    }
  }
  return "";
}

long long ms_since(steady::time_point t0) {
  return std::chrono::duration_cast<milliseconds>(steady::now() - t0).count();
}

/// Polls `done` every `period` until it holds or `timeout` passes; the time it took, or -1.
template <class Pred>
long long time_until(steady::time_point t0, Pred done, milliseconds period) {
  auto deadline = t0 + recovery_timeout;
  while (steady::now() < deadline) {
    if (done()) {
      return ms_since(t0);
    }
    std::this_thread::sleep_for(period);
  }
  return -1;
}

/// A user whose shard n1 is primary of in `shards` (GET /cluster/shards).
std::optional<std::string> owner_on(const json& shards, const std::string& primary) {
  for (int k = 0; k < 100'000; ++k) {
    auto owner = "probe-" + std::to_string(k);
    auto s = actors::shard_of(owner, shard_count);
    if (shards["shards"][s].value("primary", "") == primary) {
      return owner;
    }
  }
  return std::nullopt;
}

/// Publishes one marker op for each of users u<first>..u<end - 1> through the survivors (thread
/// `thread` starts with its own), each batch retried (same msg_ids) until every op in it is
/// acknowledged.
bool publish_markers(const std::vector<http_target>& survivors, uint32_t thread, uint32_t begin,
                     uint32_t end) {
  constexpr uint32_t batch = 100;
  auto deadline = steady::now() + recovery_timeout;
  std::vector<std::unique_ptr<httplib::Client>> http;
  for (const auto& t : survivors) {
    http.push_back(client_for(t, seconds{10}));
  }
  for (uint32_t first = begin, attempt = thread; first < end;) {
    auto n = std::min(batch, end - first);
    std::string body = R"({"ops":[)";
    for (uint32_t k = 0; k < n; ++k) {
      auto user = "u" + std::to_string(first + k);
      body += (k == 0 ? "" : ",") + op_json(user, "mark-" + user, "mark " + user);
    }
    body += "]}";
    auto i = attempt % survivors.size();
    auto res = http[i]->Post("/v1/sync/ops:batch", auth(survivors[i]), body, "application/json");
    if (res && res->status == 200 && count_versions(res->body) == n) {
      first += n;
    } else if (steady::now() >= deadline) {
      return false;
    } else {
      ++attempt;
      std::this_thread::sleep_for(milliseconds{10});
    }
  }
  return true;
}

struct figures {
  double single_ops_s = 0;
  double replicated_ops_s = 0;
  long long detection_ms = -1;
  long long promotion_ms = -1;
  long long rto_ms = -1;
  long long markers_acked_ms = -1;
  long long reconnected_ms = -1;
  long long resynced_ms = -1;
  long long rejoined_ms = -1;    // "stop": from SIGCONT
  long long rebalanced_ms = -1;  // "stop": from SIGCONT
  uint64_t clients_marked = 0;   // clients that got their marker
  uint32_t clients_on_victim = 0;
};

void print(const failover_options& o, const figures& f) {
  bool freeze = o.signal == "stop";
  json report{{"scenario", "failover"},
              {"signal", freeze ? "SIGSTOP" : "SIGKILL"},
              {"clients", o.clients},
              {"clients_on_victim", f.clients_on_victim},
              {"durability", o.durability},
              {"heartbeat_ms", o.heartbeat_ms},
              {"failure_timeout_ms", o.failure_timeout_ms},
              {"single_node_ops_per_s", f.single_ops_s},
              {"replicated_ops_per_s", f.replicated_ops_s},
              {"replicated_ratio", f.single_ops_s > 0 ? f.replicated_ops_s / f.single_ops_s : 0},
              {"detection_ms", f.detection_ms},
              {"promotion_ms", f.promotion_ms},
              {"rto_ms", f.rto_ms},
              {"markers_acked_ms", f.markers_acked_ms},
              {"reconnected_ms", f.reconnected_ms},
              {"resynced_ms", f.resynced_ms},
              {"clients_resynced", f.clients_marked}};
  if (freeze) {
    report["rejoined_ms"] = f.rejoined_ms;
    report["rebalanced_ms"] = f.rebalanced_ms;
  }
  if (o.json) {
    std::cout << report.dump() << std::endl;
    return;
  }
  auto ms = [](long long v) {
    return v < 0 ? std::string{"did not happen"} : std::to_string(v) + " ms";
  };
  std::cout << std::fixed << std::setprecision(0)  //
            << "failover: 3 nodes (n1, n2 in z1; n3 in z2), " << (freeze ? "SIGSTOP" : "SIGKILL")
            << " of n1 with " << f.clients_on_victim << " clients on it\n"
            << "  ingest, single node         " << f.single_ops_s << " ops/s\n"
            << "  ingest, replicated (3 nodes) " << f.replicated_ops_s << " ops/s ("
            << std::setprecision(2) << report["replicated_ratio"].get<double>() << "x)\n"
            << "  detection                   " << ms(f.detection_ms) << "\n"
            << "  promotion (map committed)   " << ms(f.promotion_ms) << "\n"
            << "  RTO (first acked write)     " << ms(f.rto_ms) << "\n"
            << "  markers acknowledged        " << ms(f.markers_acked_ms) << "\n"
            << "  clients reconnected         " << ms(f.reconnected_ms) << "\n"
            << "  clients resynced            " << ms(f.resynced_ms) << " (" << f.clients_marked
            << " of " << o.clients << ")\n";
  if (freeze) {
    std::cout << "  after SIGCONT: n1 a member on the current map " << ms(f.rejoined_ms)
              << ", every shard in sync and placed " << ms(f.rebalanced_ms) << "\n";
  }
  std::cout << "  (times from the " << (freeze ? "SIGSTOP" : "SIGKILL") << ")\n";
}

std::string cluster_toml(const std::string& subnet, size_t i, const std::string& zone,
                         const failover_options& o) {
  std::string seeds;
  for (size_t k = 0; k < 3; ++k) {
    seeds += (k == 0 ? "\"" : ", \"") + subnet + std::to_string(k + 1) + ":"
             + std::to_string(cluster_port) + "\"";
  }
  return "[cluster]\nlisten = \"" + subnet + std::to_string(i + 1) + ":"
         + std::to_string(cluster_port) + "\"\nseeds = [" + seeds + "]\nzone = \"" + zone
         + "\"\nheartbeat_ms = " + std::to_string(o.heartbeat_ms)
         + "\nfailure_timeout_ms = " + std::to_string(o.failure_timeout_ms) + "\n\n"
         + "[[businesses]]\nname = \"" + business + "\"\nbucket = \"user\"\n";
}

}  // namespace

int run_failover_bench(const failover_options& o) {
  ::signal(SIGPIPE, SIG_IGN);  // a killed node's HTTP connections must not kill us
  auto exe = self_executable();
  if (exe.empty()) {
    std::cerr << "tidegate bench: cannot find the tidegate executable\n";
    return 1;
  }
  if (raise_open_files_limit() < uint64_t{o.clients} + 256) {
    std::cerr << "tidegate bench: the open-files limit is too low for " << o.clients
              << " clients\n";
    return 1;
  }
  figures f;
  const std::string businesses = "[[businesses]]\nname = \"" + business + "\"\nbucket = \"user\"\n";
  {
    bench_node single;
    if (!single.start(exe, o.durability, businesses)) {
      return 1;
    }
    f.single_ops_s = ingest({target_of(single)}, o, "s");
    single.stop();
  }

  std::mt19937 rng{std::random_device{}()};
  auto subnet =
      "127." + std::to_string(100 + rng() % 100) + "." + std::to_string(rng() % 250) + ".";
  const std::vector<std::string> zones{"z1", "z1", "z2"};
  auto secret = random_secret();
  std::vector<std::unique_ptr<bench_node>> nodes;
  std::vector<http_target> targets;
  for (size_t i = 0; i < 3; ++i) {
    nodes.push_back(std::make_unique<bench_node>());
    nodes.back()->set_identity("n" + std::to_string(i + 1), secret);
    if (!nodes.back()->start(exe, o.durability, cluster_toml(subnet, i, zones[i], o))) {
      return 1;
    }
    targets.push_back(target_of(*nodes.back()));
  }
  auto ready_by = steady::now() + serving_timeout;
  for (const auto& t : targets) {
    while (!serving(t)) {
      if (steady::now() >= ready_by) {
        std::cerr << "tidegate bench: the cluster did not serve every shard within "
                  << serving_timeout.count() << " s\n";
        return 1;
      }
      std::this_thread::sleep_for(milliseconds{50});
    }
  }
  f.replicated_ops_s = ingest(targets, o, "r");

  // The clients land on n1 and fall back to n2, then n3.
  sync_clients_options co;
  for (const auto& n : nodes) {
    co.addresses.push_back(n->client_address());
  }
  co.app_id = bench_node::app_id;
  co.secret = secret;
  co.clients = o.clients;
  co.reconnect = true;
  bool freeze = o.signal == "stop";
  co.heartbeat_ms = o.client_heartbeat_ms > 0 ? o.client_heartbeat_ms : freeze ? 2'000 : 120'000;
  co.pong_timeout_ms = o.client_pong_timeout_ms > 0 ? o.client_pong_timeout_ms
                       : freeze                     ? 3'000
                                                    : 10'000;
  if (freeze) {
    co.handshake_timeout_s = 10;  // the SDK's default; 60 s would hide a stuck client
  }
  sync_clients clients{co, seconds{600}};
  if (clients.wait_ready(steady::now() + seconds{120}) != o.clients) {
    std::cerr << "tidegate bench: only " << clients.ready() << " of " << o.clients
              << " clients logged in\n";
    return 1;
  }
  f.clients_on_victim = static_cast<uint32_t>(nodes[0]->open_connections().value_or(0));
  auto shards = get_json(targets[1], "/cluster/shards");
  auto probe = shards ? owner_on(*shards, "n1") : std::nullopt;
  if (!probe) {
    std::cerr << "tidegate bench: n1 is primary of no shard\n";
    return 1;
  }

  auto killed_at = steady::now();
  if (freeze) {
    ::kill(nodes[0]->pid(), SIGSTOP);
  } else {
    nodes[0]->kill();
  }
  const std::vector<http_target> survivors{targets[1], targets[2]};
  std::thread watcher{[&] {
    f.detection_ms = time_until(
        killed_at,
        [&] {
          auto v = get_json(targets[1], "/cluster");
          return v && state_of(*v, "n1") == "unreachable";
        },
        milliseconds{2});
    f.promotion_ms = time_until(
        killed_at,
        [&] {
          auto s = get_json(targets[1], "/cluster/shards");
          if (!s) {
            return false;
          }
          for (const auto& row : (*s)["shards"]) {
            if (row.value("primary", "") == "n1") {
              return false;
            }
          }
          return true;
        },
        milliseconds{5});
  }};
  std::thread prober{[&] {
    auto http = client_for(targets[1], seconds{10});
    auto body = op_json(*probe, "rto-probe", "probe");
    f.rto_ms = time_until(
        killed_at,
        [&] {
          auto res = http->Post("/v1/sync/ops", auth(targets[1]), body, "application/json");
          return res && res->status == 200;
        },
        milliseconds{5});
  }};
  // The markers go out from `publishers` threads, each with its share of the users.
  std::atomic<uint32_t> markers_done{0};
  std::atomic<bool> markers_failed{false};
  std::vector<std::thread> markers;
  for (uint32_t t = 0; t < o.publishers; ++t) {
    markers.emplace_back([&, t] {
      uint32_t begin = static_cast<uint32_t>(uint64_t{o.clients} * t / o.publishers);
      uint32_t end = static_cast<uint32_t>(uint64_t{o.clients} * (t + 1) / o.publishers);
      if (!publish_markers(survivors, t, begin, end)) {
        markers_failed = true;
      } else if (++markers_done == o.publishers) {
        f.markers_acked_ms = ms_since(killed_at);
      }
    });
  }
  // Every client that was on n1 lost its session (at once for a kill; at its next late pong
  // for a freeze) and is ready again on a survivor.
  f.reconnected_ms = time_until(
      killed_at,
      [&] { return clients.dropped() >= f.clients_on_victim && clients.ready_now() == o.clients; },
      milliseconds{5});
  f.resynced_ms = time_until(
      killed_at, [&] { return clients.marked() >= o.clients; }, milliseconds{5});
  watcher.join();
  prober.join();
  for (auto& th : markers) {
    th.join();
  }
  f.clients_marked = clients.marked();
  clients.stop();
  if (freeze) {
    // n1 resumes with its old map: it must be seen again and learn the new map (rejoined);
    // then its home-zone shards move back to it by hand-off, at most
    // cluster.max_moving_shards at a time, until nothing moves and every replica is in sync
    // (rebalanced).
    auto resumed_at = steady::now();
    ::kill(nodes[0]->pid(), SIGCONT);
    f.rejoined_ms = time_until(
        resumed_at,
        [&] {
          auto mine = get_json(targets[0], "/cluster");
          auto theirs = get_json(targets[1], "/cluster");
          return mine && theirs && state_of(*theirs, "n1") == "up"
                 && mine->value("has_majority", false)
                 && (*mine)["map"].value("version", 0) == (*theirs)["map"].value("version", 0);
        },
        milliseconds{10});
    f.rebalanced_ms = time_until(
        resumed_at,
        [&] {
          auto v = get_json(targets[1], "/cluster");
          return serving(targets[1]) && v && (*v)["map"].value("moving", 1) == 0;
        },
        milliseconds{50});
    nodes[0]->stop();
  }
  for (size_t i = 1; i < nodes.size(); ++i) {
    nodes[i]->stop();
  }
  print(o, f);
  bool complete = f.detection_ms >= 0 && f.promotion_ms >= 0 && f.rto_ms >= 0
                  && f.markers_acked_ms >= 0 && f.reconnected_ms >= 0 && f.resynced_ms >= 0
                  && (!freeze || (f.rejoined_ms >= 0 && f.rebalanced_ms >= 0));
  return complete ? 0 : 1;
}

}  // namespace tidegate::bench
