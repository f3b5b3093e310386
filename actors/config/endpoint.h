#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "actors/config/node_config.h"

namespace tidegate::actors {

/// An endpoint, or why some text is not one: exactly one of `value` and `error` is set.
struct endpoint_result {
  std::optional<endpoint> value;
  std::string error;
};

/// Parses "host:port". The host is an IPv4 literal (0.0.0.0 included), "localhost" or an IPv6
/// literal in brackets ("[::1]:7100", stored without the brackets); the port is 0..65535, 0
/// meaning an ephemeral port. No name lookup happens.
endpoint_result parse_endpoint(std::string_view text);

/// "host:port", with brackets around an IPv6 host: the inverse of parse_endpoint.
std::string to_string(const endpoint& e);

}  // namespace tidegate::actors
