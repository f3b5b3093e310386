#include "bench/load/sync_bench.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <iomanip>
#include <iostream>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>

#include "bench/load/bench_node.h"
#include "bench/load/connect_bench.h"
#include "bench/load/connections_report.h"
#include "bench/load/proc_stats.h"
#include "bench/load/sync_clients.h"
#include "bench/load/sync_publish.h"
#include "bench/peers/peer_ingest.h"
#include "bench/peers/peer_report.h"

#include <nlohmann/json.hpp>

namespace tidegate::bench {
namespace {

using json = nlohmann::json;
using steady = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr auto drain_limit = seconds{30};  // deliveries after publishing stopped
constexpr auto drain_stall = seconds{3};   // ... or until none came for this long
constexpr uint64_t max_requests_per_thread = 50'000'000;
constexpr size_t max_samples_per_thread = 1'000'000;  // HTTP ack latencies kept
const std::string& app_id = bench_node::app_id;
const std::string business = "bench";

/// One publisher thread's tallies.
struct publisher_stats {
  uint64_t requests = 0;
  uint64_t failed_requests = 0;  // no answer, or not 200
  uint64_t acked_ops = 0;        // ops with a version in the answer
  uint64_t late = 0;             // latency: sends more than 1 ms behind schedule
  uint64_t unsent = 0;           // latency: scheduled sends dropped at the end
  std::vector<int64_t> ack_ns;
  std::string first_error;
};

std::unique_ptr<httplib::Client> http_client(const bench_node& n) {
  auto http = std::make_unique<httplib::Client>(n.http_host(), n.http_port());
  http->set_keep_alive(true);
  http->set_tcp_nodelay(true);
  http->set_connection_timeout(seconds{5});
  http->set_read_timeout(seconds{30});
  http->set_write_timeout(seconds{30});
  return http;
}

void note_reply(publisher_stats& s, const httplib::Result& res, size_t ops) {
  ++s.requests;
  if (!res || res->status != 200) {
    ++s.failed_requests;
    if (s.first_error.empty()) {
      s.first_error = res ? std::to_string(res->status) + " " + res->body.substr(0, 200)
                          : "no answer: " + httplib::to_string(res.error());
    }
    return;
  }
  auto versions = count_versions(res->body);
  s.acked_ops += versions;
  if (versions < ops && s.first_error.empty()) {
    s.first_error = res->body.substr(0, 300);
  }
}

/// Where a publish of `ops` ops goes: a single op, or a batch.
std::string publish_path(uint32_t ops) {
  return ops == 1 ? "/v1/sync/ops" : "/v1/sync/ops:batch";
}

/// The body of one publish of `ops` ops stamped now, owners spread over the clients; advances
/// `seq` by `ops`.
void build_publish(const sync_options& o, uint32_t index, const std::string& prefix, uint32_t ops,
                   uint64_t& seq, std::string& body) {
  body.clear();
  if (ops > 1) {
    body = R"({"ops":[)";
  }
  auto payload = stamped_payload(monotonic_ns(), o.payload_bytes);
  for (uint32_t k = 0; k < ops; ++k, ++seq) {
    if (k > 0) {
      body += ',';
    }
    auto owner = "u" + std::to_string((index * 7919 + seq) % o.clients);
    append_op(body, business, owner, prefix + std::to_string(seq), payload);
  }
  if (ops > 1) {
    body += "]}";
  }
}

/// Ingest: POSTs batches of `batch` ops back to back until `end`.
void ingest_publisher(const bench_node& n, const sync_options& o, uint32_t index,
                      steady::time_point end, publisher_stats& s) {
  auto http = http_client(n);
  httplib::Headers headers{{"Authorization", "Bearer " + app_id + ":" + n.secret()}};
  const std::string path = publish_path(o.batch);
  const std::string prefix = "i" + std::to_string(index) + "-";
  uint64_t seq = 0;
  std::string body;
  while (steady::now() < end && s.requests < max_requests_per_thread) {
    build_publish(o, index, prefix, o.batch, seq, body);
    auto t0 = steady::now();
    auto res = http->Post(path, headers, body, "application/json");
    if (s.ack_ns.size() < max_samples_per_thread) {
      s.ack_ns.push_back((steady::now() - t0).count());
    }
    note_reply(s, res, o.batch);
  }
}

/// Latency: this thread's share of `rate`, as publishes of latency_batch ops on a fixed
/// schedule until `end`.
void paced_publisher(const bench_node& n, const sync_options& o, uint32_t index,
                     steady::time_point start, steady::time_point end, publisher_stats& s) {
  auto http = http_client(n);
  httplib::Headers headers{{"Authorization", "Bearer " + app_id + ":" + n.secret()}};
  const std::string prefix = "l" + std::to_string(index) + "-";
  const std::string path = publish_path(o.latency_batch);
  const double sends_per_s = o.rate / o.latency_batch;
  const double period_s = static_cast<double>(o.publishers) / sends_per_s;
  const double offset_s = static_cast<double>(index) / sends_per_s;
  std::string body;
  uint64_t op_seq = 0;
  for (uint64_t seq = 0; s.requests < max_requests_per_thread; ++seq) {
    auto due = start
               + std::chrono::duration_cast<steady::duration>(
                   std::chrono::duration<double>(offset_s + period_s * seq));
    if (due >= end) {
      break;
    }
    std::this_thread::sleep_until(due);
    auto t0 = steady::now();
    if (t0 >= end) {  // too far behind: the rest of the schedule is not sent
      s.unsent = static_cast<uint64_t>(std::chrono::duration<double>(end - start).count()
                                       * sends_per_s / o.publishers)
                 - seq;
      break;
    }
    if (t0 - due > milliseconds{1}) {
      ++s.late;
    }
    build_publish(o, index, prefix, o.latency_batch, op_seq, body);
    auto res = http->Post(path, headers, body, "application/json");
    if (s.ack_ns.size() < max_samples_per_thread) {
      s.ack_ns.push_back((steady::now() - t0).count());
    }
    note_reply(s, res, o.latency_batch);
  }
}

double percentile_ms(std::vector<int64_t>& v, double q) {
  if (v.empty()) {
    return 0;
  }
  auto at = static_cast<size_t>(q * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(at), v.end());
  return static_cast<double>(v[at]) / 1e6;
}

/// Runs one scenario on a fresh node; nullopt if the node or the clients did not come up.
std::optional<json> run_scenario(const sync_options& o, const std::string& name,
                                 const std::string& exe) {
  bench_node n;
  if (!n.start(exe, o.durability,
               "[[businesses]]\nname = \"" + business + "\"\nbucket = \"user\"\n")) {
    return std::nullopt;
  }
  auto child_pid = n.pid();
  auto lifetime = seconds{o.duration_s + 300};
  sync_clients clients{{{n.client_address()}, app_id, n.secret(), o.clients}, lifetime};
  auto ready = clients.wait_ready(steady::now() + seconds{120});
  if (ready == 0) {
    std::cerr << "tidegate bench sync: no client became ready\n";
    clients.stop();
    n.stop();
    return std::nullopt;
  }
  std::this_thread::sleep_for(milliseconds{500});  // the first SYNC_REQs are answered

  bool ingest = name == "ingest";
  std::vector<publisher_stats> stats(o.publishers);
  std::vector<std::thread> threads;
  auto node_cpu0 = cpu_seconds(child_pid).value_or(0);
  auto self_cpu0 = cpu_seconds(getpid()).value_or(0);
  auto delivered0 = clients.delivered();
  auto start = steady::now() + milliseconds{20};
  auto end = start + seconds{o.duration_s};
  clients.start_sampling(monotonic_ns());
  for (uint32_t i = 0; i < o.publishers; ++i) {
    threads.emplace_back([&, i] {
      if (ingest) {
        std::this_thread::sleep_until(start);
        ingest_publisher(n, o, i, end, stats[i]);
      } else {
        paced_publisher(n, o, i, start, end, stats[i]);
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  auto stopped = steady::now();
  auto window_s = std::chrono::duration<double>(stopped - start).count();
  auto delivered_window = clients.delivered() - delivered0;
  auto node_cpu = cpu_seconds(child_pid).value_or(0) - node_cpu0;
  auto self_cpu = cpu_seconds(getpid()).value_or(0) - self_cpu0;

  publisher_stats total;
  for (auto& s : stats) {
    total.requests += s.requests;
    total.failed_requests += s.failed_requests;
    total.acked_ops += s.acked_ops;
    total.late += s.late;
    total.unsent += s.unsent;
    total.ack_ns.insert(total.ack_ns.end(), s.ack_ns.begin(), s.ack_ns.end());
    if (total.first_error.empty()) {
      total.first_error = s.first_error;
    }
  }
  // Deliveries still in flight when publishing stopped.
  auto last = clients.delivered();
  auto last_change = steady::now();
  while (clients.delivered() - delivered0 < total.acked_ops && steady::now() - stopped < drain_limit
         && steady::now() - last_change < drain_stall) {
    std::this_thread::sleep_for(milliseconds{20});
    if (auto d = clients.delivered(); d != last) {
      last = d;
      last_change = steady::now();
    }
  }
  auto drain_s = std::chrono::duration<double>(steady::now() - stopped).count();
  auto delivered_total = clients.delivered() - delivered0;
  uint64_t dropped = 0;
  auto samples = clients.take_samples(dropped);
  auto closed = clients.closed();
  auto resets = clients.resets();
  clients.stop();
  bool node_ok = n.stop();

  auto per_s = [window_s](double v) { return window_s > 0 ? v / window_s : 0.0; };
  json r{{"name", name},
         {"durability", o.durability},
         {"publishers", o.publishers},
         {"clients", o.clients},
         {"clients_ready", ready},
         {"clients_closed", closed},
         {"payload_bytes", o.payload_bytes},
         {"seconds", window_s},
         {"requests", total.requests},
         {"failed_requests", total.failed_requests},
         {"acked_ops", total.acked_ops},
         {"acked_ops_per_s", per_s(static_cast<double>(total.acked_ops))},
         {"requests_per_s", per_s(static_cast<double>(total.requests))},
         {"delivered_in_window", delivered_window},
         {"deliveries_per_s", per_s(static_cast<double>(delivered_window))},
         {"delivered_total", delivered_total},
         {"drain_s", drain_s},
         {"resets", resets},
         {"ack_latency_ms",
          {{"p50", percentile_ms(total.ack_ns, 0.50)}, {"p99", percentile_ms(total.ack_ns, 0.99)}}},
         {"delivery_latency_ms",
          {{"samples", samples.size()},
           {"not_sampled", dropped},
           {"p50", percentile_ms(samples, 0.50)},
           {"p99", percentile_ms(samples, 0.99)},
           {"p999", percentile_ms(samples, 0.999)},
           {"max", percentile_ms(samples, 1.0)}}},
         {"node_cpu_s", node_cpu},
         {"node_cpu_pct_of_one_core", window_s > 0 ? node_cpu / window_s * 100 : 0.0},
         {"node_cpu_us_per_op",
          total.acked_ops > 0 ? node_cpu * 1e6 / static_cast<double>(total.acked_ops) : 0.0},
         {"bench_cpu_pct_of_one_core", window_s > 0 ? self_cpu / window_s * 100 : 0.0},
         {"node_ok", node_ok}};
  if (ingest) {
    r["batch"] = o.batch;
  } else {
    r["batch"] = o.latency_batch;
    r["rate_target_per_s"] = o.rate;
    r["late_sends"] = total.late;
    r["unsent"] = total.unsent;
  }
  if (!total.first_error.empty()) {
    r["first_error"] = total.first_error;
  }
  r["ok"] = node_ok && ready == o.clients && total.failed_requests == 0 && total.acked_ops > 0
            && delivered_total == total.acked_ops;
  return r;
}

void print_sync_table(const json& report) {
  auto& out = std::cout;
  out << "tidegate bench sync: machine " << report["machine"].get<std::string>() << "\n";
  out << std::fixed;
  for (const auto& r : report["scenarios"]) {
    auto name = r["name"].get<std::string>();
    out << "\n"
        << name << ": " << r["clients_ready"].get<uint32_t>() << "/" << r["clients"].get<uint32_t>()
        << " clients online, " << r["publishers"].get<uint32_t>() << " publishers, batch "
        << r["batch"].get<uint32_t>() << ", " << r["payload_bytes"].get<uint32_t>()
        << " B payloads, durability " << r["durability"].get<std::string>();
    if (r.contains("rate_target_per_s")) {
      out << ", target " << std::setprecision(0) << r["rate_target_per_s"].get<double>()
          << " ops/s";
    }
    out << "\n" << std::setprecision(1);
    auto row = [&out](const std::string& what, const std::string& value) {
      out << "  " << std::left << std::setw(36) << what << std::right << value << "\n";
    };
    auto num = [](double v, int precision) {
      std::ostringstream s;
      s << std::fixed << std::setprecision(precision) << v;
      return s.str();
    };
    row("seconds", num(r["seconds"].get<double>(), 2));
    row("acked ops", std::to_string(r["acked_ops"].get<uint64_t>()) + " ("
                         + std::to_string(r["failed_requests"].get<uint64_t>())
                         + " failed requests)");
    row("acked ops/s", num(r["acked_ops_per_s"].get<double>(), 0));
    row("HTTP requests/s", num(r["requests_per_s"].get<double>(), 0));
    row("deliveries/s (in the window)", num(r["deliveries_per_s"].get<double>(), 0));
    row("delivered in all", std::to_string(r["delivered_total"].get<uint64_t>()) + " (drain "
                                + num(r["drain_s"].get<double>(), 2) + " s)");
    const auto& a = r["ack_latency_ms"];
    row("HTTP ack ms p50 / p99",
        num(a["p50"].get<double>(), 2) + " / " + num(a["p99"].get<double>(), 2));
    const auto& d = r["delivery_latency_ms"];
    row("publish->delivery ms p50/p99/p999",
        num(d["p50"].get<double>(), 2) + " / " + num(d["p99"].get<double>(), 2) + " / "
            + num(d["p999"].get<double>(), 2) + " (max " + num(d["max"].get<double>(), 1) + ")");
    row("node CPU", num(r["node_cpu_pct_of_one_core"].get<double>(), 0) + " % of one core, "
                        + num(r["node_cpu_us_per_op"].get<double>(), 1) + " us per op");
    row("bench CPU", num(r["bench_cpu_pct_of_one_core"].get<double>(), 0) + " % of one core");
    if (r.contains("late_sends")) {
      row("sends > 1 ms behind schedule", std::to_string(r["late_sends"].get<uint64_t>()));
      row("scheduled but not sent in time", std::to_string(r["unsent"].get<uint64_t>()));
    }
    if (r.contains("first_error")) {
      row("first error", r["first_error"].get<std::string>());
    }
    row("result", r["ok"].get<bool>() ? "ok" : "FAILED");
    if (name == "ingest" && report.contains("peers")) {
      print_peers_table(report["peers"], r, out);
    }
  }
}

/// Runs the peers under the ingest scenario's load and adds them to `report`; false if an
/// installed peer failed to run (a missing one is skipped).
bool add_peers(const sync_options& o, json& report) {
  const json* ingest = nullptr;
  for (const auto& r : report["scenarios"]) {
    if (r["name"] == "ingest") {
      ingest = &r;
    }
  }
  if (ingest == nullptr) {
    std::cerr << "tidegate bench sync: the ingest scenario did not run, so neither do the peers\n";
    return false;
  }
  peer_ingest_options p{o.duration_s, o.publishers, o.batch, o.payload_bytes, o.clients};
  auto peers = run_peers(p);
  report["peers"] = peers_json(peers, p, (*ingest)["acked_ops_per_s"].get<double>(),
                               (*ingest)["node_cpu_us_per_op"].get<double>());
  return std::all_of(peers.begin(), peers.end(), [](const auto& r) { return r.ok(); });
}

}  // namespace

int run_sync_bench(const sync_options& opts) {
  ::signal(SIGPIPE, SIG_IGN);
  auto exe = self_executable();
  if (exe.empty()) {
    std::cerr << "tidegate bench sync: cannot read /proc/self/exe\n";
    return 1;
  }
  if (raise_open_files_limit() < uint64_t{opts.clients} + 256) {
    std::cerr << "tidegate bench sync: --clients " << opts.clients
              << " needs more open files than RLIMIT_NOFILE allows\n";
    return 1;
  }
  if (opts.scenario == "connect") {  // not part of "all": it has a report of its own
    return run_connect_bench(opts, exe);
  }
  std::vector<std::string> names;
  if (opts.scenario == "ingest" || opts.scenario == "all") {
    names.emplace_back("ingest");
  }
  if (opts.scenario == "latency" || opts.scenario == "all") {
    names.emplace_back("latency");
  }
  json report{{"scenario", "sync"}, {"machine", machine_line()}, {"scenarios", json::array()}};
  bool ok = true;
  for (const auto& name : names) {
    auto r = run_scenario(opts, name, exe);
    if (!r) {
      ok = false;
      continue;
    }
    ok = ok && (*r)["ok"].get<bool>();
    report["scenarios"].push_back(std::move(*r));
  }
  if (opts.peers) {
    ok = add_peers(opts, report) && ok;
  }
  report["ok"] = ok;
  if (opts.json) {
    std::cout << report.dump() << std::endl;
  } else {
    print_sync_table(report);
  }
  return ok ? 0 : 1;
}

}  // namespace tidegate::bench
