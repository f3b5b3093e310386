#include "client/endpoint.h"

#include <gtest/gtest.h>

namespace tidegate::client {
namespace {

TEST(EndpointTest, ParsesHostPortAndBracketedIpv6) {
  endpoint ep;
  std::string error;
  ASSERT_TRUE(parse_endpoint("127.0.0.1:7000", ep, error)) << error;
  EXPECT_EQ(ep.host, "127.0.0.1");
  EXPECT_EQ(ep.port, 7000);
  ASSERT_TRUE(parse_endpoint("[::1]:443", ep, error)) << error;
  EXPECT_EQ(ep.host, "::1");
  EXPECT_EQ(ep.to_string(), "[::1]:443");
}

TEST(EndpointTest, RefusesWhatIsNotHostPort) {
  endpoint ep;
  std::string error;
  for (const char* bad :
       {"", "localhost", ":80", "host:", "host:0", "host:65536", "host:8x", "::1:80", "[::1]80"}) {
    EXPECT_FALSE(parse_endpoint(bad, ep, error)) << bad;
    EXPECT_NE(error.find("bad address"), std::string::npos) << bad;
  }
}

TEST(EndpointTest, ParsesAList) {
  std::vector<endpoint> list;
  std::string error;
  ASSERT_TRUE(parse_endpoint_list("a:1,b:2,[::1]:3", list, error)) << error;
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[1].host, "b");
  EXPECT_FALSE(parse_endpoint_list("a:1,,b:2", list, error));
}

TEST(EndpointTest, ResolvesNumericHostsWithoutDns) {
  socket_address address;
  std::string error;
  ASSERT_TRUE(resolve_endpoint({"127.0.0.1", 80}, address, error)) << error;
  EXPECT_EQ(address.storage.ss_family, AF_INET);
  ASSERT_TRUE(resolve_endpoint({"::1", 80}, address, error)) << error;
  EXPECT_EQ(address.storage.ss_family, AF_INET6);
}

}  // namespace
}  // namespace tidegate::client
