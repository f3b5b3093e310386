#include "actors/config/endpoint.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstdint>
#include <string>

namespace tidegate::actors {
namespace {

std::string quoted(std::string_view s) {
  return "\"" + std::string{s} + "\"";
}

bool is_ipv4(const std::string& host) {
  in_addr addr{};
  return inet_pton(AF_INET, host.c_str(), &addr) == 1;
}

bool is_ipv6(const std::string& host) {
  in6_addr addr{};
  return inet_pton(AF_INET6, host.c_str(), &addr) == 1;
}

}  // namespace

endpoint_result parse_endpoint(std::string_view text) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    return {std::nullopt, "expected host:port, got " + quoted(text)};
  }
  std::string_view host = text.substr(0, colon);
  std::string_view port = text.substr(colon + 1);
  if (port.empty() || port.size() > 5) {
    return {std::nullopt, "expected a port 0..65535 after the last ':', got " + quoted(text)};
  }
  uint32_t port_value = 0;
  for (char c : port) {
    if (c < '0' || c > '9') {
      return {std::nullopt, "expected a port 0..65535 after the last ':', got " + quoted(text)};
    }
    port_value = port_value * 10 + static_cast<uint32_t>(c - '0');
  }
  if (port_value > 65535) {
    return {std::nullopt, "port must be 0..65535, got " + std::string{port}};
  }
  std::string host_value;
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']'
        || !is_ipv6(std::string{host.substr(1, host.size() - 2)})) {
      return {std::nullopt, "expected an IPv6 address in brackets, got " + quoted(host)};
    }
    host_value = std::string{host.substr(1, host.size() - 2)};
  } else {
    host_value = std::string{host};
    if (host_value != "localhost" && !is_ipv4(host_value)) {
      return {std::nullopt,
              "host must be an IPv4 address, \"localhost\" or an IPv6 address in brackets, got "
                  + quoted(host)};
    }
  }
  return {endpoint{std::move(host_value), static_cast<uint16_t>(port_value)}, {}};
}

std::string to_string(const endpoint& e) {
  bool v6 = e.host.find(':') != std::string::npos;
  return (v6 ? "[" + e.host + "]" : e.host) + ":" + std::to_string(e.port);
}

}  // namespace tidegate::actors
