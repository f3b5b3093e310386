#include "actors/ingress/topic_parse.h"

#include "actors/ingress/json_fields.h"

namespace tidegate::actors {
namespace {

using namespace ingress_detail;

maybe_error read_topic(object_reader& r, std::string& out) {
  if (auto err = read_string(r, "topic", true, 1, max_key_bytes, "bad_topic", out)) {
    return err;
  }
  if (!is_topic_name(out)) {
    return bad("bad_topic", "field '" + r.name("topic")
                                + "' must be characters of A-Z, a-z, 0-9, '-', '_', '.' and ':'"
                                + ", got " + json_quoted(out));
  }
  return std::nullopt;
}

maybe_error must_be_object(const json& body, const std::string& prefix) {
  if (body.is_object()) {
    return std::nullopt;
  }
  return bad("wrong_type", (prefix.empty() ? std::string{"the body"}
                                           : "'" + prefix.substr(0, prefix.size() - 1) + "'")
                               + " must be a JSON object, got " + type_name(body));
}

// The fields of one message (msg_id, payload, ttl_ms) under `r`.
maybe_error read_message(object_reader& r, const parse_limits& limits, topic_publish& out) {
  maybe_error err;
  if ((err = read_string(r, "msg_id", true, 1, max_key_bytes, "bad_msg_id", out.msg_id))
      || (err = read_payload(r, true, limits, out.payload))
      || (err = read_u64(r, "ttl_ms", false, max_ttl_ms, out.ttl_ms))) {
    return err;
  }
  return std::nullopt;
}

}  // namespace

std::variant<topic_publish, ingress_error> parse_topic_publish(const json& body,
                                                               const parse_limits& limits) {
  if (auto err = must_be_object(body, "")) {
    return *err;
  }
  object_reader r{body, ""};
  topic_publish out;
  maybe_error err;
  if ((err = read_topic(r, out.topic)) || (err = read_message(r, limits, out))
      || (err = r.unknown_fields())) {
    return *err;
  }
  return out;
}

std::variant<std::vector<std::variant<topic_publish, ingress_error>>, ingress_error>
parse_topic_batch(const json& body, const parse_limits& limits) {
  if (auto err = must_be_object(body, "")) {
    return *err;
  }
  object_reader r{body, ""};
  std::string topic;
  if (auto err = read_topic(r, topic)) {
    return *err;
  }
  const json* messages = r.get("messages");
  if (messages == nullptr) {
    return *missing("messages");
  }
  if (!messages->is_array()) {
    return wrong_type("messages", "an array of messages", *messages);
  }
  if (messages->empty() || messages->size() > limits.max_batch_ops) {
    return bad("invalid_value", "field 'messages' must have 1-"
                                    + std::to_string(limits.max_batch_ops) + " entries, got "
                                    + std::to_string(messages->size()));
  }
  if (auto err = r.unknown_fields()) {
    return *err;
  }
  std::vector<std::variant<topic_publish, ingress_error>> out;
  out.reserve(messages->size());
  for (size_t i = 0; i < messages->size(); ++i) {
    auto prefix = "messages[" + std::to_string(i) + "].";
    const auto& m = (*messages)[i];
    if (auto err = must_be_object(m, prefix)) {
      out.emplace_back(*err);
      continue;
    }
    object_reader mr{m, prefix};
    topic_publish msg;
    msg.topic = topic;
    maybe_error err;
    if ((err = read_message(mr, limits, msg)) || (err = mr.unknown_fields())) {
      out.emplace_back(*err);
    } else {
      out.emplace_back(std::move(msg));
    }
  }
  return out;
}

std::variant<follow_body, ingress_error> parse_follow(const json& body) {
  if (auto err = must_be_object(body, "")) {
    return *err;
  }
  object_reader r{body, ""};
  follow_body out;
  if (auto err = read_topic(r, out.topic)) {
    return *err;
  }
  const json* users = r.get("users");
  if (users == nullptr) {
    return *missing("users");
  }
  if (!users->is_array()) {
    return wrong_type("users", "an array of user ids", *users);
  }
  if (users->empty() || users->size() > max_follow_users) {
    return bad("invalid_value", "field 'users' must have 1-" + std::to_string(max_follow_users)
                                    + " entries, got " + std::to_string(users->size()));
  }
  for (size_t i = 0; i < users->size(); ++i) {
    const auto& u = (*users)[i];
    auto field = "users[" + std::to_string(i) + "]";
    if (!u.is_string()) {
      return wrong_type(field, "a string", u);
    }
    const auto& s = u.get_ref<const std::string&>();
    if (s.empty() || s.size() > max_key_bytes) {
      return bad("bad_user", "field '" + field + "' must be 1-" + std::to_string(max_key_bytes)
                                 + " bytes, got " + std::to_string(s.size()));
    }
    out.users.push_back(s);
  }
  if (auto err = r.unknown_fields()) {
    return *err;
  }
  return out;
}

}  // namespace tidegate::actors
