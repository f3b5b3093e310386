#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace tidegate::cluster {

/// A member dispatch may name: reachable now, with its client listener and its load.
struct dispatch_candidate {
  std::string name;
  std::string zone;
  std::string client_address;  ///< "host:port".
  int64_t load = 0;            ///< Open client connections.
};

/// Where dispatch sends a client, before it is signed.
struct dispatch_choice {
  std::string zone;                    ///< The zone of the addresses.
  std::vector<std::string> addresses;  ///< Least loaded first.
};

/// The addresses for a client whose user lives in `home_zone` (LDC style: its uid's shard's
/// zone rule): up to `max` candidates of that zone, least loaded first, ties by name. When no
/// rule names a zone (`home_zone` empty) or no member of the home zone is reachable (the zone
/// is lost), the least loaded candidates of every zone: the surviving zones serve its users.
/// Empty when there is no candidate at all.
dispatch_choice choose_for_dispatch(const std::string& home_zone,
                                    std::vector<dispatch_candidate> candidates, size_t max);

/// A client of a user whose home is `home_zone` reached a node in `own_zone`: the addresses to
/// redirect it to (GOAWAY), or empty when it belongs here, when no rule names its zone, or when
/// no member of its zone is reachable (then this zone serves it).
std::vector<std::string> zone_redirect(const std::string& home_zone, const std::string& own_zone,
                                       std::vector<dispatch_candidate> candidates, size_t max);

}  // namespace tidegate::cluster
