#pragma once

#include <cstddef>
#include <string>
#include <variant>
#include <vector>

#include "actors/ingress/ingress_parse.h"
#include "actors/topics/topic_messages.h"

#include <nlohmann/json.hpp>

namespace tidegate::actors {

// The request bodies of the Topics endpoints (docs/ingress-api.md). Pure: every field
// checked, unknown fields refused, each refusal naming the field.

/// Most users in one follow or unfollow request.
inline constexpr size_t max_follow_users = 1000;

/// POST /v1/topics/messages: {"topic", "msg_id", "payload" | "payload_base64", "ttl_ms"?}.
std::variant<topic_publish, ingress_error> parse_topic_publish(const nlohmann::json& body,
                                                               const parse_limits& limits);

/// POST /v1/topics/messages:batch: {"topic", "messages": [{"msg_id", "payload", ...}]}: the
/// outer error if the body itself is wrong, else one result per message, in order.
std::variant<std::vector<std::variant<topic_publish, ingress_error>>, ingress_error>
parse_topic_batch(const nlohmann::json& body, const parse_limits& limits);

/// What POST /v1/topics/follow and /v1/topics/unfollow name.
struct follow_body {
  std::string topic;
  std::vector<std::string> users;
};

/// {"topic", "users": [1..max_follow_users user ids]}.
std::variant<follow_body, ingress_error> parse_follow(const nlohmann::json& body);

}  // namespace tidegate::actors
