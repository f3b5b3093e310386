#include "actors/ingress/ingress_parse.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <optional>
#include <utility>

#include <caf/error.hpp>
#include <caf/exit_reason.hpp>
#include <caf/sec.hpp>
#include <openssl/evp.h>

#include "actors/ingress/json_fields.h"
#include "actors/sync/sync_errc.h"

namespace tidegate::actors {
namespace {

using json = nlohmann::json;
using namespace ingress_detail;

constexpr size_t max_depth = 64;
constexpr size_t max_version_bytes = 64;
constexpr size_t max_title_bytes = 256;
constexpr size_t max_push_body_bytes = 4096;
constexpr size_t max_action_bytes = 1024;

maybe_error read_filters(const json& v, const std::string& field, storage::op_filters& out) {
  if (!v.is_object()) {
    return wrong_type(field, "an object", v);
  }
  object_reader r{v, field + "."};
  constexpr uint64_t any = UINT64_MAX;
  maybe_error err;
  if ((err = read_string_list(r, "os", out.os))
      || (err = read_string(r, "app_version_min", false, 0, max_version_bytes, "invalid_value",
                            out.app_version_min))
      || (err = read_string(r, "app_version_max", false, 0, max_version_bytes, "invalid_value",
                            out.app_version_max))
      || (err = read_u64(r, "valid_from_ms", false, any, out.valid_from_ms))
      || (err = read_u64(r, "valid_to_ms", false, any, out.valid_to_ms))
      || (err = read_string_list(r, "uids", out.uids))
      || (err = read_u64(r, "uid_min", false, any, out.uid_min))
      || (err = read_u64(r, "uid_max", false, any, out.uid_max)) || (err = r.unknown_fields())) {
    return err;
  }
  if (out.valid_from_ms != 0 && out.valid_to_ms != 0 && out.valid_from_ms > out.valid_to_ms) {
    return bad("invalid_value",
               "field '" + field + ".valid_from_ms' must not be after '" + field + ".valid_to_ms'");
  }
  if (out.uid_min > out.uid_max && out.uid_max != 0) {
    return bad("invalid_value",
               "field '" + field + ".uid_min' must not be above '" + field + ".uid_max'");
  }
  return std::nullopt;
}

std::variant<publish_request, ingress_error> parse_op(const json& body, const std::string& prefix,
                                                      const std::string& app_id,
                                                      const parse_limits& limits) {
  if (!body.is_object()) {
    return bad("wrong_type", (prefix.empty() ? std::string{"the body"}
                                             : "'" + prefix.substr(0, prefix.size() - 1) + "'")
                                 + " must be a JSON object, got " + type_name(body));
  }
  object_reader r{body, prefix};
  publish_request req;
  req.app_id = app_id;
  maybe_error err;
  if ((err = read_string(r, "business", true, 1, max_key_bytes, "invalid_value", req.business))
      || (err = read_string(r, "owner", true, 1, max_key_bytes, "bad_owner", req.owner))
      || (err = read_payload(r, true, limits, req.payload))
      || (err = read_string(r, "msg_id", true, 1, max_key_bytes, "bad_msg_id", req.msg_id))
      || (err = read_u64(r, "ttl_ms", false, max_ttl_ms, req.ttl_ms))) {
    return *err;
  }
  if (const json* f = r.get("filters")) {
    storage::op_filters filters;
    if ((err = read_filters(*f, r.name("filters"), filters))) {
      return *err;
    }
    req.filters = std::move(filters);
  }
  if ((err = r.unknown_fields())) {
    return *err;
  }
  return req;
}

// json_sax_dom_parser, plus a depth limit and the parse error's text instead of an exception.
class bounded_dom_parser : public nlohmann::detail::json_sax_dom_parser<json> {
 public:
  using base = nlohmann::detail::json_sax_dom_parser<json>;
  explicit bounded_dom_parser(json& root) : base(root, false) {}

  bool start_object(size_t n) { return deeper() && base::start_object(n); }
  bool end_object() {
    --depth_;
    return base::end_object();
  }
  bool start_array(size_t n) { return deeper() && base::start_array(n); }
  bool end_array() {
    --depth_;
    return base::end_array();
  }
  template <class Exception>
  bool parse_error(size_t position, const std::string& /*last_token*/, const Exception& ex) {
    error = std::string{ex.what()} + " (byte " + std::to_string(position) + ")";
    return false;
  }

  std::string error;

 private:
  bool deeper() {
    if (++depth_ > max_depth) {
      error = "JSON nested deeper than " + std::to_string(max_depth) + " levels";
      return false;
    }
    return true;
  }
  size_t depth_ = 0;
};

}  // namespace

std::string error_body(const ingress_error& err) {
  json body{{"code", err.code}, {"message", err.message}};
  return body.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::variant<json, ingress_error> parse_json(std::string_view body) {
  json root;
  bounded_dom_parser sax{root};
  bool ok = json::sax_parse(body.begin(), body.end(), &sax, json::input_format_t::json, true);
  if (!ok || !sax.error.empty()) {
    return bad("bad_json",
               "the body is not valid JSON: " + (sax.error.empty() ? "parse failed" : sax.error));
  }
  return root;
}

std::variant<std::monostate, ingress_error> check_content_type(const std::string* content_type) {
  auto refuse = [](const std::string& why) {
    return ingress_error{415, "unsupported_media_type",
                         "Content-Type must be application/json, " + why};
  };
  if (content_type == nullptr) {
    return refuse("got none");
  }
  std::string lower;
  for (char c : *content_type) {
    if (c != ' ' && c != '\t') {
      lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
  }
  if (lower == "application/json" || lower == "application/json;charset=utf-8") {
    return std::monostate{};
  }
  return refuse("got " + json_quoted(*content_type));
}

std::variant<publish_request, ingress_error> parse_publish(const json& body,
                                                           const std::string& app_id,
                                                           const parse_limits& limits) {
  return parse_op(body, "", app_id, limits);
}

std::variant<std::vector<std::variant<publish_request, ingress_error>>, ingress_error> parse_batch(
    const json& body, const std::string& app_id, const parse_limits& limits) {
  if (!body.is_object()) {
    return bad("wrong_type", std::string{"the body must be a JSON object, got "} + type_name(body));
  }
  object_reader r{body, ""};
  const json* ops = r.get("ops");
  if (ops == nullptr) {
    return *missing("ops");
  }
  if (!ops->is_array()) {
    return wrong_type("ops", "an array of ops", *ops);
  }
  if (ops->empty() || ops->size() > limits.max_batch_ops) {
    return bad("invalid_value", "field 'ops' must have 1-" + std::to_string(limits.max_batch_ops)
                                    + " entries, got " + std::to_string(ops->size()));
  }
  if (auto err = r.unknown_fields()) {
    return *err;
  }
  std::vector<std::variant<publish_request, ingress_error>> out;
  out.reserve(ops->size());
  for (size_t i = 0; i < ops->size(); ++i) {
    out.push_back(parse_op((*ops)[i], "ops[" + std::to_string(i) + "].", app_id, limits));
  }
  return out;
}

const char* push_business(std::string_view kind) {
  return kind == "device" ? "push_device" : "push";
}

std::variant<publish_request, ingress_error> parse_push(const json& body, const std::string& app_id,
                                                        const parse_limits& limits) {
  if (!body.is_object()) {
    return bad("wrong_type", std::string{"the body must be a JSON object, got "} + type_name(body));
  }
  object_reader r{body, ""};
  publish_request req;
  req.app_id = app_id;
  req.business = "push";
  storage::push_display display;
  maybe_error err;
  const json* target = r.get("target");
  if (target == nullptr) {
    return *missing("target");
  }
  if (!target->is_object()) {
    return wrong_type("target", "an object ({\"user\": U} or {\"device\": D})", *target);
  }
  object_reader t{*target, "target."};
  const bool user = target->contains("user");
  const bool device = target->contains("device");
  if (user == device) {
    return bad("invalid_value", "field 'target' must have exactly one of 'user' or 'device'");
  }
  std::string id;
  const char* kind = user ? "user" : "device";
  if ((err = read_string(t, kind, true, 1, max_key_bytes, "bad_owner", id))
      || (err = t.unknown_fields())) {
    return *err;
  }
  req.business = push_business(kind);
  req.owner = std::move(id);
  if ((err = read_string(r, "title", true, 1, max_title_bytes, "invalid_value", display.title))
      || (err = read_string(r, "body", true, 0, max_push_body_bytes, "invalid_value", display.body))
      || (err =
              read_string(r, "action", false, 0, max_action_bytes, "invalid_value", display.action))
      || (err = read_u64(r, "ttl_ms", true, max_ttl_ms, req.ttl_ms))
      || (err = read_string(r, "msg_id", true, 1, max_key_bytes, "bad_msg_id", req.msg_id))
      || (err = read_payload(r, false, limits, req.payload)) || (err = r.unknown_fields())) {
    return *err;
  }
  req.push = std::move(display);
  return req;
}

std::variant<query_values, ingress_error> parse_query(
    const std::vector<std::pair<std::string, std::string>>& params,
    const std::vector<query_field>& fields) {
  query_values out;
  for (const auto& [key, value] : params) {
    const query_field* field = nullptr;
    for (const auto& f : fields) {
      if (f.name == key) {
        field = &f;
      }
    }
    if (field == nullptr) {
      std::string known;
      for (const auto& f : fields) {
        known += (known.empty() ? "" : ", ") + f.name;
      }
      return bad("unknown_field",
                 "unknown query parameter " + json_quoted(key) + " (known: " + known + ")");
    }
    if (out.count(key) != 0) {
      return bad("invalid_value", "query parameter '" + key + "' is given more than once");
    }
    if (value.empty() || value.size() > field->max_bytes) {
      return bad(key == "owner" ? "bad_owner" : "invalid_value",
                 "query parameter '" + key + "' must be 1-" + std::to_string(field->max_bytes)
                     + " bytes, got " + std::to_string(value.size()));
    }
    out.emplace(key, value);
  }
  for (const auto& f : fields) {
    if (f.required && out.count(f.name) == 0) {
      return bad("missing_field", "missing required query parameter '" + f.name + "'");
    }
  }
  return out;
}

std::variant<head_query, ingress_error> parse_head(
    const std::vector<std::pair<std::string, std::string>>& params) {
  auto q = parse_query(params, {{"business", true}, {"owner", true}});
  if (auto* err = std::get_if<ingress_error>(&q)) {
    return *err;
  }
  auto& values = std::get<query_values>(q);
  return head_query{values["business"], values["owner"]};
}

std::string encode_base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()),
                          static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::optional<std::string> decode_base64(std::string_view text) {
  static const auto table = [] {
    std::array<int8_t, 256> t{};
    t.fill(-1);
    const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (int i = 0; i < 64; ++i) {
      t[static_cast<unsigned char>(alphabet[i])] = static_cast<int8_t>(i);
    }
    return t;
  }();
  if (text.size() % 4 != 0) {
    return std::nullopt;
  }
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    uint32_t bits = 0;
    int pad = 0;
    for (size_t j = 0; j < 4; ++j) {
      char c = text[i + j];
      if (c == '=' && last && j >= 2) {
        ++pad;
        bits <<= 6;
        continue;
      }
      int8_t v = table[static_cast<unsigned char>(c)];
      if (v < 0 || pad > 0) {
        return std::nullopt;  // not in the alphabet, or data after '='
      }
      bits = (bits << 6) | static_cast<uint32_t>(v);
    }
    // Canonical only: the bits that padding drops must be zero.
    if ((pad == 1 && (bits & 0xFFU) != 0) || (pad == 2 && (bits & 0xFFFFU) != 0)) {
      return std::nullopt;
    }
    out += static_cast<char>((bits >> 16) & 0xFFU);
    if (pad < 2) {
      out += static_cast<char>((bits >> 8) & 0xFFU);
    }
    if (pad < 1) {
      out += static_cast<char>(bits & 0xFFU);
    }
  }
  return out;
}

ingress_error from_router_error(const caf::error& err) {
  if (err.category() == caf::detail::error_factory<sync_errc>::category) {
    auto code = static_cast<sync_errc>(err.code());
    switch (code) {
      case sync_errc::unknown_business:
        return {400, "unknown_business", "no bucket is mapped to this business"};
      case sync_errc::unknown_bucket:
        return {400, "unknown_bucket", "the business maps to a bucket that is not configured"};
      case sync_errc::bad_owner:
        return {400, "bad_owner", "the owner must be 1-160 bytes"};
      case sync_errc::payload_too_large:
        return {413, "payload_too_large", "the payload is over the node's sync limit"};
      case sync_errc::bad_msg_id:
        return {400, "bad_msg_id", "the msg_id must be 1-160 bytes"};
      case sync_errc::not_durable:
        return {503, "not_durable",
                "the op was not made durable and is not stored: retry with the same msg_id"};
      case sync_errc::overloaded:
        return {429, "overloaded", "the bucket is overloaded: retry later"};
      case sync_errc::unknown_op:
        return {404, "unknown_op", "no op with this msg_id is remembered for this owner"};
      case sync_errc::bad_topic:
        return {400, "bad_topic",
                "a topic name is 1-160 characters of A-Z, a-z, 0-9, '-', '_', '.' and ':'"};
      case sync_errc::bad_user:
        return {400, "bad_user", "a user id must be 1-160 bytes"};
      case sync_errc::shard_unavailable:
        return {503, "shard_unavailable",
                "the owner's shard has no reachable primary now (failover or partition): retry "
                "with the same msg_id"};
      case sync_errc::replica_fenced:
      case sync_errc::replica_diverged:
        return {503, "not_durable",
                "the op was not confirmed by the shard's replica: retry with the same msg_id"};
      case sync_errc::reload_refused:
        break;  // a reload's answer, never a publish's: falls through to internal
    }
  }
  if (err == caf::sec::request_timeout) {
    return {504, "timeout", "the node did not answer in time: retry with the same msg_id"};
  }
  if (err == caf::sec::request_receiver_down || err == caf::sec::invalid_argument
      || err == caf::exit_reason::remote_link_unreachable) {
    return {503, "unavailable", "the sync router is not running: retry with the same msg_id"};
  }
  return {500, "internal", "internal error: retry with the same msg_id"};
}

}  // namespace tidegate::actors
