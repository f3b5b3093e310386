#include "protocol/varint.h"

#include <limits>

#include <gtest/gtest.h>

namespace tidegate::protocol {
namespace {

varint_read read(const std::string& bytes) {
  return read_varint(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
}

TEST(VarintTest, RoundTripsBoundaries) {
  for (uint64_t v : {uint64_t{0}, uint64_t{1}, uint64_t{127}, uint64_t{128}, uint64_t{300},
                     uint64_t{1} << 35, std::numeric_limits<uint64_t>::max()}) {
    std::string bytes;
    append_varint(v, bytes);
    EXPECT_EQ(bytes.size(), varint_size(v));
    auto r = read(bytes);
    ASSERT_EQ(r.status, varint_status::ok);
    EXPECT_EQ(r.value, v);
    EXPECT_EQ(r.consumed, bytes.size());
  }
}

TEST(VarintTest, ThreeHundredIsAcTwo) {
  std::string bytes;
  append_varint(300, bytes);
  EXPECT_EQ(bytes, std::string("\xac\x02"));
}

TEST(VarintTest, TruncatedNeedsMore) {
  EXPECT_EQ(read(std::string("\x80\x80")).status, varint_status::need_more);
  EXPECT_EQ(read("").status, varint_status::need_more);
}

TEST(VarintTest, ElevenBytesAreMalformed) {
  EXPECT_EQ(read(std::string(11, '\x80')).status, varint_status::malformed);
}

TEST(VarintTest, OverflowOfTheTenthByteIsMalformed) {
  std::string bytes(9, '\xff');
  bytes.push_back('\x02');  // bit 64
  EXPECT_EQ(read(bytes).status, varint_status::malformed);
}

}  // namespace
}  // namespace tidegate::protocol
