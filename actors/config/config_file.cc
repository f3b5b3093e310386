#include "actors/config/config_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <optional>
#include <sstream>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <toml++/toml.h>

#include "actors/config/endpoint.h"
#include "actors/config/sections.h"
#include "actors/config/toml_checker.h"

namespace tidegate::actors {
namespace {

using namespace config_detail;

void read_node(checker& c, const toml::table& root, node_config& cfg) {
  const toml::table* node = c.table(root, "", "node", /*required=*/true);
  if (node == nullptr) {
    return;
  }
  c.only_keys(*node, "node", {"id", "scheduler_threads", "scheduler"});
  if (auto* id = c.string(*node, "node", "id", cfg.node_id, /*required=*/true)) {
    if (!is_node_id(cfg.node_id)) {
      c.fail(*id, "node.id",
             "must be 1 to 64 characters of a-z, 0-9 and '-', got " + quoted(cfg.node_id));
    }
  }
  c.integer(*node, "node", "scheduler_threads", 0, 1024, cfg.scheduler_threads);
  if (auto* policy = c.string(*node, "node", "scheduler", cfg.scheduler)) {
    if (cfg.scheduler != "sharing" && cfg.scheduler != "stealing") {
      c.fail(*policy, "node.scheduler",
             "must be \"sharing\" or \"stealing\", got " + quoted(cfg.scheduler));
    }
  }
}

void read_gateway(checker& c, const toml::table& root, gateway_config& gw) {
  const toml::table* t = c.table(root, "", "gateway");
  if (t == nullptr) {
    return;
  }
  const std::string_view p = "gateway";
  c.only_keys(
      *t, p,
      {"listen", "max_connections", "fd_headroom", "accept_rate", "accept_burst", "max_frame_size",
       "compression_threshold", "max_unsent_bytes", "socket_send_buffer", "handshake_timeout_ms",
       "heartbeat_min_ms", "heartbeat_max_ms", "idle_margin", "ack_deadline_ms",
       "topic_backlog_frames", "soft_disconnect_grace_ms", "drain_window_ms"});
  c.address(*t, p, "listen", gw.listen);
  c.integer(*t, p, "max_connections", 0, i64_max, gw.max_connections);
  c.integer(*t, p, "fd_headroom", 0, i64_max, gw.fd_headroom);
  c.integer(*t, p, "accept_rate", 0, u32_max, gw.accept_rate);
  c.integer(*t, p, "accept_burst", 0, u32_max, gw.accept_burst);
  c.integer(*t, p, "max_frame_size", kib, 64 * mib, gw.max_frame_size);
  c.integer(*t, p, "compression_threshold", 0, i64_max, gw.compression_threshold);
  c.integer(*t, p, "max_unsent_bytes", kib, i64_max, gw.max_unsent_bytes);
  c.integer(*t, p, "socket_send_buffer", 0, i32_max, gw.socket_send_buffer);  // setsockopt int
  c.integer(*t, p, "handshake_timeout_ms", 1, u32_max, gw.handshake_timeout_ms);
  auto* min = c.integer(*t, p, "heartbeat_min_ms", 1, u32_max, gw.heartbeat_min_ms);
  auto* max = c.integer(*t, p, "heartbeat_max_ms", 1, u32_max, gw.heartbeat_max_ms);
  c.number(*t, p, "idle_margin", 1.0, gw.idle_margin);
  c.integer(*t, p, "ack_deadline_ms", 1, u32_max, gw.ack_deadline_ms);
  c.integer(*t, p, "topic_backlog_frames", 1, 4096, gw.topic_backlog_frames);
  c.integer(*t, p, "soft_disconnect_grace_ms", 0, u32_max, gw.soft_disconnect_grace_ms);
  c.integer(*t, p, "drain_window_ms", 0, u32_max, gw.drain_window_ms);
  if (!c.failed() && gw.heartbeat_min_ms > gw.heartbeat_max_ms) {
    // Blame the value the file sets (both defaults cannot conflict), the minimum if both.
    const toml::node* where = min != nullptr ? min : max;
    c.fail(*where, min != nullptr ? "gateway.heartbeat_min_ms" : "gateway.heartbeat_max_ms",
           "heartbeat_min_ms (" + std::to_string(gw.heartbeat_min_ms)
               + ") must not exceed heartbeat_max_ms (" + std::to_string(gw.heartbeat_max_ms)
               + ")");
  }
}

void read_http(checker& c, const toml::table& root, endpoint& http) {
  if (const toml::table* t = c.table(root, "", "http")) {
    c.only_keys(*t, "http", {"listen"});
    c.address(*t, "http", "listen", http);
  }
}

void read_dispatch(checker& c, const toml::table& root, dispatch_config& dispatch) {
  if (const toml::table* t = c.table(root, "", "dispatch")) {
    c.only_keys(*t, "dispatch", {"ttl_s", "max_addresses"});
    c.integer(*t, "dispatch", "ttl_s", 1, 86'400, dispatch.ttl_s);
    c.integer(*t, "dispatch", "max_addresses", 1, 16, dispatch.max_addresses);
  }
}

void read_supervisor(checker& c, const toml::table& root, supervisor_config& sup) {
  if (const toml::table* t = c.table(root, "", "supervisor")) {
    c.only_keys(*t, "supervisor", {"intensity", "period_ms"});
    c.integer(*t, "supervisor", "intensity", 0, u32_max, sup.intensity);
    c.integer(*t, "supervisor", "period_ms", 1, u32_max, sup.period_ms);
  }
}

void read_apps(checker& c, const toml::table& root, std::vector<app_config>& apps) {
  const toml::node* node = root.get("apps");
  if (node == nullptr) {
    c.fail(root, "apps", "missing required table: at least one [[apps]] is needed");
    return;
  }
  const toml::array* array = node->as_array();
  if (array != nullptr && array->empty()) {
    c.fail(*node, "apps", "at least one [[apps]] is needed");
    return;
  }
  if (array == nullptr || !array->is_array_of_tables()) {
    c.fail(*node, "apps",
           std::string{"expected an array of tables ([[apps]]), got "}
               + (array != nullptr ? "an array of other values" : a_type_name(node->type())));
    return;
  }
  std::unordered_map<std::string, uint32_t> first_line;  // app id -> line of its first use
  for (size_t i = 0; i < array->size(); ++i) {
    const toml::table& t = *array->get(i)->as_table();
    const std::string path = "apps[" + std::to_string(i) + "]";
    app_config app;
    c.only_keys(t, path, {"id", "secret", "zstd_dictionary", "dispatch_key"});
    if (auto* id = c.string(t, path, "id", app.id, /*required=*/true)) {
      if (!is_app_id(app.id)) {
        c.fail(
            *id, path + ".id",
            "must be 1 to 64 characters of A-Z, a-z, 0-9, '-', '_' and '.', got " + quoted(app.id));
      } else if (auto [it, fresh] = first_line.emplace(app.id, id->source().begin.line); !fresh) {
        c.fail(*id, path + ".id",
               "duplicate app id " + quoted(app.id) + " (first at line "
                   + std::to_string(it->second) + ")");
      }
    }
    if (auto* secret = c.string(t, path, "secret", app.secret, /*required=*/true)) {
      if (app.secret.size() < 16) {
        c.fail(*secret, path + ".secret",
               "must be at least 16 bytes, got " + std::to_string(app.secret.size()));
      }
    }
    c.string(t, path, "zstd_dictionary", app.zstd_dictionary);
    if (auto* key = c.string(t, path, "dispatch_key", app.dispatch_key)) {
      if (app.dispatch_key.size() < 16) {
        c.fail(*key, path + ".dispatch_key",
               "must be at least 16 bytes, got " + std::to_string(app.dispatch_key.size()));
      } else if (app.dispatch_key == app.secret) {
        c.fail(*key, path + ".dispatch_key",
               "must differ from the app's secret (apps hold the dispatch key; the secret signs "
               "login tokens)");
      }
    }
    apps.push_back(std::move(app));
  }
}

}  // namespace

std::string config_error::to_string() const {
  std::string out;
  if (line != 0) {
    out = file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": ";
  }
  if (!key.empty()) {
    out += key + ": ";
  }
  return out + message;
}

config_result parse_node_config(std::string_view text, std::string_view source_name) {
  toml::table root;
  try {
    root = toml::parse(text, source_name);
  } catch (const toml::parse_error& err) {
    const auto& where = err.source().begin;
    return {std::nullopt, config_error{std::string{source_name},
                                       where.line,
                                       where.column,
                                       {},
                                       std::string{err.description()}}};
  }
  checker c{std::string{source_name}, root};
  node_config cfg;
  c.only_keys(root, "",
              {"node", "gateway", "http", "supervisor", "apps", "storage", "sync", "buckets",
               "topics", "businesses", "cluster", "dispatch"});
  read_node(c, root, cfg);
  read_gateway(c, root, cfg.gateway);
  read_http(c, root, cfg.http);
  read_supervisor(c, root, cfg.supervisor);
  read_apps(c, root, cfg.apps);
  read_dispatch(c, root, cfg.dispatch);
  read_storage(c, root, cfg.storage);
  read_sync(c, root, cfg.sync);
  read_cluster(c, root, cfg.sync.shards, cfg.cluster);
  if (!c.failed() && cfg.cluster.enabled && cfg.storage.data_dir.empty()) {
    // The shard map's promises are persisted there (and a member hosts shards).
    c.fail(*root.get("cluster"), "cluster", "a cluster member needs storage.data_dir");
  }
  if (c.failed()) {
    return {std::nullopt, c.take_error()};
  }
  return {std::move(cfg), std::nullopt};
}

config_result load_node_config(const std::string& path) {
  auto cannot = [&path](const char* what) {
    return config_result{
        std::nullopt,
        config_error{path, 0, 0, {}, std::string{what} + " " + path + ": " + error_text(errno)}};
  };
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return cannot("cannot open");
  }
  std::string text;
  char buf[16 * 1024];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      auto result = cannot("cannot read");
      ::close(fd);
      return result;
    }
    if (n == 0) {
      break;
    }
    text.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return parse_node_config(text, path);
}

}  // namespace tidegate::actors
