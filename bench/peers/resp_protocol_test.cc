#include "bench/peers/resp_protocol.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace tidegate::bench {
namespace {

std::vector<resp_value> parse_all(resp_parser& parser) {
  std::vector<resp_value> out;
  resp_value v;
  while (parser.next(v) == resp_parse::value) {
    out.push_back(v);
  }
  return out;
}

TEST(RespParserTest, ReadsEveryReplyType) {
  resp_parser parser;
  parser.feed(
      "+PONG\r\n-ERR wrong number of arguments\r\n:1234\r\n:-5\r\n"
      "$15\r\n1700000000000-0\r\n$0\r\n\r\n$-1\r\n*-1\r\n"
      "*2\r\n$3\r\nfoo\r\n*1\r\n:7\r\n*0\r\n");
  auto vs = parse_all(parser);
  ASSERT_EQ(vs.size(), 10u);
  EXPECT_EQ(vs[0].type, resp_type::simple);
  EXPECT_EQ(vs[0].text, "PONG");
  EXPECT_EQ(vs[1].type, resp_type::error);
  EXPECT_EQ(vs[1].text, "ERR wrong number of arguments");
  EXPECT_EQ(vs[2].type, resp_type::integer);
  EXPECT_EQ(vs[2].integer, 1234);
  EXPECT_EQ(vs[3].integer, -5);
  EXPECT_EQ(vs[4].type, resp_type::bulk);
  EXPECT_EQ(vs[4].text, "1700000000000-0");
  EXPECT_EQ(vs[5].type, resp_type::bulk);
  EXPECT_EQ(vs[5].text, "");
  EXPECT_EQ(vs[6].type, resp_type::nil);
  EXPECT_EQ(vs[7].type, resp_type::nil);
  ASSERT_EQ(vs[8].type, resp_type::array);
  ASSERT_EQ(vs[8].elements.size(), 2u);
  EXPECT_EQ(vs[8].elements[0].text, "foo");
  ASSERT_EQ(vs[8].elements[1].elements.size(), 1u);
  EXPECT_EQ(vs[8].elements[1].elements[0].integer, 7);
  EXPECT_EQ(vs[9].type, resp_type::array);
  EXPECT_TRUE(vs[9].elements.empty());
}

TEST(RespParserTest, RepliesSplitAtEveryByteComeOutWhole) {
  const std::string wire = "$15\r\n1700000000000-0\r\n*2\r\n$4\r\na\r\nb\r\n:1\r\n-ERR x\r\n";
  resp_parser parser;
  std::vector<resp_value> vs;
  for (char c : wire) {
    parser.feed(std::string_view{&c, 1});
    auto got = parse_all(parser);
    vs.insert(vs.end(), got.begin(), got.end());
  }
  ASSERT_EQ(vs.size(), 3u);
  EXPECT_EQ(vs[0].text, "1700000000000-0");
  ASSERT_EQ(vs[1].elements.size(), 2u);
  EXPECT_EQ(vs[1].elements[0].text, "a\r\nb");  // CRLF inside a bulk string is data
  EXPECT_EQ(vs[1].elements[1].integer, 1);
  EXPECT_EQ(vs[2].type, resp_type::error);
}

TEST(RespParserTest, AnIncompleteArrayIsNotConsumed) {
  resp_parser parser;
  resp_value v;
  parser.feed("*2\r\n:1\r\n");
  EXPECT_EQ(parser.next(v), resp_parse::need_more);
  EXPECT_EQ(parser.next(v), resp_parse::need_more);
  parser.feed(":2\r\n");
  ASSERT_EQ(parser.next(v), resp_parse::value);
  ASSERT_EQ(v.elements.size(), 2u);
  EXPECT_EQ(v.elements[0].integer, 1);
  EXPECT_EQ(v.elements[1].integer, 2);
  EXPECT_EQ(parser.next(v), resp_parse::need_more);
}

TEST(RespParserTest, GarbageIsAnErrorValueAndStaysOne) {
  for (const char* wire : {"?what\r\n", "\r\n", ":12x\r\n", ":\r\n", "$-2\r\n", "$abc\r\n",
                           "$3\r\nabcd\r\n", "*-7\r\n", "$999999999999\r\n",
                           "*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n"}) {
    resp_parser parser;
    parser.feed(wire);
    resp_value v;
    EXPECT_EQ(parser.next(v), resp_parse::malformed) << wire;
    EXPECT_FALSE(parser.error().empty()) << wire;
    parser.feed("+OK\r\n");
    EXPECT_EQ(parser.next(v), resp_parse::malformed) << wire;
  }
}

TEST(RespEncodeTest, CommandsAreArraysOfBulkStrings) {
  std::string out;
  append_resp_command(out, {"XADD", "bench:u7", "*", "p", "hello"});
  append_resp_command(out, {"PING"});
  EXPECT_EQ(out,
            "*5\r\n$4\r\nXADD\r\n$8\r\nbench:u7\r\n$1\r\n*\r\n$1\r\np\r\n$5\r\nhello\r\n"
            "*1\r\n$4\r\nPING\r\n");
}

}  // namespace
}  // namespace tidegate::bench
