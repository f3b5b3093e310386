#include "actors/ingress/ingress_auth.h"

#include <string>

#include <gtest/gtest.h>

namespace tidegate::actors {
namespace {

constexpr int64_t now = 1'700'000'000'000;

ingress_auth auth() {
  return ingress_auth{{app_config{"wallet", "secret-0123456789ab", "", ""},
                       app_config{"shop", "other-secret-0123456", "", ""}}};
}

http_request request(std::vector<std::pair<std::string, std::string>> headers) {
  http_request req;
  req.method = "POST";
  req.path = "/v1/sync/ops";
  req.target = "/v1/sync/ops";
  req.body = R"({"a":1})";
  req.headers = std::move(headers);
  return req;
}

http_request signed_request(const std::string& app, const std::string& secret, int64_t ts) {
  auto req = request({});
  auto t = std::to_string(ts);
  req.headers = {{"x-tidegate-app", app},
                 {"x-tidegate-timestamp", t},
                 {"x-tidegate-signature",
                  hmac_sha256_hex(secret, signing_string(req.method, req.target, t, req.body))}};
  return req;
}

std::string app_of(const std::variant<std::string, ingress_error>& r) {
  return std::holds_alternative<std::string>(r) ? std::get<std::string>(r)
                                                : "error: " + std::get<ingress_error>(r).message;
}

TEST(IngressAuthTest, HmacMatchesTheRfc4231TestVector) {
  EXPECT_EQ(hmac_sha256_hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(signing_string("GET", "/x?a=1", "5", ""), "GET\n/x?a=1\n5\n");
}

TEST(IngressAuthTest, BearerNamesTheApp) {
  auto a = auth();
  EXPECT_EQ(app_of(a.authenticate(request({{"authorization", "Bearer wallet:secret-0123456789ab"}}),
                                  now)),
            "wallet");
  for (const char* bad : {"Bearer wallet:secret-0123456789aX", "Bearer nope:secret-0123456789ab",
                          "Bearer wallet", "Basic d2FsbGV0", "Bearer wallet:"}) {
    auto r = a.authenticate(request({{"authorization", bad}}), now);
    ASSERT_TRUE(std::holds_alternative<ingress_error>(r)) << bad;
    EXPECT_EQ(std::get<ingress_error>(r).status, 401);
    EXPECT_EQ(std::get<ingress_error>(r).code, "unauthorized");
  }
}

TEST(IngressAuthTest, NoCredentialsIs401) {
  auto r = auth().authenticate(request({}), now);
  ASSERT_TRUE(std::holds_alternative<ingress_error>(r));
  EXPECT_EQ(std::get<ingress_error>(r).status, 401);
}

TEST(IngressAuthTest, SignatureWithinTheWindowNamesTheApp) {
  auto a = auth();
  EXPECT_EQ(app_of(a.authenticate(signed_request("shop", "other-secret-0123456", now), now)),
            "shop");
  EXPECT_EQ(app_of(a.authenticate(
                signed_request("shop", "other-secret-0123456", now - signature_window_ms), now)),
            "shop");
  auto upper = signed_request("shop", "other-secret-0123456", now);
  for (auto& c : upper.headers[2].second) {
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  EXPECT_EQ(app_of(a.authenticate(upper, now)), "shop");
}

TEST(IngressAuthTest, SignatureOutsideTheWindowOrTamperedIs401) {
  auto a = auth();
  auto old = signed_request("shop", "other-secret-0123456", now - signature_window_ms - 1);
  EXPECT_TRUE(std::holds_alternative<ingress_error>(a.authenticate(old, now)));
  auto future = signed_request("shop", "other-secret-0123456", now + signature_window_ms + 1);
  EXPECT_TRUE(std::holds_alternative<ingress_error>(a.authenticate(future, now)));
  auto tampered = signed_request("shop", "other-secret-0123456", now);
  tampered.body = R"({"a":2})";
  EXPECT_TRUE(std::holds_alternative<ingress_error>(a.authenticate(tampered, now)));
  auto query = signed_request("shop", "other-secret-0123456", now);
  query.target += "?owner=other";
  EXPECT_TRUE(std::holds_alternative<ingress_error>(a.authenticate(query, now)));
  auto wrong_key = signed_request("shop", "secret-0123456789ab", now);
  EXPECT_TRUE(std::holds_alternative<ingress_error>(a.authenticate(wrong_key, now)));
  auto unknown = signed_request("nope", "", now);
  EXPECT_TRUE(std::holds_alternative<ingress_error>(a.authenticate(unknown, now)));
  auto bad_ts = signed_request("shop", "other-secret-0123456", now);
  bad_ts.headers[1].second = "-9223372036854775808";
  EXPECT_TRUE(std::holds_alternative<ingress_error>(a.authenticate(bad_ts, now)));
  bad_ts.headers[1].second = "12x";
  EXPECT_TRUE(std::holds_alternative<ingress_error>(a.authenticate(bad_ts, now)));
  auto partial = signed_request("shop", "other-secret-0123456", now);
  partial.headers.pop_back();
  EXPECT_TRUE(std::holds_alternative<ingress_error>(a.authenticate(partial, now)));
}

}  // namespace
}  // namespace tidegate::actors
