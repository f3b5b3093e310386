#include "bench/fanout/nats_core_codec.h"

#include <string>

#include <gtest/gtest.h>

#include "bench/fanout/fanout_payload.h"
#include "bench/fanout/recording_sink.h"

namespace tidegate::bench {
namespace {

std::unique_ptr<fanout_codec> make() {
  return make_nats_core_codec("bench.fanout");
}

std::string msg(uint64_t seq, const std::string& extra = "") {
  std::string payload;
  make_fanout_payload(seq, 100, payload);
  return "MSG bench.fanout 1 " + extra + std::to_string(payload.size()) + "\r\n" + payload + "\r\n";
}

TEST(NatsCoreCodecTest, HandshakesSubscribeThenPing) {
  auto codec = make();
  std::string out;
  codec->append_handshake(out);
  EXPECT_EQ(out,
            "CONNECT {\"verbose\":false,\"pedantic\":false}\r\nSUB bench.fanout 1\r\nPING\r\n");
  out.clear();
  codec->append_publisher_handshake(out);
  EXPECT_EQ(out, "CONNECT {\"verbose\":false,\"pedantic\":false}\r\nPING\r\n");
  out.clear();
  codec->append_publish(out, 7, "0123456789abcdef..");
  EXPECT_EQ(out, "PUB bench.fanout 18\r\n0123456789abcdef..\r\n");
  EXPECT_FALSE(codec->answers_publishes());
}

TEST(NatsCoreCodecTest, AStreamSplitAtEveryByteGivesTheSameMessages) {
  const std::string wire = "INFO {\"server_id\":\"x\"}\r\n+OK\r\nPONG\r\n" + msg(1) + "PING\r\n"
                           + msg(2, "reply.to ") + "pong\r\n" + msg(0xabcdef);
  for (size_t split = 0; split <= wire.size() + 1; ++split) {
    auto c = consume_split(make, false, wire, split);
    ASSERT_EQ(c.error, "") << "split at " << split;
    EXPECT_EQ(c.sink.ready, 1) << "split at " << split;  // the second PONG is not a handshake
    EXPECT_EQ(c.sink.messages, (std::vector<uint64_t>{1, 2, 0xabcdef})) << "split at " << split;
    EXPECT_EQ(c.out, "PONG\r\n") << "split at " << split;
  }
}

TEST(NatsCoreCodecTest, BadInputIsAnErrorThatStays) {
  for (const char* wire :
       {"HELLO\r\n", "MSG a 1\r\n", "MSG a 1 x\r\n", "MSG a 1 3\r\nabcd\r\n", "MSG a 1 2 3 4 5\r\n",
        "MSG a 1 5\r\nhello\r\n", "-ERR 'Authorization Violation'\r\n"}) {
    auto codec = make();
    recording_sink sink;
    std::string out;
    EXPECT_FALSE(codec->consume(wire, sink, out)) << wire;
    EXPECT_FALSE(codec->error().empty()) << wire;
    EXPECT_FALSE(codec->consume("PING\r\n", sink, out)) << wire;
    EXPECT_EQ(out, "") << wire;
  }
  auto codec = make();
  recording_sink sink;
  std::string out;
  EXPECT_FALSE(codec->consume("-ERR 'Slow Consumer'\r\n", sink, out));
  EXPECT_EQ(codec->error(), "-ERR 'Slow Consumer'");
}

TEST(NatsCoreCodecTest, AnEndlessControlLineIsAnError) {
  auto codec = make();
  recording_sink sink;
  std::string out;
  EXPECT_TRUE(codec->consume(std::string(60 * 1024, 'x'), sink, out));
  EXPECT_FALSE(codec->consume(std::string(8 * 1024, 'x'), sink, out));
  EXPECT_EQ(codec->error(), "control line longer than 64 KiB");
}

}  // namespace
}  // namespace tidegate::bench
