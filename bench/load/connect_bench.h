#pragma once

#include <string>

#include "bench/load/sync_bench.h"

namespace tidegate::bench {

/// `tidegate bench sync --scenario connect`: the node CPU a connect with SYNC costs when
/// opts.businesses businesses share the default buckets, versus a baseline built here only that
/// gives each business a bucket of its own (one read per business per SYNC_REQ). Each layout
/// has a fresh node from `exe` with the same published data; the two run side by side, their
/// rounds alternating. Prints the report (opts.json: one JSON object) and returns 0 if both
/// layouts completed with every client done.
int run_connect_bench(const sync_options& opts, const std::string& exe);

}  // namespace tidegate::bench
