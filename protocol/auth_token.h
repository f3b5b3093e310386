#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tidegate::protocol {

/// Login tokens: "v1.<base64url(user_id)>.<expires_at_s>.<base64url(mac)>", where mac is
/// HMAC-SHA256(app secret, "v1\n" app_id "\n" user_id "\n" expires_at_s). Binding the app id
/// means a token of one app is refused by another even if they share a secret.
std::string sign_token(std::string_view secret, std::string_view app_id, std::string_view user_id,
                       uint64_t expires_at_s);

enum class token_status : uint8_t { ok, malformed, bad_signature, expired };

struct token_check {
  token_status status = token_status::malformed;
  std::string user_id;        ///< Set when the signature is good.
  uint64_t expires_at_s = 0;  ///< Set when the signature is good.
};

/// Verifies `token` for `app_id` at Unix time `now_s` in constant time over the MAC.
token_check verify_token(std::string_view token, std::string_view secret, std::string_view app_id,
                         uint64_t now_s);

const char* to_string(token_status status);

/// The user id a token names, unverified (a client that holds its token but not the app
/// secret, e.g. to ask dispatch about its user); nullopt if it is not a v1 token.
std::optional<std::string> token_user_id(std::string_view token);

}  // namespace tidegate::protocol
