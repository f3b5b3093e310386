#include "client/dispatch_cache.h"

#include <atomic>
#include <thread>

#include <gtest/gtest.h>
#include <httplib.h>

namespace tidegate::client {
namespace {

constexpr const char* key = "dispatch-key-0123456789";

// A real HTTP dispatch endpoint on 127.0.0.1 answering with `answer` signed under `sign_key`.
class fake_dispatch {
 public:
  explicit fake_dispatch(std::string sign_key) : sign_key_(std::move(sign_key)) {
    server_.Get("/v1/dispatch", [this](const httplib::Request& req, httplib::Response& res) {
      ++requests;
      protocol::dispatch_answer a;
      a.app = req.get_param_value("app");
      a.owner = req.get_param_value("uid");
      a.zone = "z1";
      a.addresses = {address.load() == 0 ? "127.0.0.1:7101" : "127.0.0.1:7102"};
      a.ttl_s = 60;
      a.expires_at_s = now_s + 60;
      protocol::sign_dispatch(a, sign_key_);
      res.set_content(protocol::render_dispatch_json(a), "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread{[this] { server_.listen_after_bind(); }};
    while (!server_.is_running()) {
      std::this_thread::yield();
    }
  }
  ~fake_dispatch() {
    server_.stop();
    thread_.join();
  }
  std::string endpoint() const { return "127.0.0.1:" + std::to_string(port_); }

  std::atomic<int> requests{0};
  std::atomic<int> address{0};
  std::atomic<uint64_t> now_s{1'000'000};

 private:
  std::string sign_key_;
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

dispatch_config config_for(std::vector<std::string> endpoints, std::atomic<uint64_t>& now) {
  dispatch_config c;
  c.endpoints = std::move(endpoints);
  c.app_id = "demo";
  c.owner = "alice";
  c.key = key;
  c.timeout = std::chrono::milliseconds{500};
  c.stale_for = std::chrono::seconds{100};
  c.clock = [&now] { return now.load(); };
  return c;
}

void wait_idle(const dispatch_cache& cache) {
  for (int i = 0; i < 500 && cache.refreshing(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds{5});
  }
  ASSERT_FALSE(cache.refreshing());
}

TEST(DispatchCacheTest, KeepsAVerifiedAnswerForItsTtl) {
  fake_dispatch server{key};
  dispatch_cache cache{config_for({server.endpoint()}, server.now_s)};
  EXPECT_TRUE(cache.addresses().empty()) << "nothing before the first answer";
  wait_idle(cache);
  EXPECT_EQ(cache.addresses(), std::vector<std::string>{"127.0.0.1:7101"});
  EXPECT_EQ(cache.answer()->zone, "z1");
  server.now_s += 59;
  EXPECT_EQ(cache.addresses(), std::vector<std::string>{"127.0.0.1:7101"});
  EXPECT_FALSE(cache.refreshing());
  EXPECT_EQ(server.requests.load(), 1) << "a fresh answer is not asked again";
}

TEST(DispatchCacheTest, AnExpiredAnswerIsUsedWhileItIsRefreshed) {
  fake_dispatch server{key};
  dispatch_cache cache{config_for({server.endpoint()}, server.now_s)};
  ASSERT_EQ(cache.refresh(), "");
  server.address = 1;
  server.now_s += 61;
  EXPECT_EQ(cache.addresses(), std::vector<std::string>{"127.0.0.1:7101"}) << "stale, still used";
  wait_idle(cache);
  EXPECT_EQ(cache.addresses(), std::vector<std::string>{"127.0.0.1:7102"});
  server.now_s += 61 + 100;
  EXPECT_TRUE(cache.addresses().empty()) << "past stale_for: not used at all";
  wait_idle(cache);
}

TEST(DispatchCacheTest, InvalidateRefreshesButKeepsTheAnswerMeanwhile) {
  fake_dispatch server{key};
  dispatch_cache cache{config_for({server.endpoint()}, server.now_s)};
  ASSERT_EQ(cache.refresh(), "");
  server.address = 1;
  cache.invalidate();
  EXPECT_EQ(cache.addresses(), std::vector<std::string>{"127.0.0.1:7101"});
  wait_idle(cache);
  EXPECT_EQ(cache.addresses(), std::vector<std::string>{"127.0.0.1:7102"});
  EXPECT_EQ(server.requests.load(), 2);
}

TEST(DispatchCacheTest, AForgedAnswerIsRefusedAndTheNextEndpointAsked) {
  fake_dispatch forger{"some-other-key-0123456"};
  fake_dispatch honest{key};
  dispatch_cache cache{config_for({forger.endpoint(), honest.endpoint()}, honest.now_s)};
  EXPECT_EQ(cache.refresh(), "");
  EXPECT_EQ(cache.counters().refused, 1u);
  EXPECT_EQ(cache.counters().answers, 1u);
  EXPECT_EQ(cache.counters().requests, 2u);
  EXPECT_EQ(forger.requests.load(), 1);
}

TEST(DispatchCacheTest, WithoutAnyAnswerTheErrorNamesEveryEndpoint) {
  fake_dispatch forger{"some-other-key-0123456"};
  std::atomic<uint64_t> now{1'000'000};
  // Port 1 on loopback: nothing listens there.
  dispatch_cache cache{config_for({"127.0.0.1:1", forger.endpoint()}, now)};
  auto error = cache.refresh();
  EXPECT_NE(error.find("127.0.0.1:1: "), std::string::npos) << error;
  EXPECT_NE(error.find(forger.endpoint() + ": answer refused: bad signature"), std::string::npos)
      << error;
  EXPECT_FALSE(cache.answer());
  EXPECT_EQ(cache.counters().failures, 2u);
  EXPECT_EQ(cache.last_error(), error);
}

}  // namespace
}  // namespace tidegate::client
