#include "protocol/dispatch_answer.h"

#include "protocol/base64url.h"
#include "protocol/hmac.h"

#include <nlohmann/json.hpp>

namespace tidegate::protocol {
namespace {

using json = nlohmann::json;

void append_field(std::string& out, std::string_view field) {
  out.append(std::to_string(field.size())).append(":").append(field).append("\n");
}

}  // namespace

std::string dispatch_signing_text(const dispatch_answer& a) {
  std::string addresses;
  for (const auto& address : a.addresses) {
    addresses.append(addresses.empty() ? "" : ",").append(address);
  }
  std::string hints = "tls=" + std::to_string(a.hints.tls ? 1 : 0)
                      + ";zstd=" + std::to_string(a.hints.zstd ? 1 : 0)
                      + ";heartbeat_ms=" + std::to_string(a.hints.heartbeat_ms);
  std::string text = "tidegate-dispatch-v1\n";
  for (std::string_view field : {std::string_view{a.app}, std::string_view{a.owner},
                                 std::string_view{a.zone}, std::string_view{addresses}}) {
    append_field(text, field);
  }
  append_field(text, std::to_string(a.ttl_s));
  append_field(text, std::to_string(a.expires_at_s));
  append_field(text, hints);
  return text;
}

void sign_dispatch(dispatch_answer& a, std::string_view key) {
  a.signature = base64url_encode(hmac_sha256(key, dispatch_signing_text(a)));
}

std::string render_dispatch_json(const dispatch_answer& a) {
  return json{
      {"app", a.app},
      {"owner", a.owner},
      {"zone", a.zone},
      {"addresses", a.addresses},
      {"ttl_s", a.ttl_s},
      {"expires_at_s", a.expires_at_s},
      {"hints",
       {{"tls", a.hints.tls}, {"zstd", a.hints.zstd}, {"heartbeat_ms", a.hints.heartbeat_ms}}},
      {"signature", a.signature}}
      .dump();
}

std::optional<dispatch_answer> parse_dispatch_answer(std::string_view text, std::string& error) {
  auto doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    error = "the dispatch answer is not a JSON object";
    return std::nullopt;
  }
  dispatch_answer a;
  auto take_string = [&](const char* name, std::string& out) {
    auto it = doc.find(name);
    if (it == doc.end() || !it->is_string()) {
      error = std::string{"dispatch answer: \""} + name + "\" must be a string";
      return false;
    }
    out = it->get<std::string>();
    return true;
  };
  auto take_unsigned = [&](const json& object, const char* name, uint64_t max, auto& out) {
    auto it = object.find(name);
    if (it == object.end() || !it->is_number_unsigned() || it->get<uint64_t>() > max) {
      error = std::string{"dispatch answer: \""} + name + "\" must be an integer from 0 to "
              + std::to_string(max);
      return false;
    }
    out = static_cast<std::decay_t<decltype(out)>>(it->get<uint64_t>());
    return true;
  };
  if (!take_string("app", a.app) || !take_string("owner", a.owner) || !take_string("zone", a.zone)
      || !take_string("signature", a.signature) || !take_unsigned(doc, "ttl_s", UINT32_MAX, a.ttl_s)
      || !take_unsigned(doc, "expires_at_s", UINT64_MAX, a.expires_at_s)) {
    return std::nullopt;
  }
  auto addresses = doc.find("addresses");
  if (addresses == doc.end() || !addresses->is_array()) {
    error = "dispatch answer: \"addresses\" must be an array of strings";
    return std::nullopt;
  }
  for (const auto& address : *addresses) {
    if (!address.is_string()) {
      error = "dispatch answer: \"addresses\" must be an array of strings";
      return std::nullopt;
    }
    a.addresses.push_back(address.get<std::string>());
  }
  auto hints = doc.find("hints");
  if (hints == doc.end() || !hints->is_object()) {
    error = "dispatch answer: \"hints\" must be an object";
    return std::nullopt;
  }
  for (auto [name, flag] : {std::pair{"tls", &a.hints.tls}, std::pair{"zstd", &a.hints.zstd}}) {
    auto it = hints->find(name);
    if (it == hints->end() || !it->is_boolean()) {
      error = std::string{"dispatch answer: \"hints."} + name + "\" must be a boolean";
      return std::nullopt;
    }
    *flag = it->get<bool>();
  }
  if (!take_unsigned(*hints, "heartbeat_ms", UINT32_MAX, a.hints.heartbeat_ms)) {
    return std::nullopt;
  }
  return a;
}

dispatch_status check_dispatch(const dispatch_answer& a, std::string_view key, std::string_view app,
                               std::string_view owner, uint64_t now_s) {
  auto given = base64url_decode(a.signature);
  if (!given || !equal_in_constant_time(*given, hmac_sha256(key, dispatch_signing_text(a)))) {
    return dispatch_status::bad_signature;
  }
  if (a.app != app || a.owner != owner) {
    return dispatch_status::not_asked_for;
  }
  if (a.addresses.empty()) {
    return dispatch_status::no_address;
  }
  return a.expires_at_s <= now_s ? dispatch_status::expired : dispatch_status::ok;
}

const char* to_string(dispatch_status status) {
  switch (status) {
    case dispatch_status::ok:
      return "ok";
    case dispatch_status::bad_signature:
      return "bad signature";
    case dispatch_status::expired:
      return "expired";
    case dispatch_status::not_asked_for:
      return "for another app or owner";
    case dispatch_status::no_address:
      return "no address";
  }
  return "unknown";
}

}  // namespace tidegate::protocol
