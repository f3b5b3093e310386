#include "bench/peers/nats_protocol.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace tidegate::bench {
namespace {

std::vector<nats_message> parse_all(nats_parser& parser) {
  std::vector<nats_message> out;
  nats_message m;
  while (parser.next(m) == nats_parse::message) {
    out.push_back(m);
  }
  return out;
}

TEST(NatsParserTest, ReadsEveryOperationOfAStream) {
  nats_parser parser;
  parser.feed(
      "INFO {\"server_id\":\"x\",\"max_payload\":1048576}\r\n"
      "PING\r\npong\r\n+OK\r\n"
      "MSG _INBOX.tidegate.0 1 26\r\n{\"stream\":\"bench\",\"seq\":1}\r\n"
      "MSG bench.u1 sid-2 reply.to 5\r\nhello\r\n"
      "HMSG bench.u2 3 12 17\r\nNATS/1.0\r\n\r\nhello\r\n"
      "-ERR 'Slow Consumer'\r\n");
  auto ms = parse_all(parser);
  ASSERT_EQ(ms.size(), 8u);
  EXPECT_EQ(ms[0].op, nats_op::info);
  EXPECT_EQ(ms[0].payload, "{\"server_id\":\"x\",\"max_payload\":1048576}");
  EXPECT_EQ(ms[1].op, nats_op::ping);
  EXPECT_EQ(ms[2].op, nats_op::pong);  // operation names are case-insensitive
  EXPECT_EQ(ms[3].op, nats_op::ok);
  EXPECT_EQ(ms[4].op, nats_op::msg);
  EXPECT_EQ(ms[4].subject, "_INBOX.tidegate.0");
  EXPECT_EQ(ms[4].sid, "1");
  EXPECT_EQ(ms[4].reply, "");
  EXPECT_EQ(ms[4].payload, "{\"stream\":\"bench\",\"seq\":1}");
  EXPECT_EQ(ms[5].subject, "bench.u1");
  EXPECT_EQ(ms[5].sid, "sid-2");
  EXPECT_EQ(ms[5].reply, "reply.to");
  EXPECT_EQ(ms[5].payload, "hello");
  EXPECT_EQ(ms[6].op, nats_op::msg);
  EXPECT_EQ(ms[6].header_bytes, 12u);
  EXPECT_EQ(ms[6].payload, "NATS/1.0\r\n\r\nhello");
  EXPECT_EQ(ms[7].op, nats_op::err);
  EXPECT_EQ(ms[7].payload, "Slow Consumer");
}

TEST(NatsParserTest, AMessageSplitAtEveryByteComesOutWhole) {
  const std::string wire = "PING\r\nMSG a.b 7 _INBOX.x 12\r\nhello\r\nworld\r\nPONG\r\n";
  nats_parser parser;
  std::vector<nats_message> ms;
  for (char c : wire) {
    parser.feed(std::string_view{&c, 1});
    auto got = parse_all(parser);
    ms.insert(ms.end(), got.begin(), got.end());
  }
  ASSERT_EQ(ms.size(), 3u);
  EXPECT_EQ(ms[0].op, nats_op::ping);
  EXPECT_EQ(ms[1].payload, "hello\r\nworld");  // CRLF inside a payload is payload
  EXPECT_EQ(ms[1].reply, "_INBOX.x");
  EXPECT_EQ(ms[2].op, nats_op::pong);
}

TEST(NatsParserTest, IncompleteInputAsksForMore) {
  nats_parser parser;
  nats_message m;
  EXPECT_EQ(parser.next(m), nats_parse::need_more);
  parser.feed("MSG a 1 5\r\nhel");
  EXPECT_EQ(parser.next(m), nats_parse::need_more);
  parser.feed("lo\r");
  EXPECT_EQ(parser.next(m), nats_parse::need_more);
  parser.feed("\n");
  EXPECT_EQ(parser.next(m), nats_parse::message);
  EXPECT_EQ(m.payload, "hello");
  EXPECT_EQ(parser.next(m), nats_parse::need_more);
}

TEST(NatsParserTest, GarbageIsAnErrorValueAndStaysOne) {
  for (const char* wire : {"HELLO\r\n", "MSG a 1\r\n", "MSG a 1 x\r\n", "MSG a 1 3\r\nabcd\r\n",
                           "HMSG a 1 9 5\r\nhello\r\n", "MSG a b c d e f\r\n"}) {
    nats_parser parser;
    parser.feed(wire);
    nats_message m;
    EXPECT_EQ(parser.next(m), nats_parse::malformed) << wire;
    EXPECT_FALSE(parser.error().empty()) << wire;
    parser.feed("PING\r\n");
    EXPECT_EQ(parser.next(m), nats_parse::malformed) << wire;
  }
}

TEST(NatsParserTest, AnEndlessControlLineIsRejected) {
  nats_parser parser;
  parser.feed(std::string(70 * 1024, 'x'));
  nats_message m;
  EXPECT_EQ(parser.next(m), nats_parse::malformed);
}

TEST(NatsParserTest, AHugePayloadSizeIsRejectedBeforeWaitingForIt) {
  nats_parser parser;
  parser.feed("MSG a 1 999999999999\r\n");
  nats_message m;
  EXPECT_EQ(parser.next(m), nats_parse::malformed);
}

TEST(NatsEncodeTest, PublishSubscribeAndConnectAreTheTextProtocol) {
  std::string out;
  append_nats_sub(out, "_INBOX.tidegate.3", "1");
  append_nats_pub(out, "bench.u7", "_INBOX.tidegate.3", "hello");
  append_nats_pub(out, "bench.u8", "", "");
  EXPECT_EQ(out,
            "SUB _INBOX.tidegate.3 1\r\n"
            "PUB bench.u7 _INBOX.tidegate.3 5\r\nhello\r\n"
            "PUB bench.u8 0\r\n\r\n");
  EXPECT_EQ(nats_connect(), "CONNECT {\"verbose\":false,\"pedantic\":false}\r\n");
}

TEST(NatsPubAckTest, ReadsTheSequenceOrTheError) {
  auto ok = parse_nats_pub_ack(R"({"stream":"bench","seq":42})");
  EXPECT_TRUE(ok.ok);
  EXPECT_EQ(ok.seq, 42u);
  auto dup = parse_nats_pub_ack(R"({"stream":"bench","seq":7,"duplicate":true})");
  EXPECT_TRUE(dup.ok);
  EXPECT_EQ(dup.seq, 7u);
  auto err = parse_nats_pub_ack(
      R"({"error":{"code":503,"err_code":10077,"description":"maximum messages exceeded"}})");
  EXPECT_FALSE(err.ok);
  EXPECT_EQ(err.error, "maximum messages exceeded");
  auto other = parse_nats_pub_ack(R"({"type":"io.nats.jetstream.api.v1.stream_create_response"})");
  EXPECT_FALSE(other.ok);
  EXPECT_FALSE(other.error.empty());
  EXPECT_FALSE(parse_nats_pub_ack(R"({"stream":"bench","seq":x})").ok);
}

}  // namespace
}  // namespace tidegate::bench
