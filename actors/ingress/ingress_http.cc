#include "actors/ingress/ingress_http.h"

namespace tidegate::actors::ingress_detail {

using json = nlohmann::json;

http_reply reply_json(int status, const json& body) {
  return http_reply{status, "application/json",
                    body.dump(-1, ' ', false, json::error_handler_t::replace)};
}

http_reply reply_error(const ingress_error& err) {
  return http_reply{err.status, "application/json", error_body(err)};
}

json result_json(const publish_result& r) {
  return json{{"version", r.version}, {"duplicated", r.duplicated}};
}

json error_json(const ingress_error& err) {
  return json{{"error", {{"code", err.code}, {"message", err.message}}}};
}

ingress_error router_down() {
  return from_router_error(caf::sec::invalid_argument);
}

std::variant<std::pair<std::string, json>, ingress_error> accept_post(const ingress_context& ctx,
                                                                      const http_request& req) {
  auto app = ctx.auth.authenticate(req, ctx.now_ms());
  if (auto* err = std::get_if<ingress_error>(&app)) {
    return *err;
  }
  if (ctx.cfg.refuse_writes) {
    if (auto why = ctx.cfg.refuse_writes()) {
      return ingress_error{503, "no_majority", std::move(*why)};
    }
  }
  if (auto ct = check_content_type(req.header("content-type"));
      std::holds_alternative<ingress_error>(ct)) {
    return std::get<ingress_error>(ct);
  }
  auto body = parse_json(req.body);
  if (auto* err = std::get_if<ingress_error>(&body)) {
    return *err;
  }
  return std::make_pair(std::get<std::string>(std::move(app)), std::get<json>(std::move(body)));
}

std::variant<query_values, ingress_error> accept_get(const ingress_context& ctx,
                                                     const http_request& req,
                                                     const std::vector<query_field>& fields) {
  auto app = ctx.auth.authenticate(req, ctx.now_ms());
  if (auto* err = std::get_if<ingress_error>(&app)) {
    return *err;
  }
  return parse_query(req.params, fields);
}

}  // namespace tidegate::actors::ingress_detail
