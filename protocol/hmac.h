#pragma once

#include <string>
#include <string_view>

namespace tidegate::protocol {

/// HMAC-SHA256 of `input` under `key`: 32 raw bytes.
std::string hmac_sha256(std::string_view key, std::string_view input);

/// `a == b` in time that depends only on the sizes (for comparing MACs).
bool equal_in_constant_time(std::string_view a, std::string_view b);

}  // namespace tidegate::protocol
