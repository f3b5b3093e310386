#include "actors/admin/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <string>

#include <gtest/gtest.h>
#include <httplib.h>

namespace tidegate::actors {
namespace {

TEST(HttpServerTest, ServesMetricsAndHealthOnAnEphemeralPort) {
  std::atomic<int> scrapes{0};
  http_server server{"127.0.0.1", 0, [&scrapes] {
                       ++scrapes;
                       return std::string{"tidegate_connections{node=\"n\"} 0\n"};
                     }};
  ASSERT_EQ(server.start(), std::nullopt);
  ASSERT_NE(server.port(), 0);

  httplib::Client client{"127.0.0.1", server.port()};
  auto metrics = client.Get("/metrics");
  ASSERT_TRUE(metrics) << httplib::to_string(metrics.error());
  EXPECT_EQ(metrics->status, 200);
  EXPECT_EQ(metrics->body, "tidegate_connections{node=\"n\"} 0\n");
  EXPECT_EQ(metrics->get_header_value("Content-Type"), "text/plain; version=0.0.4");
  EXPECT_EQ(scrapes.load(), 1);

  auto health = client.Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(health->body, "ok");

  auto other = client.Get("/nope");
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 404);
  auto post = client.Post("/metrics", "x", "text/plain");
  ASSERT_TRUE(post);
  EXPECT_NE(post->status, 200);
  EXPECT_EQ(scrapes.load(), 1);

  server.stop();
  server.stop();  // idempotent
  httplib::Client after{"127.0.0.1", server.port()};
  EXPECT_FALSE(after.Get("/healthz"));
}

TEST(HttpServerTest, StopRightAfterStartReturns) {
  for (int i = 0; i < 20; ++i) {
    http_server server{"127.0.0.1", 0, [] { return std::string{}; }};
    ASSERT_EQ(server.start(), std::nullopt);
    server.stop();
  }
}

TEST(HttpServerTest, DestructorStopsARunningServer) {
  http_server server{"127.0.0.1", 0, [] { return std::string{}; }};
  ASSERT_EQ(server.start(), std::nullopt);
}

TEST(HttpServerTest, PortInUseNamesTheAddress) {
  // Hold a port with a plain listening socket (no SO_REUSEPORT, which httplib might set).
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  uint16_t port = ntohs(addr.sin_port);

  http_server server{"127.0.0.1", port, [] { return std::string{}; }};
  auto error = server.start();
  ::close(fd);
  ASSERT_TRUE(error);
  EXPECT_EQ(*error,
            "cannot listen on 127.0.0.1:" + std::to_string(port) + ": Address already in use");
}

TEST(HttpServerTest, BadHostIsAnError) {
  http_server server{"256.1.1.1", 0, [] { return std::string{}; }};
  auto error = server.start();
  ASSERT_TRUE(error);
  EXPECT_EQ(error->rfind("cannot listen on 256.1.1.1:0: ", 0), 0u) << *error;
}

}  // namespace
}  // namespace tidegate::actors
