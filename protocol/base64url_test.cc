#include "protocol/base64url.h"

#include <gtest/gtest.h>

namespace tidegate::protocol {
namespace {

TEST(Base64urlTest, RoundTripsAllLengths) {
  std::string input;
  for (int i = 0; i < 40; ++i) {
    auto encoded = base64url_encode(input);
    EXPECT_EQ(encoded.find_first_of("+/="), std::string::npos);
    auto decoded = base64url_decode(encoded);
    ASSERT_TRUE(decoded.has_value()) << encoded;
    EXPECT_EQ(*decoded, input);
    input.push_back(static_cast<char>(i * 37 + 250));
  }
}

TEST(Base64urlTest, KnownVector) {
  EXPECT_EQ(base64url_encode("\xfb\xff"), "-_8");
}

TEST(Base64urlTest, RejectsForeignCharactersAndBadLengths) {
  EXPECT_FALSE(base64url_decode("ab+d"));
  EXPECT_FALSE(base64url_decode("abcd="));
  EXPECT_FALSE(base64url_decode("abcde"));
  EXPECT_FALSE(base64url_decode("-_9"));  // "-_8" with a non-zero unused bit
}

}  // namespace
}  // namespace tidegate::protocol
