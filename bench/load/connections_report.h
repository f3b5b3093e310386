#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace tidegate::bench {

/// "MODEL NAME, N CPUs" from /proc/cpuinfo, for the report's machine line.
std::string machine_line();

/// Prints the `tidegate bench connections` report (the JSON object it also emits) as a table.
void print_table(const nlohmann::json& r);

}  // namespace tidegate::bench
