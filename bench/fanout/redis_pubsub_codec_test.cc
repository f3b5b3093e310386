#include "bench/fanout/redis_pubsub_codec.h"

#include <string>

#include <gtest/gtest.h>

#include "bench/fanout/fanout_payload.h"
#include "bench/fanout/recording_sink.h"

namespace tidegate::bench {
namespace {

std::unique_ptr<fanout_codec> make() {
  return make_redis_pubsub_codec("bench:fanout");
}

std::string bulk(const std::string& s) {
  return "$" + std::to_string(s.size()) + "\r\n" + s + "\r\n";
}

std::string message(uint64_t seq) {
  std::string payload;
  make_fanout_payload(seq, 100, payload);
  return "*3\r\n" + bulk("message") + bulk("bench:fanout") + bulk(payload);
}

TEST(RedisPubsubCodecTest, SpeaksResp) {
  auto codec = make();
  std::string out;
  codec->append_handshake(out);
  EXPECT_EQ(out, "*2\r\n$9\r\nSUBSCRIBE\r\n$12\r\nbench:fanout\r\n");
  out.clear();
  codec->append_publisher_handshake(out);
  EXPECT_EQ(out, "*1\r\n$4\r\nPING\r\n");
  out.clear();
  codec->append_publish(out, 3, "0000000000000003");
  EXPECT_EQ(out, "*3\r\n$7\r\nPUBLISH\r\n$12\r\nbench:fanout\r\n$16\r\n0000000000000003\r\n");
  EXPECT_TRUE(codec->answers_publishes());
}

TEST(RedisPubsubCodecTest, SubscriberStreamSplitAtEveryByte) {
  const std::string wire = "*3\r\n" + bulk("subscribe") + bulk("bench:fanout") + ":1\r\n"
                           + message(0) + message(1) + message(0x1234567890);
  for (size_t split = 0; split <= wire.size() + 1; ++split) {
    auto c = consume_split(make, false, wire, split);
    ASSERT_EQ(c.error, "") << "split at " << split;
    EXPECT_EQ(c.sink.ready, 1) << "split at " << split;
    EXPECT_EQ(c.sink.messages, (std::vector<uint64_t>{0, 1, 0x1234567890})) << "split at " << split;
  }
}

TEST(RedisPubsubCodecTest, PublisherStreamSplitAtEveryByte) {
  const std::string wire = "+PONG\r\n:1000\r\n:0\r\n-OOM command not allowed\r\n:5\r\n";
  for (size_t split = 0; split <= wire.size() + 1; ++split) {
    auto c = consume_split(make, true, wire, split);
    ASSERT_EQ(c.error, "") << "split at " << split;
    EXPECT_EQ(c.sink.ready, 1) << "split at " << split;
    EXPECT_EQ(c.sink.replies,
              (std::vector<std::string>{"ok", "ok", "OOM command not allowed", "ok"}))
        << "split at " << split;
  }
}

TEST(RedisPubsubCodecTest, BadInputIsAnErrorThatStays) {
  for (std::string wire :
       {std::string{"?what\r\n"}, std::string{"*x\r\n"}, std::string{"*9\r\n"},
        std::string{"$3\r\nabcd\r\n"}, "*3\r\n" + bulk("message") + bulk("c") + bulk("short"),
        "*3\r\n" + bulk("unsubscribe") + bulk("c") + ":0\r\n", std::string{"-ERR wrong\r\n"},
        std::string{":1\r\n"}}) {
    auto codec = make();
    recording_sink sink;
    std::string out;
    EXPECT_FALSE(codec->consume(wire, sink, out)) << wire;
    EXPECT_FALSE(codec->error().empty()) << wire;
    EXPECT_FALSE(codec->consume("+PONG\r\n", sink, out)) << wire;
    EXPECT_EQ(sink.ready, 0) << wire;
  }
}

}  // namespace
}  // namespace tidegate::bench
