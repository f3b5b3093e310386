#include "actors/ingress/ingress_auth.h"

#include <array>
#include <charconv>
#include <cstdlib>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

namespace tidegate::actors {
namespace {

ingress_error unauthorized(std::string message) {
  return ingress_error{401, "unauthorized", std::move(message)};
}

std::array<unsigned char, SHA256_DIGEST_LENGTH> sha256(std::string_view data) {
  std::array<unsigned char, SHA256_DIGEST_LENGTH> out{};
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data());
  return out;
}

// Constant time in the contents; hashing first hides the lengths too.
bool same_secret(std::string_view a, std::string_view b) {
  auto ha = sha256(a);
  auto hb = sha256(b);
  return CRYPTO_memcmp(ha.data(), hb.data(), ha.size()) == 0;
}

}  // namespace

std::string hmac_sha256_hex(std::string_view key, std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac.data(), &len);
  static constexpr char digits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(size_t{len} * 2);
  for (unsigned int i = 0; i < len; ++i) {
    hex += digits[mac[i] >> 4];
    hex += digits[mac[i] & 0xF];
  }
  return hex;
}

std::string signing_string(std::string_view method, std::string_view target,
                           std::string_view timestamp, std::string_view body) {
  std::string s;
  s.reserve(method.size() + target.size() + timestamp.size() + body.size() + 3);
  s.append(method).append("\n").append(target).append("\n").append(timestamp).append("\n");
  s.append(body);
  return s;
}

ingress_auth::ingress_auth(const std::vector<app_config>& apps) {
  for (const auto& app : apps) {
    secrets_.emplace(app.id, app.secret);
  }
}

std::variant<std::string, ingress_error> ingress_auth::authenticate(const http_request& req,
                                                                    int64_t now_ms) const {
  if (const std::string* authz = req.header("authorization")) {
    constexpr std::string_view scheme = "Bearer ";
    std::string_view value{*authz};
    if (value.substr(0, scheme.size()) != scheme) {
      return unauthorized("the Authorization header must be 'Bearer <app_id>:<secret>'");
    }
    value.remove_prefix(scheme.size());
    auto colon = value.find(':');
    if (colon == std::string_view::npos) {
      return unauthorized("the Authorization header must be 'Bearer <app_id>:<secret>'");
    }
    std::string app{value.substr(0, colon)};
    auto it = secrets_.find(app);
    // Unknown app and wrong secret read alike; the comparison runs either way.
    bool ok = same_secret(value.substr(colon + 1), it == secrets_.end() ? "" : it->second);
    if (it == secrets_.end() || !ok) {
      return unauthorized("unknown app or wrong secret");
    }
    return app;
  }
  const std::string* app = req.header("x-tidegate-app");
  const std::string* timestamp = req.header("x-tidegate-timestamp");
  const std::string* signature = req.header("x-tidegate-signature");
  if (app == nullptr && timestamp == nullptr && signature == nullptr) {
    return unauthorized(
        "missing credentials: send 'Authorization: Bearer <app_id>:<secret>' or the "
        "X-Tidegate-App, X-Tidegate-Timestamp and X-Tidegate-Signature headers");
  }
  if (app == nullptr || timestamp == nullptr || signature == nullptr) {
    return unauthorized(
        "a signed request needs all of X-Tidegate-App, X-Tidegate-Timestamp and "
        "X-Tidegate-Signature");
  }
  int64_t ts = 0;
  const char* end = timestamp->data() + timestamp->size();
  auto [ptr, ec] = std::from_chars(timestamp->data(), end, ts);
  if (ec != std::errc{} || ptr != end || timestamp->empty()) {
    return unauthorized("X-Tidegate-Timestamp must be Unix time in milliseconds");
  }
  // Compare without overflow: a hostile timestamp may be near INT64_MIN or INT64_MAX.
  if (ts < now_ms - signature_window_ms || ts > now_ms + signature_window_ms) {
    return unauthorized("X-Tidegate-Timestamp " + *timestamp + " is more than 5 minutes from "
                        + "the node's clock (" + std::to_string(now_ms) + ")");
  }
  auto it = secrets_.find(*app);
  std::string expected =
      hmac_sha256_hex(it == secrets_.end() ? "" : it->second,
                      signing_string(req.method, req.target, *timestamp, req.body));
  std::string given = *signature;
  for (auto& c : given) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  bool ok = given.size() == expected.size()
            && CRYPTO_memcmp(given.data(), expected.data(), expected.size()) == 0;
  if (it == secrets_.end() || !ok) {
    return unauthorized(
        "unknown app or bad signature: sign method \\n target \\n timestamp \\n body "
        "with HMAC-SHA256 and the app's secret, hex-encoded");
  }
  return *app;
}

}  // namespace tidegate::actors
