#pragma once

#include <ostream>

#include "bench/fanout/fanout_harness.h"

#include <nlohmann/json.hpp>

namespace tidegate::bench {

/// A result as a JSON object: the options, every count and figure, "ok", and "error" or
/// "skipped" when set.
nlohmann::json fanout_json(const fanout_result& r);

/// A result as a few lines for people: what ran, deliveries/s, latency, server CPU, problems.
void print_fanout_result(const fanout_result& r, std::ostream& out);

}  // namespace tidegate::bench
