#include "protocol/auth_token.h"

#include <charconv>

#include "protocol/base64url.h"
#include "protocol/hmac.h"

namespace tidegate::protocol {
namespace {

constexpr size_t max_token_bytes = 1024;

std::string mac_of(std::string_view secret, std::string_view app_id, std::string_view user_id,
                   uint64_t expires_at_s) {
  std::string input = "v1\n";
  input.append(app_id).append("\n").append(user_id).append("\n");
  input.append(std::to_string(expires_at_s));
  return hmac_sha256(secret, input);
}

}  // namespace

std::string sign_token(std::string_view secret, std::string_view app_id, std::string_view user_id,
                       uint64_t expires_at_s) {
  return "v1." + base64url_encode(user_id) + "." + std::to_string(expires_at_s) + "."
         + base64url_encode(mac_of(secret, app_id, user_id, expires_at_s));
}

token_check verify_token(std::string_view token, std::string_view secret, std::string_view app_id,
                         uint64_t now_s) {
  token_check check;
  if (token.size() > max_token_bytes || token.substr(0, 3) != "v1.") {
    return check;
  }
  token.remove_prefix(3);
  auto dot1 = token.find('.');
  if (dot1 == std::string_view::npos) {
    return check;
  }
  auto dot2 = token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos) {
    return check;
  }
  auto user = base64url_decode(token.substr(0, dot1));
  auto expiry_text = token.substr(dot1 + 1, dot2 - dot1 - 1);
  auto given_mac = base64url_decode(token.substr(dot2 + 1));
  uint64_t expires_at_s = 0;
  auto [end, ec] =
      std::from_chars(expiry_text.data(), expiry_text.data() + expiry_text.size(), expires_at_s);
  bool canonical_expiry = !expiry_text.empty() && (expiry_text[0] != '0' || expiry_text == "0");
  if (!user || user->empty() || !given_mac || ec != std::errc{} || !canonical_expiry
      || end != expiry_text.data() + expiry_text.size()) {
    return check;
  }
  auto expected = mac_of(secret, app_id, *user, expires_at_s);
  if (!equal_in_constant_time(*given_mac, expected)) {
    check.status = token_status::bad_signature;
    return check;
  }
  check.user_id = std::move(*user);
  check.expires_at_s = expires_at_s;
  check.status = expires_at_s <= now_s ? token_status::expired : token_status::ok;
  return check;
}

std::optional<std::string> token_user_id(std::string_view token) {
  if (token.size() > max_token_bytes || token.substr(0, 3) != "v1.") {
    return std::nullopt;
  }
  token.remove_prefix(3);
  auto user = base64url_decode(token.substr(0, token.find('.')));
  if (!user || user->empty()) {
    return std::nullopt;
  }
  return user;
}

const char* to_string(token_status status) {
  switch (status) {
    case token_status::ok:
      return "ok";
    case token_status::malformed:
      return "malformed token";
    case token_status::bad_signature:
      return "bad token signature";
    case token_status::expired:
      return "token expired";
  }
  return "unknown";
}

}  // namespace tidegate::protocol
