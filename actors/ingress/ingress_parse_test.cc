#include "actors/ingress/ingress_parse.h"

#include <string>

#include <caf/error.hpp>
#include <caf/sec.hpp>
#include <gtest/gtest.h>

#include "actors/sync/sync_errc.h"

namespace tidegate::actors {
namespace {

using json = nlohmann::json;

json op() {
  return json{{"business", "chat"}, {"owner", "user:1"}, {"payload", "hi"}, {"msg_id", "m1"}};
}

ingress_error publish_error(const json& body, parse_limits limits = {}) {
  auto r = parse_publish(body, "wallet", limits);
  EXPECT_TRUE(std::holds_alternative<ingress_error>(r)) << body.dump();
  return std::holds_alternative<ingress_error>(r) ? std::get<ingress_error>(r) : ingress_error{};
}

TEST(IngressParseTest, AMinimalOpParses) {
  auto r = parse_publish(op(), "wallet", {});
  ASSERT_TRUE(std::holds_alternative<publish_request>(r));
  const auto& req = std::get<publish_request>(r);
  EXPECT_EQ(req.app_id, "wallet");
  EXPECT_EQ(req.business, "chat");
  EXPECT_EQ(req.owner, "user:1");
  EXPECT_EQ(req.payload, "hi");
  EXPECT_EQ(req.msg_id, "m1");
  EXPECT_EQ(req.ttl_ms, 0U);
  EXPECT_FALSE(req.filters);
  EXPECT_FALSE(req.push);
}

TEST(IngressParseTest, FiltersAndTtlAreRead) {
  auto body = op();
  body["ttl_ms"] = 60000;
  body["filters"] = {{"os", json::array({"ios"})},
                     {"app_version_min", "1.2"},
                     {"valid_from_ms", 5},
                     {"valid_to_ms", 9},
                     {"uids", {"7", "8"}},
                     {"uid_min", 1},
                     {"uid_max", 100}};
  auto r = parse_publish(body, "wallet", {});
  ASSERT_TRUE(std::holds_alternative<publish_request>(r)) << std::get<ingress_error>(r).message;
  const auto& req = std::get<publish_request>(r);
  EXPECT_EQ(req.ttl_ms, 60000U);
  ASSERT_TRUE(req.filters);
  EXPECT_EQ(req.filters->os, std::vector<std::string>{"ios"});
  EXPECT_EQ(req.filters->app_version_min, "1.2");
  EXPECT_EQ(req.filters->valid_to_ms, 9U);
  EXPECT_EQ(req.filters->uids, (std::vector<std::string>{"7", "8"}));
  EXPECT_EQ(req.filters->uid_max, 100U);
}

TEST(IngressParseTest, UnknownFieldsAreRefusedByName) {
  auto body = op();
  body["filter"] = json::object();
  auto err = publish_error(body);
  EXPECT_EQ(err.status, 400);
  EXPECT_EQ(err.code, "unknown_field");
  EXPECT_NE(err.message.find("\"filter\""), std::string::npos) << err.message;
  body = op();
  body["filters"] = {{"uid_mn", 1}};
  err = publish_error(body);
  EXPECT_EQ(err.code, "unknown_field");
  EXPECT_NE(err.message.find("in 'filters'"), std::string::npos) << err.message;
}

TEST(IngressParseTest, MissingAndMistypedFieldsAreNamed) {
  auto body = op();
  body.erase("owner");
  EXPECT_EQ(publish_error(body),
            (ingress_error{400, "missing_field", "missing required field 'owner'"}));
  body = op();
  body["ttl_ms"] = "10";
  EXPECT_EQ(publish_error(body),
            (ingress_error{400, "wrong_type",
                           "field 'ttl_ms' must be a non-negative integer, got a string"}));
  body["ttl_ms"] = -1;
  EXPECT_EQ(publish_error(body),
            (ingress_error{400, "invalid_value", "field 'ttl_ms' must be >= 0, got -1"}));
  body["ttl_ms"] = 1.5;
  EXPECT_EQ(publish_error(body).code, "wrong_type");
  body = op();
  body["filters"] = {{"os", "ios"}};
  EXPECT_EQ(publish_error(body).message,
            "field 'filters.os' must be an array of strings, got a string");
  EXPECT_EQ(publish_error(json::array()).message, "the body must be a JSON object, got an array");
}

TEST(IngressParseTest, KeysMustBe1To160Bytes) {
  auto body = op();
  body["owner"] = "";
  EXPECT_EQ(publish_error(body),
            (ingress_error{400, "bad_owner", "field 'owner' must be 1-160 bytes, got 0"}));
  body["owner"] = std::string(161, 'x');
  EXPECT_EQ(publish_error(body).code, "bad_owner");
  body["owner"] = std::string(160, 'x');
  EXPECT_TRUE(std::holds_alternative<publish_request>(parse_publish(body, "a", {})));
  body = op();
  body["msg_id"] = std::string(161, 'x');
  EXPECT_EQ(publish_error(body).code, "bad_msg_id");
  body = op();
  body["business"] = "";
  EXPECT_EQ(publish_error(body).message, "field 'business' must be 1-160 bytes, got 0");
}

TEST(IngressParseTest, PayloadLimitIsA413) {
  parse_limits limits;
  limits.max_payload_bytes = 4;
  auto body = op();
  body["payload"] = "12345";
  EXPECT_EQ(
      publish_error(body, limits),
      (ingress_error{413, "payload_too_large", "field 'payload' is 5 bytes, over the limit of 4"}));
  body["payload"] = "1234";
  EXPECT_TRUE(std::holds_alternative<publish_request>(parse_publish(body, "a", limits)));
}

TEST(IngressParseTest, Base64PayloadIsDecodedStrictly) {
  auto body = op();
  body.erase("payload");
  body["payload_base64"] = "AAEC/w==";
  auto r = parse_publish(body, "a", {});
  ASSERT_TRUE(std::holds_alternative<publish_request>(r));
  EXPECT_EQ(std::get<publish_request>(r).payload, std::string("\x00\x01\x02\xff", 4));
  body["payload_base64"] = "AAEC/w=";
  EXPECT_EQ(publish_error(body).code, "bad_base64");
  body["payload"] = "x";
  body["payload_base64"] = "AAAA";
  EXPECT_EQ(publish_error(body).code, "invalid_value");
  body.erase("payload");
  body.erase("payload_base64");
  EXPECT_EQ(publish_error(body).code, "missing_field");
}

TEST(IngressParseTest, Base64DecoderRejectsNonCanonicalInput) {
  EXPECT_EQ(decode_base64(""), std::string{});
  EXPECT_EQ(decode_base64("aGk="), std::string{"hi"});
  EXPECT_EQ(decode_base64("aGVsbG8h"), std::string{"hello!"});
  EXPECT_FALSE(decode_base64("aGk"));   // unpadded
  EXPECT_FALSE(decode_base64("aGl="));  // dropped bits not zero
  EXPECT_FALSE(decode_base64("a=Gk"));  // data after padding
  EXPECT_FALSE(decode_base64("aG k"));  // whitespace
  EXPECT_FALSE(decode_base64("aG-_"));  // URL alphabet
  EXPECT_FALSE(decode_base64("====AAAA"));
}

TEST(IngressParseTest, BadJsonGivesThePosition) {
  auto r = parse_json(R"({"owner": })");
  ASSERT_TRUE(std::holds_alternative<ingress_error>(r));
  const auto& err = std::get<ingress_error>(r);
  EXPECT_EQ(err.code, "bad_json");
  EXPECT_NE(err.message.find("column 11"), std::string::npos) << err.message;
  EXPECT_TRUE(std::holds_alternative<ingress_error>(parse_json("\"\xff\"")));  // not UTF-8
  EXPECT_TRUE(std::holds_alternative<ingress_error>(parse_json(std::string(100, '['))));
  EXPECT_TRUE(std::holds_alternative<nlohmann::json>(parse_json(R"({"a": [1, {"b": null}]})")));
}

TEST(IngressParseTest, ContentTypeMustBeJson) {
  std::string json_ct = "application/json";
  std::string charset = "application/json; charset=UTF-8";
  std::string text = "text/plain";
  EXPECT_TRUE(std::holds_alternative<std::monostate>(check_content_type(&json_ct)));
  EXPECT_TRUE(std::holds_alternative<std::monostate>(check_content_type(&charset)));
  auto err = std::get<ingress_error>(check_content_type(&text));
  EXPECT_EQ(err.status, 415);
  EXPECT_EQ(err.code, "unsupported_media_type");
  EXPECT_EQ(std::get<ingress_error>(check_content_type(nullptr)).status, 415);
}

TEST(IngressParseTest, BatchKeepsOrderAndPerOpErrors) {
  auto bad = op();
  bad.erase("msg_id");
  auto r = parse_batch(json{{"ops", {op(), bad}}}, "a", {});
  ASSERT_EQ(r.index(), 0U);
  const auto& ops = std::get<0>(r);
  ASSERT_EQ(ops.size(), 2U);
  EXPECT_TRUE(std::holds_alternative<publish_request>(ops[0]));
  ASSERT_TRUE(std::holds_alternative<ingress_error>(ops[1]));
  EXPECT_EQ(std::get<ingress_error>(ops[1]).message, "missing required field 'ops[1].msg_id'");
}

TEST(IngressParseTest, BatchSizeIs1To1000) {
  auto empty = parse_batch(json{{"ops", json::array()}}, "a", {});
  ASSERT_EQ(empty.index(), 1U);
  EXPECT_EQ(std::get<1>(empty).message, "field 'ops' must have 1-1000 entries, got 0");
  json many = json::array();
  for (int i = 0; i < 1001; ++i) {
    many.push_back(op());
  }
  EXPECT_EQ(parse_batch(json{{"ops", many}}, "a", {}).index(), 1U);
  EXPECT_EQ(parse_batch(json{{"ops", {op()}}, {"x", 1}}, "a", {}).index(), 1U);
  EXPECT_EQ(parse_batch(json{{"op", {op()}}}, "a", {}).index(), 1U);
}

TEST(IngressParseTest, PushBecomesAOnceOpWithDisplay) {
  json body{{"target", {{"device", "d9"}}}, {"title", "Paid"}, {"body", "12 EUR"},
            {"action", "open:tx/1"},        {"ttl_ms", 1000},  {"msg_id", "p1"}};
  auto r = parse_push(body, "wallet", {});
  ASSERT_TRUE(std::holds_alternative<publish_request>(r)) << std::get<ingress_error>(r).message;
  const auto& req = std::get<publish_request>(r);
  EXPECT_EQ(req.business, "push_device");
  EXPECT_EQ(req.owner, "d9");
  EXPECT_EQ(req.ttl_ms, 1000U);
  ASSERT_TRUE(req.push);
  EXPECT_EQ(req.push->title, "Paid");
  EXPECT_EQ(req.push->action, "open:tx/1");
  body["target"] = {{"user", "u"}, {"device", "d"}};
  EXPECT_EQ(std::get<ingress_error>(parse_push(body, "a", {})).message,
            "field 'target' must have exactly one of 'user' or 'device'");
  body["target"] = {{"usr", "u"}};
  EXPECT_EQ(std::get<ingress_error>(parse_push(body, "a", {})).code, "invalid_value");
  body["target"] = {{"user", "u"}};
  body.erase("ttl_ms");
  EXPECT_EQ(std::get<ingress_error>(parse_push(body, "a", {})).message,
            "missing required field 'ttl_ms'");
}

TEST(IngressParseTest, HeadNeedsBusinessAndOwnerOnly) {
  auto ok = parse_head({{"business", "chat"}, {"owner", "u1"}});
  ASSERT_TRUE(std::holds_alternative<head_query>(ok));
  EXPECT_EQ(std::get<head_query>(ok).owner, "u1");
  EXPECT_EQ(std::get<ingress_error>(parse_head({{"business", "chat"}})).message,
            "missing required query parameter 'owner'");
  EXPECT_EQ(
      std::get<ingress_error>(parse_head({{"business", "c"}, {"owner", "o"}, {"x", ""}})).code,
      "unknown_field");
  EXPECT_EQ(std::get<ingress_error>(parse_head({{"business", ""}, {"owner", "o"}})).code,
            "invalid_value");
}

TEST(IngressParseTest, RouterErrorsMapToStatuses) {
  EXPECT_EQ(from_router_error(caf::make_error(sync_errc::unknown_business)).status, 400);
  EXPECT_EQ(from_router_error(caf::make_error(sync_errc::bad_owner)).code, "bad_owner");
  EXPECT_EQ(from_router_error(caf::make_error(sync_errc::payload_too_large)).status, 413);
  auto nd = from_router_error(caf::make_error(sync_errc::not_durable));
  EXPECT_EQ(nd.status, 503);
  EXPECT_EQ(nd.code, "not_durable");
  EXPECT_EQ(from_router_error(caf::make_error(sync_errc::overloaded)).status, 429);
  EXPECT_EQ(from_router_error(caf::sec::request_timeout).status, 504);
  EXPECT_EQ(from_router_error(caf::sec::request_receiver_down).status, 503);
  EXPECT_EQ(from_router_error(caf::sec::unexpected_message).status, 500);
}

TEST(IngressParseTest, ErrorBodyIsJson) {
  auto body = json::parse(error_body({400, "bad_owner", "field 'owner' \xff"}));
  EXPECT_EQ(body["code"], "bad_owner");
  EXPECT_EQ(body.size(), 2U);
}

}  // namespace
}  // namespace tidegate::actors
