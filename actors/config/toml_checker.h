#pragma once

// The TOML checking helpers of the node config loader: a `checker` that reads typed,
// range-checked values and records the earliest error with its file, line, column and key.
// Internal to actors/config (config_file.cc and the section readers).

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

#include "actors/config/config_file.h"
#include "actors/config/endpoint.h"

namespace tidegate::actors::config_detail {

// strerror() is not thread-safe; GNU strerror_r returns the text, maybe not in `buf`.
inline std::string error_text(int err) {
  char buf[128];
  return strerror_r(err, buf, sizeof buf);
}

constexpr int64_t u32_max = std::numeric_limits<uint32_t>::max();
constexpr int64_t i32_max = std::numeric_limits<int32_t>::max();
constexpr int64_t i64_max = std::numeric_limits<int64_t>::max();
constexpr int64_t kib = 1024;
constexpr int64_t mib = kib * 1024;

inline const char* a_type_name(toml::node_type type) {
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

inline std::string join(std::string_view path, std::string_view name) {
  return path.empty() ? std::string{name} : std::string{path} + "." + std::string{name};
}

inline std::string quoted(std::string_view s) {
  return "\"" + std::string{s} + "\"";
}

// Levenshtein distance, for "did you mean" on unknown keys.
inline size_t edit_distance(std::string_view a, std::string_view b) {
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

inline bool is_node_id(std::string_view id) {
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

inline bool is_app_id(std::string_view id) {
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

inline std::string range_message(int64_t min, int64_t max, int64_t got) {
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

}  // namespace tidegate::actors::config_detail
