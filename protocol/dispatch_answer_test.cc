#include "protocol/dispatch_answer.h"

#include <gtest/gtest.h>

namespace tidegate::protocol {
namespace {

constexpr std::string_view key = "dispatch-key-0123456789";

dispatch_answer sample() {
  dispatch_answer a;
  a.app = "demo";
  a.owner = "alice";
  a.zone = "z2";
  a.addresses = {"127.0.0.3:7100", "127.0.0.4:7100"};
  a.ttl_s = 300;
  a.expires_at_s = 2'000'000'300;
  a.hints.zstd = true;
  a.hints.heartbeat_ms = 30'000;
  sign_dispatch(a, key);
  return a;
}

TEST(DispatchAnswerTest, RoundTripsThroughJsonAndVerifies) {
  auto a = sample();
  std::string error;
  auto parsed = parse_dispatch_answer(render_dispatch_json(a), error);
  ASSERT_TRUE(parsed) << error;
  EXPECT_EQ(parsed->addresses, a.addresses);
  EXPECT_EQ(parsed->zone, "z2");
  EXPECT_TRUE(parsed->hints.zstd);
  EXPECT_FALSE(parsed->hints.tls);
  EXPECT_EQ(parsed->hints.heartbeat_ms, 30'000u);
  EXPECT_EQ(check_dispatch(*parsed, key, "demo", "alice", 2'000'000'000), dispatch_status::ok);
}

TEST(DispatchAnswerTest, AnyChangedFieldBreaksTheSignature) {
  const auto good = sample();
  std::vector<dispatch_answer> altered(9, good);
  altered[0].app = "demo2";
  altered[1].owner = "bob";
  altered[2].zone = "z1";
  altered[3].addresses.push_back("10.0.0.1:7100");
  altered[4].addresses = {"127.0.0.4:7100", "127.0.0.3:7100"};
  altered[5].ttl_s = 301;
  altered[6].expires_at_s += 1;
  altered[7].hints.tls = true;
  altered[8].hints.heartbeat_ms = 1;
  for (size_t i = 0; i < altered.size(); ++i) {
    EXPECT_EQ(check_dispatch(altered[i], key, altered[i].app, altered[i].owner, 0),
              dispatch_status::bad_signature)
        << "field " << i;
  }
  EXPECT_EQ(check_dispatch(good, "another-key-0123456789", "demo", "alice", 0),
            dispatch_status::bad_signature);
}

TEST(DispatchAnswerTest, LengthPrefixesKeepFieldBoundaries) {
  // Moving a byte from one field to the next must change what is signed.
  auto a = sample();
  auto b = a;
  a.app = "ab";
  a.owner = "c";
  b.app = "a";
  b.owner = "bc";
  EXPECT_NE(dispatch_signing_text(a), dispatch_signing_text(b));
}

TEST(DispatchAnswerTest, RefusesExpiredForeignAndEmptyAnswers) {
  auto a = sample();
  EXPECT_EQ(check_dispatch(a, key, "demo", "alice", a.expires_at_s), dispatch_status::expired);
  EXPECT_EQ(check_dispatch(a, key, "demo", "bob", 0), dispatch_status::not_asked_for);
  EXPECT_EQ(check_dispatch(a, key, "other", "alice", 0), dispatch_status::not_asked_for);
  a.addresses.clear();
  sign_dispatch(a, key);
  EXPECT_EQ(check_dispatch(a, key, "demo", "alice", 0), dispatch_status::no_address);
  a.signature = "not base64url!";
  EXPECT_EQ(check_dispatch(a, key, "demo", "alice", 0), dispatch_status::bad_signature);
}

TEST(DispatchAnswerTest, ParseErrorsNameTheField) {
  std::string error;
  EXPECT_FALSE(parse_dispatch_answer("[1]", error));
  EXPECT_EQ(error, "the dispatch answer is not a JSON object");
  EXPECT_FALSE(parse_dispatch_answer("{", error));
  auto json = render_dispatch_json(sample());
  auto without = [&](const std::string& from, const std::string& to) {
    auto text = json;
    auto at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return text.replace(at, from.size(), to);
  };
  EXPECT_FALSE(parse_dispatch_answer(without("\"ttl_s\":300", "\"ttl_s\":-1"), error));
  EXPECT_NE(error.find("\"ttl_s\""), std::string::npos) << error;
  EXPECT_FALSE(parse_dispatch_answer(without("\"zone\":\"z2\"", "\"zone\":2"), error));
  EXPECT_NE(error.find("\"zone\""), std::string::npos) << error;
  EXPECT_FALSE(parse_dispatch_answer(without("\"127.0.0.3:7100\"", "7"), error));
  EXPECT_NE(error.find("\"addresses\""), std::string::npos) << error;
  EXPECT_FALSE(parse_dispatch_answer(without("\"tls\":false", "\"tls\":0"), error));
  EXPECT_NE(error.find("hints.tls"), std::string::npos) << error;
}

}  // namespace
}  // namespace tidegate::protocol
