#include "protocol/auth_token.h"

#include <gtest/gtest.h>

namespace tidegate::protocol {
namespace {

TEST(AuthTokenTest, SignedTokenVerifies) {
  auto token = sign_token("s3cret", "wallet", "user-42", 2000);
  auto check = verify_token(token, "s3cret", "wallet", 1000);
  EXPECT_EQ(check.status, token_status::ok);
  EXPECT_EQ(check.user_id, "user-42");
  EXPECT_EQ(check.expires_at_s, 2000u);
}

TEST(AuthTokenTest, ExpiredTokenIsRefused) {
  auto token = sign_token("s3cret", "wallet", "u", 1000);
  EXPECT_EQ(verify_token(token, "s3cret", "wallet", 1000).status, token_status::expired);
}

TEST(AuthTokenTest, OtherSecretOrAppIsABadSignature) {
  auto token = sign_token("s3cret", "wallet", "u", 2000);
  EXPECT_EQ(verify_token(token, "other", "wallet", 1).status, token_status::bad_signature);
  EXPECT_EQ(verify_token(token, "s3cret", "shop", 1).status, token_status::bad_signature);
}

TEST(AuthTokenTest, TamperedUserOrExpiryIsABadSignature) {
  auto token = sign_token("k", "a", "alice", 2000);
  auto forged = "v1." + std::string{"Ym9i"} + token.substr(token.find('.', 3));  // "bob"
  EXPECT_EQ(verify_token(forged, "k", "a", 1).status, token_status::bad_signature);
  auto later = token;
  later.replace(later.find(".2000."), 6, ".9000.");
  EXPECT_EQ(verify_token(later, "k", "a", 1).status, token_status::bad_signature);
}

TEST(AuthTokenTest, GarbageIsMalformed) {
  for (const char* bad : {"", "v1.", "v2.YQ.1.AA", "v1.YQ.x1.AA", "v1.YQ.1", "v1..1.AA",
                          "v1.YQ.-1.AA", "v1.Y!.1.AA"}) {
    EXPECT_EQ(verify_token(bad, "k", "a", 0).status, token_status::malformed) << bad;
  }
  EXPECT_EQ(verify_token(std::string(5000, 'a'), "k", "a", 0).status, token_status::malformed);
  auto token = sign_token("k", "a", "u", 2000);
  auto padded = token;
  padded.replace(padded.find(".2000."), 6, ".02000.");
  EXPECT_EQ(verify_token(padded, "k", "a", 1).status, token_status::malformed);
}

TEST(AuthTokenTest, TheUserIdIsReadableWithoutTheSecret) {
  EXPECT_EQ(token_user_id(sign_token("0123456789abcdef", "demo", "alice", 99)), "alice");
  EXPECT_FALSE(token_user_id("v2.YWxpY2U.99.x"));
  EXPECT_FALSE(token_user_id("v1..99.x"));
  EXPECT_FALSE(token_user_id("garbage"));
}

}  // namespace
}  // namespace tidegate::protocol
