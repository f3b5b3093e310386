// Every kind of bad frame gets ERROR{code} and a close, and changes nothing else: a well
// behaved client on the same node is served before and after.
#include <gtest/gtest.h>

#include "protocol/frame_encoder.h"
#include "protocol/varint.h"
#include "protocol/zstd_codec.h"
#include "tests/support/raw_client.h"
#include "tests/support/test_node.h"
#include "tidegate/v1/control.pb.h"
#include "tidegate/v1/handshake.pb.h"

namespace tidegate::test {
namespace {

using namespace std::chrono_literals;

struct bad_case {
  const char* name;
  bool after_login;  // sent by an authenticated client, or as the first bytes
  std::string bytes;
  v1::ErrorCode expected;
};

void PrintTo(const bad_case& c, std::ostream* os) {
  *os << c.name;
}

std::string frame(v1::FrameType type, uint8_t flags, const std::string& payload) {
  std::string out;
  protocol::append_frame(type, flags, 0, 0, payload, out);
  return out;
}

std::string hello_bytes() {
  v1::Hello h;
  h.set_protocol_version(1);
  h.set_device_id("d");
  h.set_app_id(test_app);
  return frame(v1::FRAME_TYPE_HELLO, 0, h.SerializeAsString());
}

std::vector<bad_case> cases() {
  std::string too_large("\x10\x05\x00\x00", 4);
  protocol::append_varint(2 << 20, too_large);  // over the 256 KiB default
  std::string bad_varint("\x10\x05\x00", 3);
  bad_varint.append(11, '\x80');
  std::string bomb;
  protocol::zstd_compress(std::string(size_t{8} << 20, 'a'), 1, nullptr, bomb);
  return {
      {"TooLarge", true, too_large, v1::ERROR_CODE_FRAME_TOO_LARGE},
      {"WrongVersion", true, std::string("\x30\x05\x00\x00\x00", 5),
       v1::ERROR_CODE_MALFORMED_FRAME},
      {"ReservedFlags", true, std::string("\x18\x05\x00\x00\x00", 5),
       v1::ERROR_CODE_MALFORMED_FRAME},
      {"UnknownType", true, std::string("\x10\x63\x00\x00\x00", 5),
       v1::ERROR_CODE_UNKNOWN_FRAME_TYPE},
      {"BadVarint", true, bad_varint, v1::ERROR_CODE_MALFORMED_FRAME},
      {"CorruptZstd", true, frame(v1::FRAME_TYPE_PING, protocol::flag_compressed, "garbage!"),
       v1::ERROR_CODE_BAD_COMPRESSION},
      {"ZstdBomb", true, frame(v1::FRAME_TYPE_PING, protocol::flag_compressed, bomb),
       v1::ERROR_CODE_FRAME_TOO_LARGE},
      {"UndecodableProtobuf", true, frame(v1::FRAME_TYPE_PING, 0, "\x0a\xff\xff"),
       v1::ERROR_CODE_BAD_PAYLOAD},
      {"FrameBeforeHello", false, frame(v1::FRAME_TYPE_PING, 0, ""),
       v1::ERROR_CODE_UNEXPECTED_FRAME},
      {"SecondHello", true, hello_bytes(), v1::ERROR_CODE_UNEXPECTED_FRAME},
      {"AuthBeforeHello", false, frame(v1::FRAME_TYPE_AUTH, 0, ""),
       v1::ERROR_CODE_UNEXPECTED_FRAME},
      {"ReservedTypeNotServed", true, frame(v1::FRAME_TYPE_RPC_REQ, 0, ""),
       v1::ERROR_CODE_UNEXPECTED_FRAME},
  };
}

class BadInputTest : public ::testing::TestWithParam<bad_case> {
 protected:
  static void SetUpTestSuite() { node_ = start_test_node(test_node_config()).release(); }
  static void TearDownTestSuite() {
    delete node_;
    node_ = nullptr;
  }
  static actors::node* node_;
};

actors::node* BadInputTest::node_ = nullptr;

bool logs_in(uint16_t port, const std::string& device) {
  raw_client c{port};
  return c.connected() && c.hello(device, test_app, 1000)
         && c.auth(token_for(test_secret, test_app, "good"));
}

TEST_P(BadInputTest, GetsItsErrorCodeAndCloseAndNothingElseChanges) {
  ASSERT_TRUE(node_);
  const auto& bad = GetParam();
  uint16_t port = node_->client_port();
  raw_client bystander{port};
  ASSERT_TRUE(bystander.hello("bystander", test_app, 10'000));
  ASSERT_TRUE(bystander.auth(token_for(test_secret, test_app, "b")));

  raw_client c{port};
  ASSERT_TRUE(c.connected());
  if (bad.after_login) {
    ASSERT_TRUE(c.hello("bad-client", test_app, 10'000));
    ASSERT_TRUE(c.auth(token_for(test_secret, test_app, "bad")));
  }
  c.send_bytes(bad.bytes);
  std::optional<protocol::frame> f;
  while ((f = c.next(5s)) && f->type != v1::FRAME_TYPE_ERROR) {
  }
  ASSERT_TRUE(f) << bad.name << ": no ERROR frame";
  v1::Error e;
  ASSERT_TRUE(e.ParseFromString(f->payload));
  EXPECT_EQ(e.code(), bad.expected) << e.reason();
  EXPECT_FALSE(e.reason().empty());
  EXPECT_TRUE(c.closed_within(5s));

  EXPECT_TRUE(bystander.send(v1::FRAME_TYPE_PING, v1::Ping{}));
  auto pong = bystander.next();
  ASSERT_TRUE(pong);
  EXPECT_EQ(pong->type, v1::FRAME_TYPE_PONG);
  EXPECT_TRUE(logs_in(port, "after"));
}

INSTANTIATE_TEST_SUITE_P(EveryKind, BadInputTest, ::testing::ValuesIn(cases()),
                         [](const auto& info) { return std::string{info.param.name}; });

}  // namespace
}  // namespace tidegate::test
