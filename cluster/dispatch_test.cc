#include "cluster/dispatch.h"

#include <gtest/gtest.h>

namespace tidegate::cluster {
namespace {

std::vector<dispatch_candidate> three() {
  return {{"n1", "z1", "127.0.0.1:1", 30},
          {"n2", "z1", "127.0.0.2:1", 10},
          {"n3", "z2", "127.0.0.3:1", 50},
          {"n4", "z2", "127.0.0.4:1", 50}};
}

TEST(DispatchTest, NamesTheHomeZoneLeastLoadedFirst) {
  auto choice = choose_for_dispatch("z1", three(), 3);
  EXPECT_EQ(choice.zone, "z1");
  EXPECT_EQ(choice.addresses, (std::vector<std::string>{"127.0.0.2:1", "127.0.0.1:1"}));
  choice = choose_for_dispatch("z2", three(), 3);
  EXPECT_EQ(choice.zone, "z2");
  // Equal loads: by name, so every node answers alike.
  EXPECT_EQ(choice.addresses, (std::vector<std::string>{"127.0.0.3:1", "127.0.0.4:1"}));
}

TEST(DispatchTest, AtMostMaxAddresses) {
  EXPECT_EQ(choose_for_dispatch("", three(), 2).addresses,
            (std::vector<std::string>{"127.0.0.2:1", "127.0.0.1:1"}));
}

TEST(DispatchTest, WithoutARuleOrWithItsZoneLostEveryZoneServes) {
  auto choice = choose_for_dispatch("", three(), 3);
  EXPECT_EQ(choice.zone, "z1");  // the least loaded member's
  EXPECT_EQ(choice.addresses.size(), 3u);
  auto only_z1 = three();
  only_z1.resize(2);
  choice = choose_for_dispatch("z2", only_z1, 3);
  EXPECT_EQ(choice.zone, "z1");
  EXPECT_EQ(choice.addresses, (std::vector<std::string>{"127.0.0.2:1", "127.0.0.1:1"}));
}

TEST(DispatchTest, SkipsMembersWithoutAClientAddressAndAnswersNothingWithoutCandidates) {
  auto candidates = three();
  candidates[1].client_address.clear();
  EXPECT_EQ(choose_for_dispatch("z1", candidates, 3).addresses,
            (std::vector<std::string>{"127.0.0.1:1"}));
  auto none = choose_for_dispatch("z1", {}, 3);
  EXPECT_TRUE(none.addresses.empty());
  EXPECT_TRUE(none.zone.empty());
}

TEST(DispatchTest, RedirectsOnlyToAReachableHomeZone) {
  EXPECT_TRUE(zone_redirect("z1", "z1", three(), 3).empty());
  EXPECT_TRUE(zone_redirect("", "z1", three(), 3).empty());
  EXPECT_EQ(zone_redirect("z2", "z1", three(), 3),
            (std::vector<std::string>{"127.0.0.3:1", "127.0.0.4:1"}));
  auto only_z1 = three();
  only_z1.resize(2);
  EXPECT_TRUE(zone_redirect("z2", "z1", only_z1, 3).empty()) << "its zone is lost: serve here";
}

}  // namespace
}  // namespace tidegate::cluster
