// `tidegate bench SCENARIO`: load scenarios against a real node over loopback (bench/load/).
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>

#include "apps/commands.h"
#include "bench/load/connections_bench.h"
#include "bench/load/connections_worker.h"
#include "bench/load/failover_bench.h"
#include "bench/load/fanout_bench.h"
#include "bench/load/sync_bench.h"

namespace tidegate::apps {
namespace {

void add_connections_command(CLI::App& bench, command_runner& run) {
  auto opts = std::make_shared<bench::connections_options>();
  auto worker = std::make_shared<bench::worker_options>();
  auto worker_index = std::make_shared<int64_t>(-1);
  auto* cmd = bench.add_subcommand(
      "connections", "Open N idle connections; report handshakes/s, server RSS and CPU each");
  cmd->add_option("--n", opts->connections, "Connections to open")
      ->required()
      ->check(CLI::Range(uint32_t{1}, uint32_t{1'000'000}));
  auto* workers = cmd->add_option("--workers", opts->workers,
                                  "Client processes (default: one per 15000 connections)")
                      ->check(CLI::Range(uint32_t{1}, uint32_t{1000}));
  cmd->add_option("--hold", opts->hold_s, "Seconds to hold the idle connections")
      ->capture_default_str()
      ->check(CLI::Range(uint32_t{1}, uint32_t{3600}));
  cmd->add_option("--rate", opts->rate, "Also run a phase that connects at this many per second")
      ->check(CLI::Range(1.0, 1e6));
  cmd->add_option("--concurrency", opts->concurrency,
                  "Connects in flight in the unpaced phase (all workers)")
      ->capture_default_str()
      ->check(CLI::Range(uint32_t{1}, uint32_t{1'000'000}));
  cmd->add_option("--timeout", opts->timeout_s, "Seconds allowed for the unpaced connect phase")
      ->capture_default_str()
      ->check(CLI::Range(uint32_t{1}, uint32_t{3600}));
  auto* config =
      cmd->add_option("--node-config", opts->node_config, "Run the node from this TOML file")
          ->check(CLI::ExistingFile);
  auto* connect = cmd->add_option("--connect", opts->connect,
                                  "HOST:PORT of a running node (with --server-pid, --secret)");
  auto* pid = cmd->add_option("--server-pid", opts->server_pid, "Pid of the node at --connect")
                  ->check(CLI::PositiveNumber);
  cmd->add_option("--app", opts->app_id, "App id to log in to (default: bench)");
  auto* secret = cmd->add_option("--secret", opts->secret, "That app's token secret");
  cmd->add_flag("--json", opts->json, "Print one JSON object instead of a table");
  config->excludes(connect)->excludes(pid)->excludes(secret);
  connect->needs(pid)->needs(secret);
  pid->needs(connect);
  secret->needs(connect);
  // Internal: the client processes the command spawns; an empty group hides them from --help.
  auto* as_worker = cmd->add_option("--worker", *worker_index)->group("");
  cmd->add_option("--address", worker->address)->group("")->needs(as_worker);
  cmd->add_option("--heartbeat-ms", worker->heartbeat_ms)->group("")->needs(as_worker);
  cmd->add_option("--lifetime", worker->lifetime_s)->group("")->needs(as_worker);
  cmd->callback([opts, worker, worker_index, workers, &run] {
    if (*worker_index >= 0) {
      worker->index = static_cast<uint32_t>(*worker_index);
      worker->connections = opts->connections;
      worker->app_id = opts->app_id;
      // Read once, before any thread starts.
      const char* secret_env =
          std::getenv("TIDEGATE_BENCH_SECRET");  // NOLINT(concurrency-mt-unsafe)
      worker->secret = secret_env != nullptr ? secret_env : "";
      run = [worker] { return bench::run_connections_worker(*worker); };
      return;
    }
    if (workers->count() != 0 && opts->workers > opts->connections) {
      throw CLI::ValidationError("--workers", "must not exceed --n");
    }
    run = [opts] { return bench::run_connections_bench(*opts); };
  });
}

void add_sync_command(CLI::App& bench, command_runner& run) {
  auto opts = std::make_shared<bench::sync_options>();
  auto* cmd = bench.add_subcommand(
      "sync", "Publish SYNC ops over HTTP to online clients; report ops/s and delivery latency");
  cmd->add_option("--scenario", opts->scenario,
                  "ingest (batches back to back), latency (ops paced at --rate), all (both), "
                  "or connect (node CPU per connect+sync: bucketed vs a bucket per business)")
      ->capture_default_str()
      ->check(CLI::IsMember({"ingest", "latency", "all", "connect"}));
  cmd->add_option("--duration", opts->duration_s, "Seconds of publishing per scenario")
      ->capture_default_str()
      ->check(CLI::Range(uint32_t{1}, uint32_t{600}));
  cmd->add_option("--publishers", opts->publishers, "HTTP publisher threads")
      ->capture_default_str()
      ->check(CLI::Range(uint32_t{1}, uint32_t{64}));
  cmd->add_option("--batch", opts->batch,
                  "Ops per POST /v1/sync/ops:batch (ingest; 1 = /v1/sync/ops)")
      ->capture_default_str()
      ->check(CLI::Range(uint32_t{1}, uint32_t{1000}));
  cmd->add_option("--clients", opts->clients, "Online SDK clients (users u0..uN-1)")
      ->capture_default_str()
      ->check(CLI::Range(uint32_t{1}, uint32_t{19'000}));
  cmd->add_option("--rate", opts->rate, "Ops per second (latency)")
      ->capture_default_str()
      ->check(CLI::Range(1.0, 1e6));
  cmd->add_option("--latency-batch", opts->latency_batch,
                  "Ops per paced publish (latency; 1 = /v1/sync/ops, else :batch)")
      ->capture_default_str()
      ->check(CLI::Range(uint32_t{1}, uint32_t{1000}));
  cmd->add_option("--durability", opts->durability, "The node's [storage] durability")
      ->capture_default_str()
      ->check(CLI::IsMember({"fsync", "periodic"}));
  cmd->add_option("--payload-bytes", opts->payload_bytes, "Bytes per op payload")
      ->capture_default_str()
      ->check(CLI::Range(uint32_t{32}, uint32_t{65'536}));
  cmd->add_flag("--peers", opts->peers,
                "After ingest, run its load on nats-server (JetStream) and redis-server (XADD)");
  cmd->add_option("--businesses", opts->businesses,
                  "Businesses b0..bN-1 over the default buckets (connect)")
      ->capture_default_str()
      ->check(CLI::Range(uint32_t{1}, uint32_t{245}));  // the baseline's bucket ids: 10..254
  cmd->add_option("--rounds", opts->rounds,
                  "Measured rounds of --clients connects, after a warm-up round (connect)")
      ->capture_default_str()
      ->check(CLI::Range(uint32_t{1}, uint32_t{100}));
  cmd->add_flag("--json", opts->json, "Print one JSON object instead of a table");
  cmd->callback([opts, &run] {
    if (opts->peers && (opts->scenario == "latency" || opts->scenario == "connect")) {
      throw CLI::ValidationError("--peers", "compares with the ingest scenario only");
    }
    run = [opts] { return bench::run_sync_bench(*opts); };
  });
}

void add_fanout_command(CLI::App& bench, command_runner& run) {
  auto opts = std::make_shared<bench::fanout_bench_options>();
  auto* cmd = bench.add_subcommand(
      "fanout", "One topic, S online followers: deliveries/s, publish->last-delivery latency, CPU");
  cmd->add_option("--subscribers", opts->subscribers,
                  "Online followers S; several values run one after the other (at most 19000: "
                  "the harness holds every socket in one process)")
      ->capture_default_str()
      ->check(CLI::Range(uint32_t{1}, uint32_t{19'000}));
  cmd->add_option("--window", opts->window, "Messages published but not yet delivered to all")
      ->capture_default_str()
      ->check(CLI::Range(uint32_t{1}, uint32_t{100'000}));
  cmd->add_option("--batch", opts->batch, "Messages per POST /v1/topics/messages:batch at most")
      ->capture_default_str()
      ->check(CLI::Range(uint32_t{1}, uint32_t{1000}));
  cmd->add_option("--payload-bytes", opts->payload_bytes, "Bytes per message")
      ->capture_default_str()
      ->check(CLI::Range(uint32_t{16}, uint32_t{65'536}));
  cmd->add_option("--duration", opts->duration_s, "Measured seconds per run, after 1 s warm-up")
      ->capture_default_str()
      ->check(CLI::Range(1.0, 600.0));
  cmd->add_option("--rate", opts->rate,
                  "Messages per second at most (0: as fast as the window allows)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1e7));
  cmd->add_option("--threads", opts->threads, "Subscriber threads of the harness")
      ->capture_default_str()
      ->check(CLI::Range(uint32_t{1}, uint32_t{16}));
  cmd->add_option("--durability", opts->durability, "The node's [storage] durability")
      ->capture_default_str()
      ->check(CLI::IsMember({"fsync", "periodic"}));
  cmd->add_flag("--peers", opts->peers,
                "Run the same workload on nats-server, redis-server and mosquitto (QoS 0, 1)");
  cmd->add_flag("--json", opts->json, "Print JSON instead of tables");
  cmd->callback([opts, &run] { run = [opts] { return bench::run_fanout_bench(*opts); }; });
}

void add_diffusion_command(CLI::App& bench, command_runner& run) {
  auto opts = std::make_shared<bench::diffusion_bench_options>();
  auto* cmd = bench.add_subcommand(
      "diffusion",
      "One publish to F offline followers: read diffusion against write diffusion (storage)");
  cmd->add_option("--followers", opts->followers, "F; several values run one after the other")
      ->capture_default_str()
      ->check(CLI::Range(uint64_t{1}, uint64_t{10'000'000}));
  cmd->add_option("--payload-bytes", opts->payload_bytes, "Bytes per message")
      ->capture_default_str()
      ->check(CLI::Range(uint32_t{1}, uint32_t{65'536}));
  cmd->add_flag("--json", opts->json, "Print JSON instead of a line per F");
  cmd->callback([opts, &run] { run = [opts] { return bench::run_diffusion_bench(*opts); }; });
}

void add_failover_command(CLI::App& bench, command_runner& run) {
  auto opts = std::make_shared<bench::failover_options>();
  auto* cmd = bench.add_subcommand(
      "failover",
      "3 nodes on loopback: replicated vs single-node ingest, then SIGKILL (or SIGSTOP) of the "
      "node the clients are on: detection, promotion, RTO, reconnect and resync times");
  cmd->add_option("--clients", opts->clients, "Online SDK clients on the killed node")
      ->capture_default_str()
      ->check(CLI::Range(uint32_t{1}, uint32_t{18'000}));
  cmd->add_option("--duration", opts->duration_s, "Seconds of ingest, single node and cluster each")
      ->capture_default_str()
      ->check(CLI::Range(uint32_t{1}, uint32_t{600}));
  cmd->add_option("--publishers", opts->publishers, "HTTP publisher threads")
      ->capture_default_str()
      ->check(CLI::Range(uint32_t{1}, uint32_t{64}));
  cmd->add_option("--batch", opts->batch, "Ops per POST /v1/sync/ops:batch")
      ->capture_default_str()
      ->check(CLI::Range(uint32_t{1}, uint32_t{1000}));
  cmd->add_option("--durability", opts->durability, "The nodes' [storage] durability")
      ->capture_default_str()
      ->check(CLI::IsMember({"fsync", "periodic"}));
  cmd->add_option("--heartbeat-ms", opts->heartbeat_ms, "[cluster] heartbeat_ms")
      ->capture_default_str()
      ->check(CLI::Range(uint32_t{10}, uint32_t{10'000}));
  cmd->add_option("--failure-timeout-ms", opts->failure_timeout_ms, "[cluster] failure_timeout_ms")
      ->capture_default_str()
      ->check(CLI::Range(uint32_t{20}, uint32_t{60'000}));
  cmd->add_option("--signal", opts->signal,
                  "kill: SIGKILL n1; stop: SIGSTOP n1 (a hung host or a partition), then "
                  "SIGCONT once its clients resynced elsewhere")
      ->capture_default_str()
      ->check(CLI::IsMember({"kill", "stop"}));
  cmd->add_option("--client-heartbeat-ms", opts->client_heartbeat_ms,
                  "The clients' ping interval (0: 120000 with kill, 2000 with stop)")
      ->capture_default_str()
      ->check(CLI::Range(uint32_t{0}, uint32_t{600'000}));
  cmd->add_option("--client-pong-timeout-ms", opts->client_pong_timeout_ms,
                  "How late a pong may be before a client reconnects (0: 10000 with kill, 3000 "
                  "with stop)")
      ->capture_default_str()
      ->check(CLI::Range(uint32_t{0}, uint32_t{600'000}));
  cmd->add_flag("--json", opts->json, "Print one JSON object instead of a table");
  cmd->callback([opts, &run] {
    if (opts->failure_timeout_ms < 2 * opts->heartbeat_ms) {
      throw CLI::ValidationError("--failure-timeout-ms", "must be at least twice --heartbeat-ms");
    }
    run = [opts] { return bench::run_failover_bench(*opts); };
  });
}

}  // namespace

void add_bench_command(CLI::App& root, command_runner& run) {
  auto* cmd = root.add_subcommand("bench", "Load scenarios against a real node over loopback");
  cmd->require_subcommand(1);
  add_connections_command(*cmd, run);
  add_sync_command(*cmd, run);
  add_fanout_command(*cmd, run);
  add_diffusion_command(*cmd, run);
  add_failover_command(*cmd, run);
}

}  // namespace tidegate::apps
