#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tidegate::protocol {

/// How the client should talk to the addresses of a dispatch answer.
struct dispatch_hints {
  bool tls = false;           ///< The client port speaks TLS 1.3.
  bool zstd = false;          ///< The app has a zstd dictionary on the server.
  uint32_t heartbeat_ms = 0;  ///< The shortest heartbeat interval the server accepts.
};

/// An answer of GET /v1/dispatch (docs/protocol.md, "Dispatch"): where the user or device
/// `owner` of app `app` should connect. Signed with the app's dispatch key, so a client can
/// tell it from an answer forged or altered on the way (an HTTPDNS answer is only as good as
/// its origin).
struct dispatch_answer {
  std::string app;
  std::string owner;                   ///< The uid (or device id) asked for.
  std::string zone;                    ///< The zone the addresses are in.
  std::vector<std::string> addresses;  ///< "host:port" of client listeners, least loaded first.
  uint32_t ttl_s = 0;                  ///< Cache the answer this long.
  uint64_t expires_at_s = 0;           ///< Unix seconds: issued + ttl_s.
  dispatch_hints hints;
  std::string signature;  ///< base64url(HMAC-SHA256(dispatch key, dispatch_signing_text)).
};

/// The bytes the signature covers: every field but the signature, each as
/// "<decimal length>:<bytes>\n" in the order app, owner, zone, addresses (joined with ","),
/// ttl_s, expires_at_s, hints ("tls=<0|1>;zstd=<0|1>;heartbeat_ms=<n>"), after the line
/// "tidegate-dispatch-v1\n". Length prefixes make every answer's text unique.
std::string dispatch_signing_text(const dispatch_answer& a);

/// Sets `a.signature` under `key`.
void sign_dispatch(dispatch_answer& a, std::string_view key);

/// The answer as JSON (the body of GET /v1/dispatch).
std::string render_dispatch_json(const dispatch_answer& a);

/// Parses a JSON answer; nullopt with `error` naming what is wrong.
std::optional<dispatch_answer> parse_dispatch_answer(std::string_view json, std::string& error);

enum class dispatch_status : uint8_t { ok, bad_signature, expired, not_asked_for, no_address };

/// Whether a client may use `a`: signed under `key`, for the `app` and `owner` it asked about,
/// with at least one address, and not expired at Unix time `now_s`. Compares the MAC in
/// constant time.
dispatch_status check_dispatch(const dispatch_answer& a, std::string_view key, std::string_view app,
                               std::string_view owner, uint64_t now_s);

const char* to_string(dispatch_status status);

}  // namespace tidegate::protocol
