#include "actors/config/endpoint.h"

#include <gtest/gtest.h>

namespace tidegate::actors {
namespace {

TEST(ConfigEndpointTest, AcceptsIpv4LocalhostAnyAndBracketedIpv6) {
  struct good {
    const char* text;
    const char* host;
    uint16_t port;
  };
  for (auto [text, host, port] :
       {good{"0.0.0.0:7100", "0.0.0.0", 7100}, good{"127.0.0.1:0", "127.0.0.1", 0},
        good{"localhost:65535", "localhost", 65535}, good{"[::1]:7180", "::1", 7180},
        good{"[::]:80", "::", 80}}) {
    auto parsed = parse_endpoint(text);
    ASSERT_TRUE(parsed.value) << text << ": " << parsed.error;
    EXPECT_EQ(parsed.value->host, host);
    EXPECT_EQ(parsed.value->port, port);
    EXPECT_EQ(to_string(*parsed.value), text);
  }
}

TEST(ConfigEndpointTest, RefusesEverythingElseWithAReason) {
  for (const char* text : {"",
                           "7100",
                           ":7100",
                           "127.0.0.1",
                           "127.0.0.1:",
                           "127.0.0.1:65536",
                           "127.0.0.1:99999",
                           "127.0.0.1:-1",
                           "127.0.0.1:+80",
                           "127.0.0.1:7x",
                           "127.0.0.1:000000",
                           "example.com:7100",
                           "256.0.0.1:7100",
                           "1.2.3:7100",
                           "::1:7100",
                           "[::1:7100",
                           "[]:7100",
                           "[1.2.3.4]:7100",
                           "[::1]x:7100",
                           " 127.0.0.1:7100"}) {
    auto parsed = parse_endpoint(text);
    EXPECT_FALSE(parsed.value) << text;
    EXPECT_FALSE(parsed.error.empty()) << text;
  }
}

TEST(ConfigEndpointTest, PortErrorsNameThePort) {
  EXPECT_EQ(parse_endpoint("127.0.0.1:70000").error, "port must be 0..65535, got 70000");
}

}  // namespace
}  // namespace tidegate::actors
