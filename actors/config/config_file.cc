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

namespace tidegate::actors {
namespace {

// strerror() is not thread-safe; GNU strerror_r returns the text, maybe not in `buf`.
std::string error_text(int err) {
  char buf[128];
  return strerror_r(err, buf, sizeof buf);
}

constexpr int64_t u32_max = std::numeric_limits<uint32_t>::max();
constexpr int64_t i32_max = std::numeric_limits<int32_t>::max();
constexpr int64_t i64_max = std::numeric_limits<int64_t>::max();
constexpr int64_t kib = 1024;
constexpr int64_t mib = kib * 1024;

const char* a_type_name(toml::node_type type) {
  switch (type) {
    case toml::node_type::none:
      return "nothing";
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
  }
  return "an unknown type";
}

std::string join(std::string_view path, std::string_view name) {
  return path.empty() ? std::string{name} : std::string{path} + "." + std::string{name};
}

std::string quoted(std::string_view s) {
  return "\"" + std::string{s} + "\"";
}

// Levenshtein distance, for "did you mean" on unknown keys.
size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) {
    row[j] = j;
  }
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

bool is_node_id(std::string_view id) {
  if (id.empty() || id.size() > 64) {
    return false;
  }
  for (char c : id) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
      return false;
    }
  }
  return true;
}

bool is_app_id(std::string_view id) {
  if (id.empty() || id.size() > 64) {
    return false;
  }
  for (char c : id) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-'
          || c == '_' || c == '.')) {
      return false;
    }
  }
  return true;
}

std::string range_message(int64_t min, int64_t max, int64_t got) {
  std::string text;
  if (min == 0 && max == i64_max) {
    text = "must not be negative";
  } else if (max == i64_max) {
    text = "must be at least " + std::to_string(min);
  } else {
    text = "must be between " + std::to_string(min) + " and " + std::to_string(max);
  }
  return text + ", got " + std::to_string(got);
}

// Walks the parsed document, keeping the earliest error by position. Getters leave the target
// at its default when the key is absent or wrong, so every check runs and the report names
// the first offending line of the file, not the first one this code happens to look at.
class checker {
 public:
  checker(std::string file, const toml::table& root) : file_(std::move(file)), root_(&root) {}

  bool failed() const { return error_.has_value(); }
  config_error take_error() { return std::move(*error_); }

  /// Records an error at `node` unless an earlier one is known. Errors at the root table (a
  /// missing [node]) say 1:1 but rank last, so "apps = []" misplaced under [node] is reported
  /// as the unknown key it is rather than as a missing [[apps]].
  void fail(const toml::node& node, std::string key, std::string message) {
    fail_at(node.source(), &node == root_, std::move(key), std::move(message));
  }
  void fail(const toml::key& at, std::string key, std::string message) {
    fail_at(at.source(), false, std::move(key), std::move(message));
  }

  /// Fails on each key of `table` that is not in `allowed`.
  void only_keys(const toml::table& table, std::string_view path,
                 std::initializer_list<std::string_view> allowed) {
    for (auto&& [key, value] : table) {
      bool known = false;
      std::string_view closest;
      size_t best = 3;  // suggest only names at most two edits away
      for (auto name : allowed) {
        if (key.str() == name) {
          known = true;
          break;
        }
        if (auto d = edit_distance(key.str(), name); d < best) {
          best = d;
          closest = name;
        }
      }
      if (known) {
        continue;
      }
      std::string message = value.is_table() ? "unknown table" : "unknown key";
      if (!closest.empty()) {
        message += " (did you mean " + join(path, closest) + "?)";
      }
      fail(key, join(path, key.str()), std::move(message));
    }
  }

  /// The sub-table `name` of `parent`, or nullptr when absent (failing if `required`) or not a
  /// table.
  const toml::table* table(const toml::table& parent, std::string_view path, std::string_view name,
                           bool required = false) {
    const toml::node* node = get(parent, path, name, toml::node_type::table, required);
    return node == nullptr ? nullptr : node->as_table();
  }

  /// Reads integer `name` of `table` into `out` if it is present and within [min, max].
  template <class T>
  const toml::node* integer(const toml::table& table, std::string_view path, std::string_view name,
                            int64_t min, int64_t max, T& out) {
    const toml::node* node = get(table, path, name, toml::node_type::integer, false);
    if (node == nullptr) {
      return nullptr;
    }
    int64_t value = node->as_integer()->get();
    if (value < min || value > max) {
      fail(*node, join(path, name), range_message(min, max, value));
      return nullptr;
    }
    out = static_cast<T>(value);
    return node;
  }

  /// Reads number `name` (a float or an integer) into `out` if present, finite and >= min.
  const toml::node* number(const toml::table& table, std::string_view path, std::string_view name,
                           double min, double& out) {
    const toml::node* node = table.get(name);
    if (node == nullptr) {
      return nullptr;
    }
    double value = 0;
    if (auto* f = node->as_floating_point()) {
      value = f->get();
    } else if (auto* i = node->as_integer()) {
      value = static_cast<double>(i->get());
    } else {
      fail(*node, join(path, name),
           std::string{"expected a number, got "} + a_type_name(node->type()));
      return nullptr;
    }
    if (!std::isfinite(value) || value < min) {
      fail(*node, join(path, name),
           "must be a number of at least " + toml_number(min) + ", got " + toml_number(value));
      return nullptr;
    }
    out = value;
    return node;
  }

  /// Reads string `name` into `out` if present; fails if absent and `required`.
  const toml::node* string(const toml::table& table, std::string_view path, std::string_view name,
                           std::string& out, bool required = false) {
    const toml::node* node = get(table, path, name, toml::node_type::string, required);
    if (node != nullptr) {
      out = node->as_string()->get();
    }
    return node;
  }

  /// Reads "host:port" string `name` into `out` if present and well formed.
  void address(const toml::table& table, std::string_view path, std::string_view name,
               endpoint& out) {
    std::string text;
    const toml::node* node = string(table, path, name, text);
    if (node == nullptr) {
      return;
    }
    auto parsed = parse_endpoint(text);
    if (!parsed.value) {
      fail(*node, join(path, name), parsed.error);
      return;
    }
    out = std::move(*parsed.value);
  }

 private:
  void fail_at(const toml::source_region& where, bool rank_last, std::string key,
               std::string message) {
    auto rank = rank_last ? std::pair{std::numeric_limits<uint32_t>::max(), uint32_t{0}}
                          : std::pair{where.begin.line, where.begin.column};
    if (error_ && rank_ <= rank) {
      return;
    }
    rank_ = rank;
    error_ =
        config_error{file_, std::max(where.begin.line, uint32_t{1}),
                     std::max(where.begin.column, uint32_t{1}), std::move(key), std::move(message)};
  }

  const toml::node* get(const toml::table& table, std::string_view path, std::string_view name,
                        toml::node_type type, bool required) {
    const toml::node* node = table.get(name);
    if (node == nullptr) {
      if (required) {
        fail(table, join(path, name),
             type == toml::node_type::table ? "missing required table" : "missing required key");
      }
      return nullptr;
    }
    if (node->type() != type) {
      fail(*node, join(path, name),
           std::string{"expected "} + a_type_name(type) + ", got " + a_type_name(node->type()));
      return nullptr;
    }
    return node;
  }

  static std::string toml_number(double value) {
    std::ostringstream out;
    out << value;
    return out.str();
  }

  std::string file_;
  const toml::table* root_;
  std::optional<config_error> error_;
  std::pair<uint32_t, uint32_t> rank_;  // (line, column) of error_, for "earliest wins"
};

void read_node(checker& c, const toml::table& root, node_config& cfg) {
  const toml::table* node = c.table(root, "", "node", /*required=*/true);
  if (node == nullptr) {
    return;
  }
  c.only_keys(*node, "node", {"id", "scheduler_threads"});
  if (auto* id = c.string(*node, "node", "id", cfg.node_id, /*required=*/true)) {
    if (!is_node_id(cfg.node_id)) {
      c.fail(*id, "node.id",
             "must be 1 to 64 characters of a-z, 0-9 and '-', got " + quoted(cfg.node_id));
    }
  }
  c.integer(*node, "node", "scheduler_threads", 0, 1024, cfg.scheduler_threads);
}

void read_gateway(checker& c, const toml::table& root, gateway_config& gw) {
  const toml::table* t = c.table(root, "", "gateway");
  if (t == nullptr) {
    return;
  }
  const std::string_view p = "gateway";
  c.only_keys(*t, p,
              {"listen", "max_connections", "fd_headroom", "accept_rate", "accept_burst",
               "max_frame_size", "compression_threshold", "max_unsent_bytes", "socket_send_buffer",
               "handshake_timeout_ms", "heartbeat_min_ms", "heartbeat_max_ms", "idle_margin",
               "ack_deadline_ms", "soft_disconnect_grace_ms", "drain_window_ms"});
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
    c.only_keys(t, path, {"id", "secret", "zstd_dictionary"});
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
  c.only_keys(root, "", {"node", "gateway", "http", "supervisor", "apps"});
  read_node(c, root, cfg);
  read_gateway(c, root, cfg.gateway);
  read_http(c, root, cfg.http);
  read_supervisor(c, root, cfg.supervisor);
  read_apps(c, root, cfg.apps);
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
