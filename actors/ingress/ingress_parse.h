#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <caf/fwd.hpp>

#include "actors/sync/sync_messages.h"

#include <nlohmann/json.hpp>

namespace tidegate::actors {

/// Why the ingress refused a request: an HTTP status and the JSON body's `code` and `message`
/// (docs/ingress-api.md lists every code). Nothing was stored.
struct ingress_error {
  int status = 400;
  std::string code;     ///< snake_case, stable: backends branch on it.
  std::string message;  ///< For humans: names the field and what is wrong with it.

  friend bool operator==(const ingress_error& a, const ingress_error& b) {
    return a.status == b.status && a.code == b.code && a.message == b.message;
  }
};

/// The limits parsing enforces before anything reaches the router.
struct parse_limits {
  /// Largest payload in bytes (after base64 decoding); over it is 413 payload_too_large.
  size_t max_payload_bytes = size_t{64} << 10;
  /// Most ops in one POST /v1/sync/ops:batch.
  size_t max_batch_ops = 1000;
};

/// Longest owner, business and msg_id, in bytes (the router's limit too).
inline constexpr size_t max_key_bytes = 160;

/// `{"code": ..., "message": ...}` of `err`.
std::string error_body(const ingress_error& err);

/// Parses untrusted bytes as one JSON document (UTF-8, nesting at most 64 deep); a 400
/// `bad_json` that gives nlohmann's position of the first error otherwise.
std::variant<nlohmann::json, ingress_error> parse_json(std::string_view body);

/// A 415 `unsupported_media_type` unless `content_type` is application/json (parameters
/// allowed; a charset must be utf-8). Null means the header is missing.
std::variant<std::monostate, ingress_error> check_content_type(const std::string* content_type);

/// The op of a POST /v1/sync/ops body, `app_id` filled in; every field checked, unknown
/// fields refused. Pure.
std::variant<publish_request, ingress_error> parse_publish(const nlohmann::json& body,
                                                           const std::string& app_id,
                                                           const parse_limits& limits);

/// The ops of a POST /v1/sync/ops:batch body: the outer error if the body itself is wrong,
/// else one result per op, in order (a bad op does not spoil the others). Pure.
std::variant<std::vector<std::variant<publish_request, ingress_error>>, ingress_error> parse_batch(
    const nlohmann::json& body, const std::string& app_id, const parse_limits& limits);

/// The op of a POST /v1/push body: business push_business(target kind), owner the target's
/// id, `push` set.
std::variant<publish_request, ingress_error> parse_push(const nlohmann::json& body,
                                                        const std::string& app_id,
                                                        const parse_limits& limits);

/// The business a push goes to: "push" (bucket `once`, owner = user id) for a user, and
/// "push_device" (bucket `once_device`, owner = device id) for a device. Two buckets, so a
/// user and a device with the same id never share a log.
const char* push_business(std::string_view kind);

/// What GET /v1/sync/head asks for.
struct head_query {
  std::string business;
  std::string owner;
};

/// One query parameter a GET endpoint takes.
struct query_field {
  std::string name;
  bool required = false;
  size_t max_bytes = 160;
};

/// Query parameters by name.
using query_values = std::map<std::string, std::string>;

/// The query parameters of a GET: each of `fields` at most once, 1 to max_bytes bytes, the
/// required ones present, nothing else (each refusal names the parameter).
std::variant<query_values, ingress_error> parse_query(
    const std::vector<std::pair<std::string, std::string>>& params,
    const std::vector<query_field>& fields);

/// The query of GET /v1/sync/head: `business` and `owner`, once each, nothing else.
std::variant<head_query, ingress_error> parse_head(
    const std::vector<std::pair<std::string, std::string>>& params);

/// Strict RFC 4648 base64 (standard alphabet, padded, no whitespace); nullopt if malformed.
std::optional<std::string> decode_base64(std::string_view text);

/// RFC 4648 base64 (standard alphabet, padded).
std::string encode_base64(std::string_view bytes);

/// The HTTP answer to a router error (sync_errc, timeouts, a router that is down).
ingress_error from_router_error(const caf::error& err);

}  // namespace tidegate::actors
