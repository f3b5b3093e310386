#pragma once

#include <ostream>
#include <vector>

#include "bench/peers/peer_ingest.h"

#include <nlohmann/json.hpp>

namespace tidegate::bench {

/// The report's `peers` array: each peer's figures, and `ratio` = our acked ops/s over theirs
/// and `cpu_per_op_ratio` = our node CPU per op over theirs (null where theirs is 0).
nlohmann::json peers_json(const std::vector<peer_result>& peers, const peer_ingest_options& opts,
                          double our_ops_per_s, double our_cpu_us_per_op);

/// Prints a `peers` array made by peers_json as a table, with `ours` (the ingest scenario's
/// report, which has the same figure names) as its last row.
void print_peers_table(const nlohmann::json& peers, const nlohmann::json& ours, std::ostream& out);

}  // namespace tidegate::bench
