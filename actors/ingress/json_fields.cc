#include "actors/ingress/json_fields.h"

#include <algorithm>

namespace tidegate::actors::ingress_detail {

ingress_error bad(std::string code, std::string message) {
  return ingress_error{400, std::move(code), std::move(message)};
}

std::string json_quoted(std::string_view text) {
  constexpr size_t limit = 64;
  std::string cut{text.substr(0, limit)};
  auto out = json(cut).dump(-1, ' ', false, json::error_handler_t::replace);
  return text.size() > limit ? out + "..." : out;
}

const char* type_name(const json& v) {
  switch (v.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::object:
      return "an object";
    case json::value_t::array:
      return "an array";
    case json::value_t::string:
      return "a string";
    case json::value_t::boolean:
      return "a boolean";
    case json::value_t::number_float:
      return "a fractional number";
    default:
      return "an integer";
  }
}

ingress_error wrong_type(const std::string& field, const char* expected, const json& got) {
  return bad("wrong_type", "field '" + field + "' must be " + expected + ", got " + type_name(got));
}

maybe_error missing(const std::string& field) {
  return bad("missing_field", "missing required field '" + field + "'");
}

maybe_error read_string(object_reader& r, const char* key, bool required, size_t min, size_t max,
                        const char* code, std::string& out) {
  const json* v = r.get(key);
  if (v == nullptr) {
    return required ? missing(r.name(key)) : std::nullopt;
  }
  if (!v->is_string()) {
    return wrong_type(r.name(key), "a string", *v);
  }
  const auto& s = v->get_ref<const std::string&>();
  if (s.size() < min || s.size() > max) {
    return bad(code, "field '" + r.name(key) + "' must be " + std::to_string(min) + "-"
                         + std::to_string(max) + " bytes, got " + std::to_string(s.size()));
  }
  out = s;
  return std::nullopt;
}

maybe_error read_u64(object_reader& r, const char* key, bool required, uint64_t max,
                     uint64_t& out) {
  const json* v = r.get(key);
  if (v == nullptr) {
    return required ? missing(r.name(key)) : std::nullopt;
  }
  // Parsed JSON holds non-negative integers as unsigned; built JSON may hold them signed.
  if (v->is_number_integer() && !v->is_number_unsigned() && v->get<int64_t>() < 0) {
    return bad("invalid_value", "field '" + r.name(key) + "' must be >= 0, got "
                                    + std::to_string(v->get<int64_t>()));
  }
  if (!v->is_number_integer()) {
    return wrong_type(r.name(key), "a non-negative integer", *v);
  }
  out = v->get<uint64_t>();
  if (out > max) {
    return bad("invalid_value", "field '" + r.name(key) + "' must be at most " + std::to_string(max)
                                    + ", got " + std::to_string(out));
  }
  return std::nullopt;
}

maybe_error read_string_list(object_reader& r, const char* key, std::vector<std::string>& out) {
  const json* v = r.get(key);
  if (v == nullptr) {
    return std::nullopt;
  }
  if (!v->is_array()) {
    return wrong_type(r.name(key), "an array of strings", *v);
  }
  if (v->size() > max_list_entries) {
    return bad("invalid_value", "field '" + r.name(key) + "' must have at most "
                                    + std::to_string(max_list_entries) + " entries, got "
                                    + std::to_string(v->size()));
  }
  for (size_t i = 0; i < v->size(); ++i) {
    const auto& e = (*v)[i];
    auto field = r.name(key) + "[" + std::to_string(i) + "]";
    if (!e.is_string()) {
      return wrong_type(field, "a string", e);
    }
    const auto& s = e.get_ref<const std::string&>();
    if (s.empty() || s.size() > max_key_bytes) {
      return bad("invalid_value", "field '" + field + "' must be 1-" + std::to_string(max_key_bytes)
                                      + " bytes, got " + std::to_string(s.size()));
    }
    out.push_back(s);
  }
  return std::nullopt;
}

maybe_error read_payload(object_reader& r, bool required, const parse_limits& limits,
                         std::string& out) {
  std::string text;
  std::string b64;
  maybe_error err;
  if ((err = read_string(r, "payload", false, 0, SIZE_MAX, "invalid_value", text))
      || (err = read_string(r, "payload_base64", false, 0, SIZE_MAX, "invalid_value", b64))) {
    return err;
  }
  bool has_text = r.get("payload") != nullptr;
  bool has_b64 = r.get("payload_base64") != nullptr;
  if (has_text && has_b64) {
    return bad("invalid_value", "give either '" + r.name("payload") + "' or '"
                                    + r.name("payload_base64") + "', not both");
  }
  if (required && !has_text && !has_b64) {
    return bad("missing_field", "missing required field '" + r.name("payload") + "' (or '"
                                    + r.name("payload_base64") + "')");
  }
  if (has_b64) {
    auto decoded = decode_base64(b64);
    if (!decoded) {
      return bad("bad_base64", "field '" + r.name("payload_base64")
                                   + "' is not padded standard base64 (RFC 4648 section 4)");
    }
    text = std::move(*decoded);
  }
  if (text.size() > limits.max_payload_bytes) {
    return ingress_error{413, "payload_too_large",
                         "field '" + r.name(has_b64 ? "payload_base64" : "payload") + "' is "
                             + std::to_string(text.size()) + " bytes, over the limit of "
                             + std::to_string(limits.max_payload_bytes)};
  }
  out = std::move(text);
  return std::nullopt;
}

maybe_error object_reader::unknown_fields() const {
  for (const auto& item : object_.items()) {
    bool known = false;
    for (const auto& k : known_) {
      known = known || item.key() == k;
    }
    if (!known) {
      std::string list;
      for (const auto& k : known_) {
        list += (list.empty() ? "" : ", ") + k;
      }
      std::string where =
          prefix_.empty() ? "" : " in '" + prefix_.substr(0, prefix_.size() - 1) + "'";
      return bad("unknown_field",
                 "unknown field " + json_quoted(item.key()) + where + " (known: " + list + ")");
    }
  }
  return std::nullopt;
}

}  // namespace tidegate::actors::ingress_detail
