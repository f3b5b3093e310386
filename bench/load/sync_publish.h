#pragma once

#include <cstddef>
#include <string>

namespace tidegate::bench {

/// Appends one SYNC op of `business` as ingress JSON to `body` (no escaping: the benchmarks'
/// owners, msg_ids and payloads are plain ASCII without quotes or backslashes).
void append_op(std::string& body, const std::string& business, const std::string& owner,
               const std::string& msg_id, const std::string& payload);

/// The ops a publish reply acknowledged: how many "version" fields it has.
size_t count_versions(const std::string& body);

}  // namespace tidegate::bench
