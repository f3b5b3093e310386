#include "cluster/dispatch.h"

#include <algorithm>
#include <tuple>

namespace tidegate::cluster {

dispatch_choice choose_for_dispatch(const std::string& home_zone,
                                    std::vector<dispatch_candidate> candidates, size_t max) {
  candidates.erase(std::remove_if(candidates.begin(), candidates.end(),
                                  [](const auto& c) { return c.client_address.empty(); }),
                   candidates.end());
  bool home_served = std::any_of(candidates.begin(), candidates.end(),
                                 [&](const auto& c) { return c.zone == home_zone; });
  if (!home_zone.empty() && home_served) {
    candidates.erase(std::remove_if(candidates.begin(), candidates.end(),
                                    [&](const auto& c) { return c.zone != home_zone; }),
                     candidates.end());
  }
  std::sort(candidates.begin(), candidates.end(), [](const auto& a, const auto& b) {
    return std::tie(a.load, a.name) < std::tie(b.load, b.name);
  });
  dispatch_choice choice;
  for (size_t i = 0; i < candidates.size() && i < max; ++i) {
    choice.addresses.push_back(candidates[i].client_address);
  }
  if (!candidates.empty()) {
    choice.zone = home_served ? home_zone : candidates.front().zone;
  }
  return choice;
}

std::vector<std::string> zone_redirect(const std::string& home_zone, const std::string& own_zone,
                                       std::vector<dispatch_candidate> candidates, size_t max) {
  if (home_zone.empty() || home_zone == own_zone) {
    return {};
  }
  auto choice = choose_for_dispatch(home_zone, std::move(candidates), max);
  if (choice.zone != home_zone) {
    return {};
  }
  return choice.addresses;
}

}  // namespace tidegate::cluster
