#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include "actors/admin/http_server.h"
#include "actors/config/node_config.h"
#include "actors/ingress/ingress_parse.h"

namespace tidegate::actors {

/// How far a signed request's X-Tidegate-Timestamp may be from the node's clock.
inline constexpr int64_t signature_window_ms = 5 * 60 * 1000;

/// Authenticates backend requests with the apps' secrets (docs/ingress-api.md, Authentication):
/// `Authorization: Bearer <app_id>:<secret>`, or X-Tidegate-App, X-Tidegate-Timestamp and
/// X-Tidegate-Signature = hex(HMAC-SHA256(secret, method \n target \n timestamp \n body)).
/// Immutable after construction, so any thread may call it.
class ingress_auth {
 public:
  explicit ingress_auth(const std::vector<app_config>& apps);

  /// The app id of `req`, or a 401 `unauthorized` saying what is wrong. `now_ms` is the
  /// node's clock in Unix milliseconds. Secrets are compared in constant time.
  std::variant<std::string, ingress_error> authenticate(const http_request& req,
                                                        int64_t now_ms) const;

 private:
  std::unordered_map<std::string, std::string> secrets_;  // app id -> secret
};

/// Lower-case hex of HMAC-SHA256(`key`, `data`).
std::string hmac_sha256_hex(std::string_view key, std::string_view data);

/// What a signed request signs: method, target (path and query as sent), timestamp and body,
/// joined by "\n".
std::string signing_string(std::string_view method, std::string_view target,
                           std::string_view timestamp, std::string_view body);

}  // namespace tidegate::actors
