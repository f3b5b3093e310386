// libFuzzer target for login tokens (verify_token, sign_token) and base64url.
//
// The whole input is tried as a token and as base64url text; it is also split at its first
// 0x00 byte into a user id and an expiry that are signed and verified again. Any violated
// invariant aborts; bad input itself must never crash.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "protocol/auth_token.h"
#include "protocol/base64url.h"

namespace tidegate::protocol {
namespace {

constexpr std::string_view secret = "fuzz-secret";
constexpr std::string_view app_id = "fuzz-app";
constexpr uint64_t now_s = 1'790'000'000;

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "token_fuzz: invariant violated: %s\n", what);
    std::abort();
  }
}

void fuzz_base64url(std::string_view text) {
  auto decoded = base64url_decode(text);
  if (decoded) {
    // Decoding is not injective (unused low bits of the last character are ignored), but
    // re-encoding gives text of the same length that decodes to the same bytes.
    auto encoded = base64url_encode(*decoded);
    check(encoded.size() == text.size(), "re-encoded text has another length");
    auto again = base64url_decode(encoded);
    check(again && *again == *decoded, "canonical text decodes differently");
  }
  // Any bytes survive an encode/decode round trip.
  auto round = base64url_decode(base64url_encode(text));
  check(round && *round == text, "base64url round trip failed");
}

void fuzz_verify(std::string_view token) {
  auto result = verify_token(token, secret, app_id, now_s);
  if (result.status == token_status::ok || result.status == token_status::expired) {
    // Only a MAC under `secret` passes: the token must be what sign_token makes for its fields
    // up to encoding (see the base64url note), and it must be refused by another app.
    check(!result.user_id.empty(), "accepted an empty user id");
    check((result.status == token_status::expired) == (result.expires_at_s <= now_s),
          "expiry status disagrees with expires_at_s");
    auto canonical = sign_token(secret, app_id, result.user_id, result.expires_at_s);
    check(verify_token(canonical, secret, app_id, now_s).status == result.status,
          "canonical token verifies differently");
    check(verify_token(token, secret, "other-app", now_s).status == token_status::bad_signature,
          "a token of one app passed for another");
  } else {
    check(result.user_id.empty() && result.expires_at_s == 0, "refused token carries fields");
  }
}

void fuzz_sign(const uint8_t* data, size_t size) {
  const auto* zero = static_cast<const uint8_t*>(std::memchr(data, 0, size));
  if (zero == nullptr) {
    return;
  }
  std::string_view user{reinterpret_cast<const char*>(data), static_cast<size_t>(zero - data)};
  uint64_t expiry = 0;
  size_t rest = size - user.size() - 1;
  std::memcpy(&expiry, zero + 1, std::min(rest, sizeof expiry));
  auto token = sign_token(secret, app_id, user, expiry);
  auto result = verify_token(token, secret, app_id, now_s);
  if (user.empty() || token.size() > 1024) {
    check(result.status == token_status::malformed, "accepted an empty user or a huge token");
    return;
  }
  check(result.status == (expiry <= now_s ? token_status::expired : token_status::ok),
        "a freshly signed token does not verify");
  check(result.user_id == user && result.expires_at_s == expiry, "fields changed");
  check(verify_token(token, "other-secret", app_id, now_s).status == token_status::bad_signature,
        "another secret accepted the token");
}

}  // namespace
}  // namespace tidegate::protocol

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tidegate::protocol;  // NOLINT(google-build-using-namespace): entry point only
  std::string_view text{reinterpret_cast<const char*>(data), size};
  fuzz_base64url(text);
  fuzz_verify(text);
  fuzz_sign(data, size);
  return 0;
}
