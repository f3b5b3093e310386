#pragma once

#include <nlohmann/json.hpp>

namespace tidegate::bench {

/// Prints the report of `tidegate bench sync --scenario connect` (the JSON object it also
/// emits with --json) as a table, bucketed and per-business side by side.
void print_connect_table(const nlohmann::json& report);

}  // namespace tidegate::bench
