#include "cluster/member.h"

#include <tuple>

namespace tidegate::cluster {

std::string cluster_address(const member_info& m) {
  if (m.host.find(':') != std::string::npos) {
    return "[" + m.host + "]:" + std::to_string(m.port);
  }
  return m.host + ":" + std::to_string(m.port);
}

bool older(const member_info& a, const member_info& b) {
  return std::tie(a.started_at_ms, a.name) < std::tie(b.started_at_ms, b.name);
}

}  // namespace tidegate::cluster
