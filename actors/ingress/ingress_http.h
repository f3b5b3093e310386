#pragma once

#include <chrono>
#include <exception>
#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_registry.hpp>
#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>

#include "actors/admin/http_server.h"
#include "actors/ingress/ingress_auth.h"
#include "actors/ingress/ingress_parse.h"
#include "actors/ingress/ingress_routes.h"
#include "actors/names.h"

#include <nlohmann/json.hpp>

namespace tidegate::actors::ingress_detail {

// What every ingress handler shares (ingress_routes.cc, topic_routes.cc). Not part of the
// module's API.

struct ingress_context {
  ingress_context(caf::actor_system& sys, ingress_config config)
      : sys(sys), cfg(std::move(config)), auth(cfg.apps) {}

  caf::actor_system& sys;
  ingress_config cfg;
  ingress_auth auth;

  caf::actor router() const {
    if (cfg.router) {
      return cfg.router();
    }
    return sys.registry().get<caf::actor>(sync_router_name);
  }

  int64_t now_ms() const {
    if (cfg.clock) {
      return cfg.clock();
    }
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

using context_ptr = std::shared_ptr<const ingress_context>;

/// A JSON reply with `status`.
http_reply reply_json(int status, const nlohmann::json& body);
/// The JSON error reply of `err`.
http_reply reply_error(const ingress_error& err);
/// {"version", "duplicated"} of a publish.
nlohmann::json result_json(const publish_result& r);
/// {"error": {"code", "message"}}: one failed entry of a batch.
nlohmann::json error_json(const ingress_error& err);
/// The error of a call to an actor that is not running.
ingress_error router_down();
/// Authenticates a POST, checks the media type and parses the body: the app id and the JSON,
/// or the reply that refuses the request.
std::variant<std::pair<std::string, nlohmann::json>, ingress_error> accept_post(
    const ingress_context& ctx, const http_request& req);
/// Authenticates a GET and parses its query: the values, or the reply that refuses it.
std::variant<query_values, ingress_error> accept_get(const ingress_context& ctx,
                                                     const http_request& req,
                                                     const std::vector<query_field>& fields);

/// Asks `actor` (on this HTTP thread, never a CAF worker) and waits for its answer:
/// `on_answer(T&)` makes the reply; an error becomes its JSON error; `down` answers when
/// `actor` is not running.
template <class T, class OnAnswer, class... Ts>
http_reply ask(const ingress_context& ctx, const caf::actor& actor, const ingress_error& down,
               OnAnswer on_answer, Ts&&... xs) {
  if (!actor) {
    return reply_error(down);
  }
  caf::scoped_actor self{ctx.sys};
  http_reply out = reply_error(down);
  self->request(actor, ctx.cfg.router_timeout, std::forward<Ts>(xs)...)
      .receive([&](T& answer) { out = on_answer(answer); },
               [&](const caf::error& err) { out = reply_error(from_router_error(err)); });
  return out;
}

// Untrusted input never escapes a handler as an exception (bad_alloc aside, none is thrown;
// this keeps httplib from answering with an empty 500).
template <class F>
http_server::handler guarded(context_ptr ctx, F f) {
  return [ctx = std::move(ctx), f](const http_request& req) {
    try {
      return f(*ctx, req);
    } catch (const std::exception& e) {
      return reply_error({500, "internal", std::string{"internal error: "} + e.what()});
    }
  };
}

}  // namespace tidegate::actors::ingress_detail
