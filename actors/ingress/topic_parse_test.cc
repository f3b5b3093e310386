#include "actors/ingress/topic_parse.h"

#include <gtest/gtest.h>

namespace tidegate::actors {
namespace {

using json = nlohmann::json;

template <class T>
ingress_error error_of(const std::variant<T, ingress_error>& v) {
  auto* err = std::get_if<ingress_error>(&v);
  if (err == nullptr) {
    ADD_FAILURE() << "accepted";
    return {};
  }
  return *err;
}

TEST(TopicParseTest, APublishNeedsATopicNameAMsgIdAndAPayload) {
  auto ok = parse_topic_publish(
      json{{"topic", "shop:42"}, {"msg_id", "m1"}, {"payload_base64", "aGk="}, {"ttl_ms", 5}}, {});
  ASSERT_TRUE(std::holds_alternative<topic_publish>(ok));
  const auto& msg = std::get<topic_publish>(ok);
  EXPECT_EQ(msg.topic, "shop:42");
  EXPECT_EQ(msg.payload, "hi");
  EXPECT_EQ(msg.ttl_ms, 5u);
  EXPECT_EQ(
      error_of(parse_topic_publish(json{{"topic", "a/b"}, {"msg_id", "m"}, {"payload", "p"}}, {}))
          .code,
      "bad_topic");
  EXPECT_EQ(
      error_of(parse_topic_publish(
                   json{{"topic", std::string(161, 't')}, {"msg_id", "m"}, {"payload", "p"}}, {}))
          .code,
      "bad_topic");
  auto unknown = error_of(
      parse_topic_publish(json{{"topic", "t"}, {"msg_id", "m"}, {"payload", "p"}, {"to", 1}}, {}));
  EXPECT_EQ(unknown.code, "unknown_field");
  EXPECT_NE(unknown.message.find("\"to\""), std::string::npos);
}

TEST(TopicParseTest, ABadMessageOfABatchSpoilsOnlyItself) {
  auto parsed = parse_topic_batch(
      json{{"topic", "t"},
           {"messages", {{{"msg_id", "a"}, {"payload", "p"}}, 7, {{"msg_id", "c"}}}}},
      {});
  ASSERT_EQ(parsed.index(), 0u);
  const auto& out = std::get<0>(parsed);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_TRUE(std::holds_alternative<topic_publish>(out[0]));
  EXPECT_EQ(std::get<ingress_error>(out[1]).code, "wrong_type");
  EXPECT_EQ(std::get<ingress_error>(out[2]).code, "missing_field");
  EXPECT_NE(std::get<ingress_error>(out[2]).message.find("messages[2].payload"), std::string::npos);
  parse_limits two;
  two.max_batch_ops = 2;
  EXPECT_EQ(
      error_of(parse_topic_batch(json{{"topic", "t"}, {"messages", json{1, 2, 3}}}, two)).code,
      "invalid_value");
}

TEST(TopicParseTest, AFollowNamesOneToAThousandUsers) {
  auto ok = parse_follow(json{{"topic", "t"}, {"users", {"a", "b"}}});
  ASSERT_TRUE(std::holds_alternative<follow_body>(ok));
  EXPECT_EQ(std::get<follow_body>(ok).users.size(), 2u);
  EXPECT_EQ(error_of(parse_follow(json{{"topic", "t"}, {"users", json::array()}})).code,
            "invalid_value");
  EXPECT_EQ(error_of(parse_follow(json{{"topic", "t"}, {"users", {std::string(161, 'u')}}})).code,
            "bad_user");
  EXPECT_EQ(error_of(parse_follow(json{{"users", {"a"}}})).code, "missing_field");
}

}  // namespace
}  // namespace tidegate::actors
