#include "bench/load/connections_bench.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdlib>  // mkdtemp (POSIX, declared by glibc here)
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "actors/config/config_file.h"
#include "bench/load/connections_report.h"
#include "bench/load/proc_stats.h"
#include "bench/load/process.h"
#include "bench/load/scratch_dir.h"

#include <nlohmann/json.hpp>

namespace tidegate::bench {
namespace {

using json = nlohmann::json;
using steady = std::chrono::steady_clock;
using std::chrono::seconds;

constexpr auto node_start_timeout = seconds{30};
constexpr auto settle_time = std::chrono::milliseconds{1500};
constexpr auto baseline_time = std::chrono::seconds{5};

/// The node under test: one we spawned (and stop), or one the user runs.
struct server {
  std::string address;  // host:port the workers connect to
  pid_t pid = 0;
  std::string app_id;
  std::string secret;
  uint64_t max_connections = 0;            // 0 = unknown
  uint32_t handshake_timeout_ms = 10'000;  // the default when we cannot read the config
  std::unique_ptr<process> child;
  std::string log_path;
};

/// A worker's answer line "verb k=v k=v ...".
using fields = std::map<std::string, std::string>;

fields parse_fields(const std::string& line) {
  fields out;
  std::istringstream in{line};
  std::string token;
  in >> token;
  out["verb"] = token;
  while (in >> token) {
    auto eq = token.find('=');
    if (eq != std::string::npos) {
      out[token.substr(0, eq)] = token.substr(eq + 1);
    }
  }
  return out;
}

int64_t field_int(const fields& f, const std::string& key) {
  auto it = f.find(key);
  return it == f.end() ? 0 : std::stoll(it->second);
}

// The temp dir goes when the command ends, so the log is shown, not named.
void print_log(const std::string& path) {
  std::ifstream log{path};
  std::string text{std::istreambuf_iterator<char>{log}, std::istreambuf_iterator<char>{}};
  constexpr size_t tail = 8192;
  std::cerr << (text.size() > tail ? text.substr(text.size() - tail) : text) << "\n";
}

std::string write_node_config(const std::filesystem::path& dir, const std::string& app,
                              const std::string& secret) {
  auto path = (dir / "node.toml").string();
  std::ofstream out{path};
  // Idle connections stay: the workers' fixed heartbeat (>= 60 s) times the idle margin is far
  // beyond the hold. No accept limiter; 512 fds of headroom, so RLIMIT 20000 caps at 19488.
  out << "[node]\nid = \"bench\"\n\n"
      << "[gateway]\nlisten = \"127.0.0.1:0\"\nfd_headroom = 512\naccept_rate = 0\n"
      << "heartbeat_min_ms = 1000\nheartbeat_max_ms = 600000\nidle_margin = 3.0\n"
      << "handshake_timeout_ms = 10000\ndrain_window_ms = 500\n\n"
      << "[http]\nlisten = \"127.0.0.1:0\"\n\n"
      << "[[apps]]\nid = \"" << app << "\"\nsecret = \"" << secret << "\"\n";
  return out ? path : std::string{};
}

// Parses "tidegate node ID: clients on HOST:PORT, metrics on ..., max N connections".
bool parse_node_banner(const std::string& line, server& srv) {
  auto on = line.find("clients on ");
  auto comma = line.find(',', on);
  if (on == std::string::npos || comma == std::string::npos) {
    return false;
  }
  auto address = line.substr(on + 11, comma - on - 11);
  auto colon = address.rfind(':');
  if (colon == std::string::npos) {
    return false;
  }
  auto host = address.substr(0, colon);
  if (host == "0.0.0.0") {
    host = "127.0.0.1";
  } else if (host == "[::]") {
    host = "[::1]";
  }
  srv.address = host + address.substr(colon);
  auto max = line.rfind("max ");
  if (max != std::string::npos) {
    srv.max_connections = std::strtoull(line.c_str() + max + 4, nullptr, 10);
  }
  return true;
}

std::optional<server> start_server(const connections_options& opts, const scratch_dir& dir,
                                   const std::string& exe) {
  server srv;
  if (!opts.connect.empty()) {
    srv.address = opts.connect;
    srv.pid = opts.server_pid;
    srv.app_id = opts.app_id.empty() ? "bench" : opts.app_id;
    srv.secret = opts.secret;
    return srv;
  }
  std::string path = opts.node_config;
  if (path.empty()) {
    srv.app_id = opts.app_id.empty() ? "bench" : opts.app_id;
    srv.secret = random_secret();
    path = write_node_config(dir.path, srv.app_id, srv.secret);
    if (path.empty()) {
      std::cerr << "tidegate bench: cannot write a node config in " << dir.path << "\n";
      return std::nullopt;
    }
  } else {
    auto loaded = actors::load_node_config(path);
    if (loaded.error) {
      std::cerr << "tidegate bench: " << loaded.error->to_string() << "\n";
      return std::nullopt;
    }
    const auto& apps = loaded.config->apps;
    auto app = std::find_if(apps.begin(), apps.end(), [&](const actors::app_config& a) {
      return opts.app_id.empty() || a.id == opts.app_id;
    });
    if (app == apps.end()) {
      std::cerr << "tidegate bench: " << path << " has no app '" << opts.app_id << "'\n";
      return std::nullopt;
    }
    srv.app_id = app->id;
    srv.secret = app->secret;
    srv.handshake_timeout_ms = loaded.config->gateway.handshake_timeout_ms;
  }
  srv.log_path = (dir.path / "node.log").string();
  srv.child = std::make_unique<process>(std::vector<std::string>{exe, "node", "--config", path},
                                        std::vector<std::string>{}, srv.log_path);
  if (!srv.child->started()) {
    std::cerr << "tidegate bench: cannot start the node: " << srv.child->error() << "\n";
    return std::nullopt;
  }
  srv.pid = srv.child->pid();
  auto deadline = steady::now() + node_start_timeout;
  while (auto line = srv.child->read_line(deadline)) {
    if (parse_node_banner(*line, srv)) {
      return srv;
    }
  }
  std::cerr << "tidegate bench: the node did not report its port within "
            << node_start_timeout.count() << " s; its log:\n";
  print_log(srv.log_path);
  return std::nullopt;
}

void stop_server(server& srv) {
  if (!srv.child) {
    return;
  }
  srv.child->signal(SIGTERM);
  if (!srv.child->wait(steady::now() + seconds{30})) {
    std::cerr << "tidegate bench: the node ignored SIGTERM for 30 s; killing it\n";
    srv.child->signal(SIGKILL);
    srv.child->wait(steady::now() + seconds{10});
  }
}

struct worker_handle {
  uint32_t index = 0;
  uint32_t connections = 0;
  std::unique_ptr<process> proc;
};

/// Sends `command` to every worker, then reads each one's answer starting with `verb`.
std::vector<fields> ask_all(std::vector<worker_handle>& workers, const std::string& command,
                            const std::string& verb, steady::time_point deadline) {
  for (auto& w : workers) {
    w.proc->send_line(command);
  }
  std::vector<fields> answers;
  for (auto& w : workers) {
    fields answer;
    while (auto line = w.proc->read_line(deadline)) {
      auto f = parse_fields(*line);
      if (f["verb"] == verb) {
        answer = std::move(f);
        break;
      }
      std::cerr << "tidegate bench: worker " << w.index << ": " << *line << "\n";
    }
    answers.push_back(std::move(answer));
  }
  return answers;
}

double seconds_between(int64_t from_ns, int64_t to_ns) {
  return to_ns > from_ns ? static_cast<double>(to_ns - from_ns) / 1e9 : 0.0;
}

/// One connect phase's results over all workers.
json run_phase(std::vector<worker_handle>& workers, uint32_t id, const std::string& name,
               double rate, uint32_t concurrency, uint32_t timeout_s) {
  auto count = static_cast<uint32_t>(workers.size());
  std::ostringstream go;
  go << "go " << id << " " << rate / count << " " << (concurrency + count - 1) / count << " "
     << timeout_s;
  auto answers = ask_all(workers, go.str(), "result", steady::now() + seconds{timeout_s + 15});
  json phase{{"name", name}, {"rate_limit_per_s", rate}, {"concurrency", concurrency}};
  int64_t ready = 0;
  int64_t failed = 0;
  int64_t timeouts = 0;
  int64_t first = 0;
  int64_t last = 0;
  int64_t p50 = 0;
  int64_t p99 = 0;
  int64_t max = 0;
  std::map<std::string, int64_t> reasons;
  json per_worker = json::array();
  for (size_t i = 0; i < answers.size(); ++i) {
    auto& a = answers[i];
    if (a["verb"] != "result") {  // no answer in time: count all of its connections as lost
      timeouts += workers[i].connections;
      per_worker.push_back({{"index", i},
                            {"connections", workers[i].connections},
                            {"error", "no result before the deadline"}});
      continue;
    }
    auto r = field_int(a, "ready");
    auto w_first = field_int(a, "first_start_ns");
    auto w_last = field_int(a, "last_ready_ns");
    ready += r;
    failed += field_int(a, "failed");
    timeouts += field_int(a, "timeouts");
    first = first == 0 ? w_first : std::min(first, w_first);
    last = std::max(last, w_last);
    p50 = std::max(p50, field_int(a, "p50_us"));
    p99 = std::max(p99, field_int(a, "p99_us"));
    max = std::max(max, field_int(a, "max_us"));
    std::istringstream list{a["reasons"]};
    std::string item;
    while (std::getline(list, item, ',')) {
      auto colon = item.find(':');
      if (colon != std::string::npos) {
        reasons[item.substr(0, colon)] += std::stoll(item.substr(colon + 1));
      }
    }
    auto secs = seconds_between(w_first, w_last);
    per_worker.push_back({{"index", i},
                          {"connections", workers[i].connections},
                          {"ready", r},
                          {"seconds", secs},
                          {"handshakes_per_s", secs > 0 ? static_cast<double>(r) / secs : 0.0},
                          {"latency_p50_us", field_int(a, "p50_us")},
                          {"latency_p99_us", field_int(a, "p99_us")}});
  }
  auto secs = seconds_between(first, last);
  phase["ready"] = ready;
  phase["failed"] = failed;
  phase["timeouts"] = timeouts;
  phase["failure_reasons"] = reasons;
  phase["seconds"] = secs;
  phase["handshakes_per_s"] = secs > 0 ? static_cast<double>(ready) / secs : 0.0;
  // Worst worker's percentiles: workers do not ship every sample.
  phase["latency_us"] = {{"p50_worst_worker", p50}, {"p99_worst_worker", p99}, {"max", max}};
  phase["workers"] = per_worker;
  return phase;
}

int64_t sum_field(const std::vector<fields>& answers, const std::string& key) {
  int64_t total = 0;
  for (const auto& a : answers) {
    total += field_int(a, key);
  }
  return total;
}

}  // namespace

int run_connections_bench(const connections_options& opts) {
  ::signal(SIGPIPE, SIG_IGN);  // a dead worker must not kill us through its stdin pipe
  auto exe = self_executable();
  scratch_dir dir;
  if (exe.empty() || dir.path.empty()) {
    std::cerr << "tidegate bench: cannot find /proc/self/exe or create a temp dir\n";
    return 1;
  }
  auto srv = start_server(opts, dir, exe);
  if (!srv) {
    return 1;
  }
  if (srv->max_connections != 0 && opts.connections > srv->max_connections) {
    std::cerr << "tidegate bench: warning: the node accepts at most " << srv->max_connections
              << " connections, fewer than --n " << opts.connections << "\n";
  }
  // The node's own idle cost (metrics, CAF's threads), measured before any connection.
  std::this_thread::sleep_for(settle_time);
  auto base_cpu0 = cpu_seconds(srv->pid).value_or(0);
  auto base_t0 = steady::now();
  std::this_thread::sleep_for(baseline_time);
  auto base_pct = (cpu_seconds(srv->pid).value_or(0) - base_cpu0)
                  / std::chrono::duration<double>(steady::now() - base_t0).count() * 100.0;
  auto rss_before = resident_bytes(srv->pid);
  if (!rss_before) {
    std::cerr << "tidegate bench: cannot read /proc/" << srv->pid << "/status\n";
    stop_server(*srv);
    return 1;
  }

  uint32_t count = opts.workers != 0
                       ? opts.workers
                       : (opts.connections + connections_per_worker - 1) / connections_per_worker;
  // Idle means idle: no PING before the hold is over.
  uint32_t heartbeat_s = std::clamp<uint32_t>(opts.hold_s + 30, 60, 600);
  uint32_t paced_s = opts.rate > 0 ? static_cast<uint32_t>(opts.connections / opts.rate) + 60 : 0;
  uint32_t lifetime_s =
      opts.timeout_s + paced_s + opts.hold_s + srv->handshake_timeout_ms / 1000 + 120;
  std::vector<worker_handle> workers;
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t share = opts.connections / count + (i < opts.connections % count ? 1 : 0);
    std::vector<std::string> argv{exe,
                                  "bench",
                                  "connections",
                                  "--worker",
                                  std::to_string(i),
                                  "--n",
                                  std::to_string(share),
                                  "--address",
                                  srv->address,
                                  "--app",
                                  srv->app_id,
                                  "--heartbeat-ms",
                                  std::to_string(heartbeat_s * 1000),
                                  "--lifetime",
                                  std::to_string(lifetime_s)};
    auto proc = std::make_unique<process>(
        argv, std::vector<std::string>{"TIDEGATE_BENCH_SECRET=" + srv->secret}, "");
    if (!proc->started()) {
      std::cerr << "tidegate bench: cannot start worker " << i << ": " << proc->error() << "\n";
      stop_server(*srv);
      return 1;
    }
    workers.push_back({i, share, std::move(proc)});
  }

  json report{{"scenario", "connections"},
              {"n", opts.connections},
              {"workers", count},
              {"hold_s", opts.hold_s},
              {"machine", machine_line()},
              {"server",
               {{"pid", srv->pid},
                {"address", srv->address},
                {"spawned", srv->child != nullptr},
                {"max_connections", srv->max_connections}}}};
  json phases = json::array();
  auto burst_cpu0 = cpu_seconds(srv->pid).value_or(0);
  phases.push_back(run_phase(workers, 1, "burst", 0, opts.concurrency, opts.timeout_s));
  // The clients share the machine's cores with the node, so handshakes/s above is bounded by
  // both; CPU the node spent per handshake tells what the node alone could take.
  {
    double burst_cpu = cpu_seconds(srv->pid).value_or(0) - burst_cpu0;
    auto& burst = phases.back();
    burst["server_cpu_s"] = burst_cpu;
    burst["server_cpu_us_per_handshake"] =
        burst["ready"].get<int64_t>() > 0 ? burst_cpu * 1e6 / burst["ready"].get<double>() : 0.0;
  }

  // Each session wakes up once at its handshake deadline even after AUTH (session.cc keeps one
  // tick pending, at the handshake deadline first): let that pass, so the hold is steady idle.
  auto hold_settle = std::chrono::milliseconds{srv->handshake_timeout_ms} + settle_time;
  std::this_thread::sleep_for(hold_settle);
  auto ask_deadline = [] { return steady::now() + seconds{30}; };
  auto held_start = ask_all(workers, "count", "held", ask_deadline());
  auto rss_ready = resident_bytes(srv->pid).value_or(0);
  auto cpu0 = cpu_seconds(srv->pid).value_or(0);
  auto t0 = steady::now();
  std::this_thread::sleep_for(seconds{opts.hold_s});
  auto cpu1 = cpu_seconds(srv->pid).value_or(0);
  auto hold_secs = std::chrono::duration<double>(steady::now() - t0).count();
  auto rss_idle = resident_bytes(srv->pid).value_or(0);
  auto held_end = ask_all(workers, "count", "held", ask_deadline());

  auto ready_end = sum_field(held_end, "ready");
  bool ok = phases[0]["ready"].get<int64_t>() == opts.connections && ready_end == opts.connections;
  if (opts.rate > 0) {
    ask_all(workers, "stop", "stopped", ask_deadline());
    std::this_thread::sleep_for(seconds{2});  // the node notices the closes and frees them
    phases.push_back(run_phase(workers, 2, "paced", opts.rate, opts.connections, paced_s));
    ok = ok && phases[1]["ready"].get<int64_t>() == opts.connections;
  }
  for (auto& w : workers) {
    w.proc->send_line("exit");
    w.proc->close_stdin();
  }
  for (auto& w : workers) {
    if (!w.proc->wait(steady::now() + seconds{15})) {
      w.proc->signal(SIGKILL);
      w.proc->wait(steady::now() + seconds{5});
    }
  }
  if (srv->child && srv->child->wait(steady::now())) {
    std::cerr << "tidegate bench: the node exited during the run; its log:\n";
    print_log(srv->log_path);
    ok = false;
  }
  stop_server(*srv);

  double cpu = cpu1 - cpu0;
  double pct = hold_secs > 0 ? cpu / hold_secs * 100.0 : 0.0;
  double held = static_cast<double>(std::max<int64_t>(sum_field(held_start, "ready"), 1));
  double delta = static_cast<double>(rss_idle) - static_cast<double>(*rss_before);
  double per_conn = delta / static_cast<double>(opts.connections);
  report["phases"] = phases;
  report["server_rss"] = {{"before_bytes", *rss_before},
                          {"ready_bytes", rss_ready},
                          {"idle_bytes", rss_idle},
                          {"per_connection_bytes", per_conn},
                          {"per_connection_kib", per_conn / 1024.0}};
  report["hold"] = {{"seconds", hold_secs},
                    {"settle_s", std::chrono::duration<double>(hold_settle).count()},
                    {"ready_at_start", sum_field(held_start, "ready")},
                    {"ready_at_end", ready_end},
                    {"server_cpu_s", cpu},
                    {"cpu_pct_of_one_core", pct},
                    {"cpu_pct_per_1k_connections", pct / (held / 1000.0)},
                    {"baseline_cpu_pct_of_one_core", base_pct},
                    {"cpu_pct_per_1k_connections_net", (pct - base_pct) / (held / 1000.0)}};
  report["client_rss_bytes"] = sum_field(held_end, "rss");
  report["ok"] = ok;
  if (opts.json) {
    std::cout << report.dump() << std::endl;
  } else {
    print_table(report);
  }
  return ok ? 0 : 1;
}

}  // namespace tidegate::bench
