#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "actors/config/node_config.h"

namespace tidegate::actors {

/// Why a node config was refused: where (file, 1-based line and column of the offending value,
/// key or table header), which dotted key ("gateway.listen", "apps[1].secret") and why.
struct config_error {
  std::string file;
  uint32_t line = 0;
  uint32_t column = 0;
  std::string key;
  std::string message;

  /// "FILE:LINE:COL: KEY: MESSAGE"; "FILE:LINE:COL: " is left out when line is 0 (the file
  /// could not be read) and "KEY: " when no key is involved (a TOML syntax error).
  std::string to_string() const;
};

/// The outcome of reading a node config: exactly one of `config` and `error` is set.
struct config_result {
  std::optional<node_config> config;
  std::optional<config_error> error;
};

/// Reads and checks the TOML node config at `path` (docs/configuration.md). Unknown keys and
/// tables are errors, not ignored. Never throws for bad input; reports the first error found.
config_result load_node_config(const std::string& path);

/// Checks `text` as a TOML node config; `source_name` is the file named in errors.
config_result parse_node_config(std::string_view text, std::string_view source_name);

}  // namespace tidegate::actors
