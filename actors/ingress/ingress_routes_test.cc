#include "actors/ingress/ingress_routes.h"

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <caf/actor_registry.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/send.hpp>
#include <gtest/gtest.h>
#include <httplib.h>

#include "actors/atoms.h"
#include "actors/ingress/ingress_auth.h"
#include "actors/names.h"
#include "actors/sync/sync_errc.h"

namespace tidegate::actors {
namespace {

using json = nlohmann::json;

constexpr int64_t fake_now = 1'700'000'000'000;
constexpr const char* secret = "secret-0123456789ab";

// What the stub router saw; the test thread reads it, the stub's worker writes it.
struct stub_log {
  std::mutex mutex;
  std::vector<publish_request> published;  // every op the router stored
  std::atomic<int> calls{0};
  std::vector<caf::response_promise> hanging;  // only the stub touches it
};

// Stands in for the sync router so the routes are tested alone (tests/integration/ingress_e2e
// runs them against the real one): dedupes on (app, business, owner, msg_id), one version
// sequence per owner. Owner "fail" is not durable, owner "hang" never answers (a batch holding
// it neither).
caf::behavior stub_router(caf::event_based_actor* self, std::shared_ptr<stub_log> log) {
  auto versions = std::make_shared<std::map<std::string, uint64_t>>();  // owner -> head
  auto seen = std::make_shared<std::map<std::string, uint64_t>>();      // key -> version
  auto store = [=](const publish_request& req) {
    auto key = req.app_id + "|" + req.business + "|" + req.owner + "|" + req.msg_id;
    if (auto it = seen->find(key); it != seen->end()) {
      return publish_result{it->second, true};
    }
    auto version = ++(*versions)[req.owner];
    seen->emplace(key, version);
    std::lock_guard<std::mutex> guard{log->mutex};
    log->published.push_back(req);
    return publish_result{version, false};
  };
  return {
      [=](publish_atom, const publish_batch& batch) -> caf::result<publish_outcomes> {
        ++log->calls;
        publish_outcomes out;
        for (const auto& req : batch.ops) {
          if (req.owner == "hang") {
            auto rp = self->make_response_promise<publish_outcomes>();
            log->hanging.push_back(caf::response_promise{rp});
            return rp;
          }
          if (req.owner == "fail") {
            out.outcomes.push_back({{}, caf::make_error(sync_errc::not_durable)});
          } else {
            out.outcomes.push_back({store(req), {}});
          }
        }
        return out;
      },
      [=](publish_atom, const publish_request& req) -> caf::result<publish_result> {
        ++log->calls;
        if (req.owner == "fail") {
          return caf::make_error(sync_errc::not_durable);
        }
        if (req.owner == "hang") {
          auto rp = self->make_response_promise<publish_result>();
          log->hanging.push_back(caf::response_promise{rp});
          return rp;
        }
        return store(req);
      },
      [=](head_atom, const std::string&, const std::string&, const std::string& owner) -> uint64_t {
        return (*versions)[owner];
      },
  };
}

class IngressRoutesTest : public ::testing::Test {
 public:
  IngressRoutesTest() : sys_(init()) {}

  ~IngressRoutesTest() override {
    server_.stop();
    sys_.registry().erase(sync_router_name);
    caf::anon_send_exit(router_, caf::exit_reason::user_shutdown);
  }

  void start(ingress_config cfg = {}) {
    router_ = sys_.spawn(stub_router, log_);
    cfg.apps = {app_config{"wallet", secret, "", ""}};
    cfg.clock = [] { return fake_now; };
    if (!use_registry_) {
      cfg.router = [r = router_] { return r; };
    } else {
      sys_.registry().put(sync_router_name, caf::actor_cast<caf::strong_actor_ptr>(router_));
    }
    register_ingress_routes(server_, sys_, std::move(cfg));
    ASSERT_EQ(server_.start(), std::nullopt);
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_.port());
    client_->set_read_timeout(30, 0);
  }

  httplib::Result post(const std::string& path, const std::string& body,
                       const char* content_type = "application/json") {
    httplib::Headers headers{{"Authorization", std::string{"Bearer wallet:"} + secret}};
    return client_->Post(path.c_str(), headers, body, content_type);
  }

  static json body_of(const httplib::Result& res) { return json::parse(res->body); }

 protected:
  caf::actor_system_config& init() {
    cfg_.set("scheduler.max-threads", 2);
    return cfg_;
  }

  caf::actor_system_config cfg_;
  caf::actor_system sys_;
  std::shared_ptr<stub_log> log_ = std::make_shared<stub_log>();
  caf::actor router_;
  bool use_registry_ = false;
  http_server server_{"127.0.0.1", 0, [] { return std::string{"m 1\n"}; }};
  std::unique_ptr<httplib::Client> client_;
};

json op(const std::string& owner, const std::string& msg_id) {
  return json{{"business", "chat"}, {"owner", owner}, {"payload", "hi"}, {"msg_id", msg_id}};
}

TEST_F(IngressRoutesTest, PublishAnswersTheVersionAndDedupes) {
  start();
  auto first = post("/v1/sync/ops", op("u1", "m1").dump());
  ASSERT_TRUE(first);
  EXPECT_EQ(first->status, 200) << first->body;
  EXPECT_EQ(body_of(first), (json{{"version", 1}, {"duplicated", false}}));
  EXPECT_EQ(first->get_header_value("Content-Type"), "application/json");
  auto again = post("/v1/sync/ops", op("u1", "m1").dump());
  EXPECT_EQ(body_of(again), (json{{"version", 1}, {"duplicated", true}}));
  auto second = post("/v1/sync/ops", op("u1", "m2").dump());
  EXPECT_EQ(body_of(second), (json{{"version", 2}, {"duplicated", false}}));
  std::lock_guard<std::mutex> guard{log_->mutex};
  ASSERT_EQ(log_->published.size(), 2U);
  EXPECT_EQ(log_->published[0].app_id, "wallet");
}

TEST_F(IngressRoutesTest, SignedRequestsAreAccepted) {
  start();
  auto body = op("u1", "m1").dump();
  auto ts = std::to_string(fake_now);
  httplib::Headers headers{
      {"X-Tidegate-App", "wallet"},
      {"X-Tidegate-Timestamp", ts},
      {"X-Tidegate-Signature",
       hmac_sha256_hex(secret, signing_string("POST", "/v1/sync/ops", ts, body))}};
  auto res = client_->Post("/v1/sync/ops", headers, body, "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;

  std::string target = "/v1/sync/head?business=chat&owner=u1";
  httplib::Headers head_headers{
      {"X-Tidegate-App", "wallet"},
      {"X-Tidegate-Timestamp", ts},
      {"X-Tidegate-Signature", hmac_sha256_hex(secret, signing_string("GET", target, ts, ""))}};
  auto head = client_->Get(target.c_str(), head_headers);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200) << head->body;
  EXPECT_EQ(body_of(head), (json{{"version", 1}}));
}

TEST_F(IngressRoutesTest, BadRequestsGetPreciseErrorsAndStoreNothing) {
  ingress_config cfg;
  cfg.max_body_bytes = 4096;
  cfg.limits.max_payload_bytes = 8;
  start(std::move(cfg));
  auto no_auth = client_->Post("/v1/sync/ops", op("u1", "m1").dump(), "application/json");
  ASSERT_TRUE(no_auth);
  EXPECT_EQ(no_auth->status, 401);
  EXPECT_EQ(body_of(no_auth)["code"], "unauthorized");

  auto text = post("/v1/sync/ops", op("u1", "m1").dump(), "text/plain");
  EXPECT_EQ(text->status, 415);
  EXPECT_EQ(body_of(text)["code"], "unsupported_media_type");

  auto garbage = post("/v1/sync/ops", "{\"owner\": ");
  EXPECT_EQ(garbage->status, 400);
  EXPECT_EQ(body_of(garbage)["code"], "bad_json");

  auto typo = op("u1", "m1");
  typo["filter"] = json::object();
  auto unknown = post("/v1/sync/ops", typo.dump());
  EXPECT_EQ(unknown->status, 400);
  EXPECT_EQ(body_of(unknown)["code"], "unknown_field");

  auto big = op("u1", "m1");
  big["payload"] = "123456789";
  auto too_large = post("/v1/sync/ops", big.dump());
  EXPECT_EQ(too_large->status, 413);
  EXPECT_EQ(body_of(too_large)["code"], "payload_too_large");

  auto huge = post("/v1/sync/ops", std::string(5000, ' '));
  ASSERT_TRUE(huge);
  EXPECT_EQ(huge->status, 413);
  EXPECT_EQ(body_of(huge)["code"], "body_too_large");

  auto nowhere = post("/v1/sync/opz", "{}");
  EXPECT_EQ(nowhere->status, 404);
  EXPECT_EQ(body_of(nowhere)["code"], "not_found");

  EXPECT_EQ(log_->calls.load(), 0);
  auto metrics = client_->Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->body, "m 1\n");
}

TEST_F(IngressRoutesTest, RouterErrorsAndTimeoutsMapToStatuses) {
  ingress_config cfg;
  cfg.router_timeout = std::chrono::milliseconds{200};
  start(std::move(cfg));
  auto fail = post("/v1/sync/ops", op("fail", "m1").dump());
  ASSERT_TRUE(fail);
  EXPECT_EQ(fail->status, 503);
  EXPECT_EQ(body_of(fail)["code"], "not_durable");
  auto hang = post("/v1/sync/ops", op("hang", "m1").dump());
  ASSERT_TRUE(hang);
  EXPECT_EQ(hang->status, 504);
  EXPECT_EQ(body_of(hang)["code"], "timeout");
}

TEST_F(IngressRoutesTest, BatchAnswersEachOpInOrder) {
  start();
  auto bad = op("u1", "m2");
  bad.erase("business");
  json body{{"ops", {op("u1", "m1"), bad, op("fail", "m3"), op("u1", "m1"), op("u2", "m4")}}};
  auto res = post("/v1/sync/ops:batch", body.dump());
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  auto results = body_of(res)["results"];
  ASSERT_EQ(results.size(), 5U);
  EXPECT_EQ(results[0], (json{{"version", 1}, {"duplicated", false}}));
  EXPECT_EQ(results[1]["error"]["code"], "missing_field");
  EXPECT_EQ(results[1]["error"]["message"], "missing required field 'ops[1].business'");
  EXPECT_EQ(results[2]["error"]["code"], "not_durable");
  EXPECT_EQ(results[3], (json{{"version", 1}, {"duplicated", true}}));
  EXPECT_EQ(results[4], (json{{"version", 1}, {"duplicated", false}}));

  auto empty = post("/v1/sync/ops:batch", R"({"ops": []})");
  EXPECT_EQ(empty->status, 400);
}

TEST_F(IngressRoutesTest, PushIsAOnceOpWithDisplay) {
  start();
  json body{{"target", {{"user", "u7"}}},
            {"title", "Paid"},
            {"body", "12 EUR"},
            {"ttl_ms", 60000},
            {"msg_id", "p1"}};
  auto res = post("/v1/push", body.dump());
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(body_of(res), (json{{"version", 1}, {"duplicated", false}}));
  std::lock_guard<std::mutex> guard{log_->mutex};
  ASSERT_EQ(log_->published.size(), 1U);
  const auto& req = log_->published[0];
  EXPECT_EQ(req.business, "push");
  EXPECT_EQ(req.owner, "u7");
  EXPECT_EQ(req.ttl_ms, 60000U);
  ASSERT_TRUE(req.push);
  EXPECT_EQ(req.push->body, "12 EUR");
}

TEST_F(IngressRoutesTest, TheRouterIsFoundInTheRegistry) {
  use_registry_ = true;
  start();
  auto res = post("/v1/sync/ops", op("u1", "m1").dump());
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  httplib::Headers headers{{"Authorization", std::string{"Bearer wallet:"} + secret}};
  auto head = client_->Get("/v1/sync/head?business=chat&owner=u1", headers);
  ASSERT_TRUE(head);
  EXPECT_EQ(body_of(head), (json{{"version", 1}}));
  auto bad = client_->Get("/v1/sync/head?business=chat&owner=u1&x=1", headers);
  EXPECT_EQ(bad->status, 400);
}

TEST(IngressRoutesNoRouterTest, NoRouterIs503) {
  caf::actor_system_config cfg;
  cfg.set("scheduler.max-threads", 2);
  caf::actor_system sys{cfg};
  http_server server{"127.0.0.1", 0, [] { return std::string{}; }};
  ingress_config icfg;
  icfg.apps = {app_config{"wallet", secret, "", ""}};
  register_ingress_routes(server, sys, std::move(icfg));
  ASSERT_EQ(server.start(), std::nullopt);
  httplib::Client client{"127.0.0.1", server.port()};
  httplib::Headers headers{{"Authorization", std::string{"Bearer wallet:"} + secret}};
  auto res = client.Post("/v1/sync/ops", headers, op("u1", "m1").dump(), "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 503);
  EXPECT_EQ(json::parse(res->body)["code"], "unavailable");
}

}  // namespace
}  // namespace tidegate::actors
