#include "actors/node/node.h"

#include <unistd.h>

#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>

#include "actors/admin/http_server.h"
#include "actors/atoms.h"
#include "actors/config/config_file.h"
#include "actors/config/endpoint.h"
#include "actors/gateway/admission.h"
#include "actors/gateway/gateway_io.h"
#include "actors/gateway/listen_socket.h"
#include "actors/gateway/session_registry.h"
#include "actors/ingress/ingress_routes.h"
#include "actors/names.h"
#include "actors/node/cluster_routes.h"
#include "actors/node/dispatch_route.h"
#include "actors/node/error_renderers.h"
#include "actors/node/json_replies.h"
#include "actors/node/supervisor.h"
#include "actors/sync/delivery_outbox.h"
#include "actors/sync/replica_catchup.h"
#include "actors/sync/replica_outbox.h"
#include "actors/sync/replica_sink.h"
#include "actors/sync/storage_writer.h"
#include "actors/sync/sync_errc.h"
#include "actors/sync/sync_router.h"
#include "actors/topics/topic_directory.h"
#include "actors/topics/topic_messages.h"
#include "actors/topics/topic_relay.h"
#include "cluster/cluster_atoms.h"
#include "cluster/controller.h"
#include "cluster/membership.h"
#include "storage/lmdb_env.h"
#include "storage/oplog_store.h"

#include <nlohmann/json.hpp>

namespace tidegate::actors {
namespace {

// What the storage_writer's maintenance enforces, from the buckets' policies.
retention_list retention_of(const sync_config& sync) {
  retention_list out;
  for (const auto& bucket : sync.buckets) {
    out.emplace_back(bucket.id, bucket.retention);
  }
  out.emplace_back(topic_bucket_id, sync.topics.retention);
  return out;
}

bool load_apps(const node_config& cfg, gateway_context& ctx, std::string& error) {
  for (const auto& app : cfg.apps) {
    app_entry entry;
    entry.secret = app.secret;
    if (!app.zstd_dictionary.empty()) {
      std::ifstream in{app.zstd_dictionary, std::ios::binary};
      if (!in) {
        error = "app " + app.id + ": cannot read zstd_dictionary " + app.zstd_dictionary;
        return false;
      }
      std::stringstream bytes;
      bytes << in.rdbuf();
      std::string why;
      entry.dictionary = protocol::zstd_dictionary::load(bytes.str(), 3, why);
      if (!entry.dictionary) {
        error = "app " + app.id + ": zstd_dictionary " + app.zstd_dictionary + ": " + why;
        return false;
      }
    }
    ctx.apps.emplace(app.id, std::move(entry));
  }
  return true;
}

}  // namespace

std::unique_ptr<node> node::start(const node_config& cfg, std::string& error) {
  std::unique_ptr<node> n{new node};
  n->ctx_ = std::make_shared<gateway_context>();
  auto& ctx = *n->ctx_;
  ctx.node_id = cfg.node_id;
  ctx.config = cfg.gateway;
  if (!cfg.storage.data_dir.empty()) {
    storage::env_options options;
    options.map_size = cfg.storage.map_size;
    options.max_map_size = cfg.storage.max_map_size;
    options.mode = cfg.storage.fsync ? storage::durability::fsync : storage::durability::periodic;
    auto env = storage::lmdb_env::open(cfg.storage.data_dir, options);
    if (!env) {
      error = "storage.data_dir " + cfg.storage.data_dir + ": " + env.error().detail;
      return nullptr;
    }
    n->env_ = std::move(*env);
    n->store_ = std::make_unique<storage::oplog_store>(*n->env_);
    n->deliveries_ = std::make_unique<storage::delivery_store>(*n->env_);
    n->follows_ = std::make_unique<storage::follow_store>(*n->env_);
    ctx.set_sync(std::make_shared<const sync_config>(cfg.sync));  // without storage: none
  }
  if (!load_apps(cfg, ctx, error)) {
    return nullptr;
  }
  size_t fd_limit = raise_fd_limit();
  ctx.max_connections =
      connection_cap(cfg.gateway.max_connections, fd_limit, cfg.gateway.fd_headroom);
  if (ctx.max_connections == 0) {
    error = "open-files limit " + std::to_string(fd_limit) + " leaves no room after fd_headroom "
            + std::to_string(cfg.gateway.fd_headroom);
    return nullptr;
  }
  // Bind first, so a bad or busy address is reported before anything else starts.
  auto first = open_listen_socket(cfg.gateway.listen.host, cfg.gateway.listen.port,
                                  cfg.gateway.socket_send_buffer);
  if (first.fd < 0) {
    error = "gateway.listen: " + first.error;
    return nullptr;
  }
  n->client_port_ = first.port;
  n->system_config_ = std::make_unique<caf::actor_system_config>();
  auto& sys_cfg = *n->system_config_;
  sys_cfg.load<caf::io::middleman>();
  auto threads = cfg.scheduler_threads != 0 ? cfg.scheduler_threads
                                            : std::max(1u, std::thread::hardware_concurrency());
  sys_cfg.set("scheduler.max-threads", static_cast<size_t>(threads));
  sys_cfg.set("logger.verbosity", caf::atom("quiet"));
  // With `node.scheduler = "stealing"`: an idle CAF worker first polls its queue, then (by
  // default) sleeps 50 us between 500 more polls before it waits on its condition variable.
  // With 10k quiet sessions that nanosleep loop alone cost a third of a core; after 20 polls
  // the worker waits (an enqueue from outside wakes it). Loaded throughput and latency
  // measured the same (docs/benchmarks.md).
  sys_cfg.set("work-stealing.moderate-poll-attempts", size_t{20});
  // One shared queue that idle workers wait on (decision 0023): no polling sleeps between a
  // message and the worker that runs it, which the multi-hop replicated write path pays for.
  sys_cfg.set("scheduler.policy",
              cfg.scheduler == "stealing" ? caf::atom("stealing") : caf::atom("sharing"));
  add_error_renderers(sys_cfg);
  cluster::add_message_types(sys_cfg);
  add_sync_message_types(sys_cfg);
  add_topic_message_types(sys_cfg);
  n->system_ = std::make_unique<caf::actor_system>(sys_cfg);
  if (cfg.cluster.enabled) {
    n->cluster_ = std::make_shared<cluster::cluster_status>();
    ctx.zone_redirect = zone_redirect_of(cfg, n->cluster_, n->ctx_);
  }

  n->http_ = std::make_unique<http_server>(
      cfg.http.host, cfg.http.port, [ctx = n->ctx_, status = n->cluster_] {
        auto text = render_prometheus(ctx->metrics, ctx->node_id);
        return status ? text + cluster::render_cluster_metrics(status->snapshot(), *status->map())
                      : text;
      });
  if (n->store_) {
    ingress_config icfg;
    icfg.apps = cfg.apps;
    icfg.limits.max_payload_bytes = cfg.sync.max_payload_bytes;
    if (auto status = n->cluster_) {
      icfg.refuse_writes = [status]() -> std::optional<std::string> {
        if (status->writable()) {
          return std::nullopt;
        }
        auto s = status->snapshot();
        return "this node sees " + std::to_string(s.reachable) + " of the "
               + std::to_string(s.known)
               + " known cluster members, not a majority: it accepts no writes until it does";
      };
    }
    register_ingress_routes(*n->http_, *n->system_, std::move(icfg));
  }
  if (n->cluster_) {
    register_cluster_routes(*n->http_, n->cluster_, cfg.sync.shards);
  }
  n->http_->handle("GET", "/v1/dispatch",
                   [setup = dispatch_setup_of(cfg, n->cluster_, n->ctx_, n->client_port_)](
                       const http_request& req) { return answer_dispatch(req, setup); });
  n->http_->handle("POST", "/admin/reload",
                   [self = n.get()](const http_request& req) { return self->reload_request(req); });
  if (auto err = n->http_->start()) {
    ::close(first.fd);
    error = "http.listen: " + *err;
    n->http_.reset();
    n->system_.reset();
    return nullptr;
  }

  auto pending_fd = std::make_shared<int>(first.fd);
  auto host = cfg.gateway.listen.host;
  auto port = first.port;
  auto send_buffer = cfg.gateway.socket_send_buffer;
  auto ctx_ptr = n->ctx_;
  std::vector<child_spec> children;
  if (n->store_) {
    writer_config wcfg;
    wcfg.sync_interval_ms = cfg.storage.sync_interval_ms;
    wcfg.retention = retention_of(cfg.sync);
    wcfg.receipt_ttl_ms = cfg.sync.dedupe_ttl_ms;  // receipts are found through the msg_id
    wcfg.dead_letter_ttl_ms = cfg.sync.dead_letter_ttl_ms;
    wcfg.refuse = n->sealed_write_fence();
    children.push_back(
        {"writer", [env = n->env_.get(), store = n->store_.get(), wcfg](caf::actor_system& sys) {
           return spawn_storage_writer(sys, *env, *store, wcfg);  // names itself
         }});
    auto sync_ctx = std::make_shared<sync_context>();
    sync_ctx->config = cfg.sync;
    sync_ctx->store = n->store_.get();
    sync_ctx->deliveries = n->deliveries_.get();
    sync_ctx->follows = n->follows_.get();
    n->set_cluster_routes(*sync_ctx);
    children.push_back(
        {"sync", [sync_ctx](caf::actor_system& sys) { return spawn_sync_router(sys, sync_ctx); }});
    children.push_back({"replica", [sync_ctx](caf::actor_system& sys) {
                          return spawn_replica_sink(sys, sync_ctx);
                        }});
    if (cfg.cluster.enabled) {
      children.push_back(
          {"outbox", [](caf::actor_system& sys) { return spawn_replica_outbox(sys); }});
      children.push_back({"peerpush", [sync_ctx](caf::actor_system& sys) {
                            return spawn_delivery_outbox(sys, sync_ctx);
                          }});
      children.push_back({"catchup", [sync_ctx](caf::actor_system& sys) {
                            return spawn_replica_catchup(sys, sync_ctx,
                                                         std::chrono::milliseconds(500));
                          }});
    }
    children.push_back({"topics", [sync_ctx](caf::actor_system& sys) {
                          return spawn_topic_directory(sys, sync_ctx);
                        }});
    children.push_back({"relay", [sync_ctx, node_id = cfg.node_id](caf::actor_system& sys) {
                          return spawn_topic_relay(sys, sync_ctx, node_id);
                        }});
  }
  children.push_back({"sessions", [ctx_ptr](caf::actor_system& sys) {
                        return spawn_session_registry(sys, ctx_ptr);
                      }});
  children.push_back(
      {"gateway", [pending_fd, host, port, send_buffer, ctx_ptr](caf::actor_system& sys) {
         int fd = *pending_fd;
         *pending_fd = -1;
         if (fd < 0) {  // a restart: the old doorman closed its socket
           auto again = open_listen_socket(host, port, send_buffer);
           if (again.fd < 0) {
             std::cerr << "tidegate: gateway restart: " << again.error << "\n";
             return caf::actor{};
           }
           fd = again.fd;
         }
         return spawn_gateway_io(sys, fd, ctx_ptr);
       }});
  n->supervisor_ = spawn_supervisor(
      *n->system_, cfg.supervisor, std::move(children), [ctx_ptr](const std::string&) {
        ctx_ptr->metrics.session_restarts.fetch_add(1, gateway_metrics::relaxed);
      });
  // Returns only once every child runs and the gateway accepts: callers may connect and
  // publish at once, and a node stopped right after start never races the set-up.
  auto gateway = n->child("gateway");
  bool up = false;
  if (gateway) {
    caf::scoped_actor self{*n->system_};
    self->request(gateway, std::chrono::seconds(10), caf::get_atom_v)
        .receive([&](caf::ok_atom) { up = true; },
                 [&](caf::error& err) { error = "gateway: " + n->system_->render(err); });
  } else {
    error = "the gateway did not start (see the supervisor's log line)";
  }
  if (!up) {
    return nullptr;
  }
  if (cfg.cluster.enabled) {
    if (error = n->start_membership(cfg); !error.empty()) {
      return nullptr;
    }
  }
  return n;
}

std::string node::reload(const node_config& cfg) {
  if (!store_) {
    return "this node has no [storage]: nothing to reload";
  }
  auto router = sync_router_of(*system_);
  if (!router) {
    return "the sync router is not running";
  }
  auto next = std::make_shared<sync_context>();
  next->config = cfg.sync;
  next->store = store_.get();
  next->deliveries = deliveries_.get();
  next->follows = follows_.get();
  set_cluster_routes(*next);
  std::string error;
  caf::scoped_actor self{*system_};
  self->request(router, std::chrono::seconds(10), reload_atom_v, sync_context_ptr{next})
      .receive([](caf::ok_atom) {}, [&](caf::error& err) { error = system_->render(err); });
  if (!error.empty()) {
    return error;
  }
  ctx_->set_sync(std::make_shared<const sync_config>(cfg.sync));  // what SYNC_REQ reads
  if (auto topics = topic_directory_of(*system_)) {
    self->send(topics, reload_atom_v, sync_context_ptr{next});
  }
  if (auto sink = replica_sink_of(*system_)) {
    self->send(sink, reload_atom_v, sync_context_ptr{next});
  }
  if (auto writer = storage_writer_of(*system_)) {
    self->request(writer, std::chrono::seconds(10), reload_atom_v, retention_of(cfg.sync))
        .receive([](caf::ok_atom) {},
                 [&](caf::error& err) {
                   // The buckets already changed; the old retention stays until the next reload.
                   std::cerr << "tidegate: reload: retention not applied: " << system_->render(err)
                             << "\n";
                 });
  }
  return error;
}

http_reply node::reload_request(const http_request& req) {
  if (req.remote_addr != "127.0.0.1" && req.remote_addr != "::1") {
    return error_reply(403, "forbidden", "reload is only accepted from the loopback interface");
  }
  std::string path;
  {
    std::lock_guard<std::mutex> guard(reload_mutex_);
    path = config_path_;
  }
  if (path.empty()) {
    return error_reply(409, "no_config_file", "this node was not started from a config file");
  }
  auto loaded = load_node_config(path);
  if (loaded.error) {
    return error_reply(400, "bad_config", loaded.error->to_string());
  }
  if (auto why = reload(*loaded.config); !why.empty()) {
    return error_reply(409, "not_reloadable", why);
  }
  return json_reply(200, {{"code", "ok"}, {"message", "reloaded " + path}});
}

void node::set_config_path(std::string path) {
  std::lock_guard<std::mutex> guard(reload_mutex_);
  config_path_ = std::move(path);
}

node::~node() {
  stop();
}

uint16_t node::http_port() const {
  return http_ ? http_->port() : 0;
}

std::string node::metrics_text() const {
  return render_prometheus(ctx_->metrics, ctx_->node_id);
}

caf::actor node::child(const std::string& name) {
  caf::actor result;
  caf::scoped_actor self{*system_};
  self->request(supervisor_, std::chrono::seconds(5), caf::get_atom_v, name)
      .receive([&](caf::actor& child) { result = std::move(child); }, [](caf::error&) {});
  return result;
}

void node::stop_accepting() {
  if (auto gateway = child("gateway")) {
    caf::scoped_actor self{*system_};
    self->send(gateway, drain_atom_v);
    // A barrier: the reply comes after the drain was handled (one mailbox, in order).
    self->request(gateway, std::chrono::seconds(5), caf::get_atom_v)
        .receive([](caf::ok_atom) {}, [](caf::error&) {});
  }
}

uint64_t node::drain() {
  stop_accepting();
  caf::scoped_actor self{*system_};
  auto timeout = std::chrono::milliseconds(ctx_->config.drain_window_ms
                                           + ctx_->config.soft_disconnect_grace_ms + 5000);
  uint64_t drained = 0;
  if (auto registry = session_registry_of(*system_)) {
    self->request(registry, timeout, drain_atom_v, ctx_->config.drain_window_ms)
        .receive([&](uint64_t n) { drained = n; },
                 [&](caf::error& err) {
                   std::cerr << "tidegate: drain: " << system_->render(err) << "\n";
                 });
  }
  return drained;
}

void node::stop() {
  if (!system_) {
    return;
  }
  if (http_) {
    http_->stop();  // its handlers use the actor system: they end first
  }
  if (membership_) {
    caf::scoped_actor self{*system_};
    self->request(membership_, std::chrono::seconds(2), cluster::leave_atom_v)
        .receive([](caf::ok_atom) {}, [](caf::error&) {});
    caf::anon_send_exit(membership_, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(controller_, caf::exit_reason::user_shutdown);
    membership_ = nullptr;
    controller_ = nullptr;
  }
  stop_accepting();  // closes the listening socket before the middleman goes away
  {
    // Wait until the supervisor and the gateway (and so every socket) are gone.
    caf::scoped_actor self{*system_};
    int waiting = 0;
    for (auto& who : {child("gateway"), supervisor_}) {
      if (who) {
        self->monitor(who);
        ++waiting;
      }
    }
    caf::anon_send_exit(supervisor_, caf::exit_reason::user_shutdown);
    for (int i = 0; i < waiting; ++i) {
      self->receive([](caf::down_msg&) {}, caf::after(std::chrono::seconds(10)) >> [] {});
    }
  }
  supervisor_ = nullptr;
  system_.reset();  // waits for every actor; brokers close with the middleman
  system_config_.reset();
  deliveries_.reset();
  store_.reset();
  env_.reset();
  http_.reset();
}

}  // namespace tidegate::actors
