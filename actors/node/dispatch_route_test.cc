#include "actors/node/dispatch_route.h"

#include <gtest/gtest.h>

#include "actors/sync/bucket_config.h"

namespace tidegate::actors {
namespace {

constexpr const char* key = "dispatch-key-0123456789";

dispatch_setup two_zones() {
  dispatch_setup s;
  s.keys["demo"] = key;
  s.hints["demo"] = protocol::dispatch_hints{false, true, 30'000};
  s.ttl_s = 120;
  s.shard_count = 1024;
  s.zone_rules = {{0, 511, "z1"}, {512, 1023, "z2"}};
  s.candidates = [](const http_request&) {
    return std::vector<cluster::dispatch_candidate>{{"n1", "z1", "127.0.0.1:7100", 5},
                                                    {"n2", "z1", "127.0.0.2:7100", 1},
                                                    {"n3", "z2", "127.0.0.3:7100", 9}};
  };
  s.clock = [] { return uint64_t{1'000'000}; };
  return s;
}

http_request get(std::vector<std::pair<std::string, std::string>> params) {
  http_request r;
  r.method = "GET";
  r.path = "/v1/dispatch";
  r.params = std::move(params);
  return r;
}

// A uid whose shard is in [first, last].
std::string uid_in(uint32_t first, uint32_t last) {
  for (int i = 0;; ++i) {
    auto uid = "user-" + std::to_string(i);
    auto shard = shard_of(uid, 1024);
    if (shard >= first && shard <= last) {
      return uid;
    }
  }
}

protocol::dispatch_answer parse(const http_reply& reply) {
  EXPECT_EQ(reply.status, 200) << reply.body;
  std::string error;
  auto answer = protocol::parse_dispatch_answer(reply.body, error);
  EXPECT_TRUE(answer) << error;
  return answer.value_or(protocol::dispatch_answer{});
}

TEST(DispatchRouteTest, AnswersTheHomeZoneSignedWithTheAppsKey) {
  auto setup = two_zones();
  auto alice = uid_in(0, 511);
  auto a = parse(answer_dispatch(get({{"app", "demo"}, {"uid", alice}}), setup));
  EXPECT_EQ(a.zone, "z1");
  EXPECT_EQ(a.addresses, (std::vector<std::string>{"127.0.0.2:7100", "127.0.0.1:7100"}));
  EXPECT_EQ(a.ttl_s, 120u);
  EXPECT_EQ(a.expires_at_s, 1'000'120u);
  EXPECT_TRUE(a.hints.zstd);
  EXPECT_EQ(protocol::check_dispatch(a, key, "demo", alice, 1'000'000),
            protocol::dispatch_status::ok);
  auto bob = uid_in(512, 1023);
  auto b = parse(answer_dispatch(get({{"app", "demo"}, {"uid", bob}}), setup));
  EXPECT_EQ(b.zone, "z2");
  EXPECT_EQ(b.addresses, (std::vector<std::string>{"127.0.0.3:7100"}));
  auto d = parse(answer_dispatch(get({{"device", bob}, {"app", "demo"}}), setup));
  EXPECT_EQ(d.owner, bob);
  EXPECT_EQ(d.zone, "z2");
}

TEST(DispatchRouteTest, BadQueriesAreRefusedByName) {
  auto setup = two_zones();
  auto status_and_message = [&](std::vector<std::pair<std::string, std::string>> params) {
    auto reply = answer_dispatch(get(std::move(params)), setup);
    return std::to_string(reply.status) + " " + reply.body;
  };
  EXPECT_EQ(status_and_message({{"uid", "u"}}),
            R"(400 {"code":"bad_parameter","message":"query parameter \"app\" is required"})");
  EXPECT_EQ(
      status_and_message({{"app", "demo"}}),
      R"(400 {"code":"bad_parameter","message":"exactly one of \"uid\" and \"device\" is required"})");
  EXPECT_EQ(
      status_and_message({{"app", "demo"}, {"uid", "u"}, {"device", "d"}}),
      R"(400 {"code":"bad_parameter","message":"exactly one of \"uid\" and \"device\" is required"})");
  EXPECT_EQ(status_and_message({{"app", "demo"}, {"uid", "u"}, {"uid", "v"}}),
            R"(400 {"code":"bad_parameter","message":"query parameter \"uid\" is repeated"})");
  EXPECT_EQ(status_and_message({{"app", "demo"}, {"user", "u"}}),
            R"(400 {"code":"bad_parameter","message":"unknown query parameter \"user\" )"
            R"x((expected app and uid or device)"})x");
  EXPECT_EQ(status_and_message({{"app", "demo"}, {"uid", std::string(257, 'u')}}),
            R"(400 {"code":"bad_parameter","message":"\"uid\" must be 1 to 256 bytes"})");
  EXPECT_EQ(
      status_and_message({{"app", "other"}, {"uid", "u"}}),
      R"(404 {"code":"unknown_app","message":"app \"other\" has no dispatch on this cluster"})");
  setup.candidates = [](const http_request&) { return std::vector<cluster::dispatch_candidate>{}; };
  EXPECT_EQ(status_and_message({{"app", "demo"}, {"uid", "u"}}).substr(0, 4), "503 ");
}

TEST(DispatchSetupTest, ANodeOfItsOwnNamesItselfByTheHostItWasReachedBy) {
  node_config cfg;
  cfg.node_id = "solo";
  cfg.gateway.listen = {"0.0.0.0", 7100};
  cfg.apps.push_back({"demo", "0123456789abcdef", "", key});
  auto ctx = std::make_shared<gateway_context>();
  ctx->node_id = "solo";
  auto setup = dispatch_setup_of(cfg, nullptr, ctx, 7311);
  auto address_for = [&](const char* host) {
    auto request = get({{"app", "demo"}, {"uid", "alice"}});
    if (host != nullptr) {
      request.headers.emplace_back("host", host);
    }
    return parse(answer_dispatch(request, setup)).addresses;
  };
  using list = std::vector<std::string>;
  EXPECT_EQ(address_for("10.1.2.3:7180"), list{"10.1.2.3:7311"});
  EXPECT_EQ(address_for("10.1.2.3"), list{"10.1.2.3:7311"});
  EXPECT_EQ(address_for("[::1]:7180"), list{"[::1]:7311"});
  EXPECT_EQ(address_for("edge.example.com:7180"), list{"edge.example.com:7311"});
  EXPECT_EQ(address_for("edge.example.com"), list{"edge.example.com:7311"});
  EXPECT_EQ(address_for("bad host\",\"x"), list{"127.0.0.1:7311"});
  EXPECT_EQ(address_for(nullptr), list{"127.0.0.1:7311"});
}

}  // namespace
}  // namespace tidegate::actors
