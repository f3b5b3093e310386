#include "actors/ingress/ingress_routes.h"

#include <algorithm>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include <caf/actor_registry.hpp>
#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>
#include <openssl/crypto.h>

#include "actors/atoms.h"
#include "actors/ingress/ingress_auth.h"
#include "actors/ingress/ingress_http.h"
#include "actors/ingress/topic_routes.h"
#include "actors/names.h"

namespace tidegate::actors {
namespace {

using json = nlohmann::json;
using namespace ingress_detail;

// Publishes one op and waits (on this HTTP thread, never a CAF worker) for the durable answer.
std::variant<publish_result, ingress_error> publish_one(const ingress_context& ctx,
                                                        publish_request op) {
  auto router = ctx.router();
  if (!router) {
    return router_down();
  }
  caf::scoped_actor self{ctx.sys};
  std::variant<publish_result, ingress_error> out = router_down();
  self->request(router, ctx.cfg.router_timeout, publish_atom_v, std::move(op))
      .receive([&](const publish_result& r) { out = r; },
               [&](const caf::error& err) { out = from_router_error(err); });
  return out;
}

http_reply serve_publish(const ingress_context& ctx, const http_request& req, bool push) {
  auto accepted = accept_post(ctx, req);
  if (auto* err = std::get_if<ingress_error>(&accepted)) {
    return reply_error(*err);
  }
  auto& [app, body] = std::get<0>(accepted);
  auto op = push ? parse_push(body, app, ctx.cfg.limits) : parse_publish(body, app, ctx.cfg.limits);
  if (auto* err = std::get_if<ingress_error>(&op)) {
    return reply_error(*err);
  }
  auto result = publish_one(ctx, std::get<publish_request>(std::move(op)));
  if (auto* err = std::get_if<ingress_error>(&result)) {
    return reply_error(*err);
  }
  return reply_json(200, result_json(std::get<publish_result>(result)));
}

http_reply serve_batch(const ingress_context& ctx, const http_request& req) {
  auto accepted = accept_post(ctx, req);
  if (auto* err = std::get_if<ingress_error>(&accepted)) {
    return reply_error(*err);
  }
  auto& [app, body] = std::get<0>(accepted);
  auto parsed = parse_batch(body, app, ctx.cfg.limits);
  if (auto* err = std::get_if<ingress_error>(&parsed)) {
    return reply_error(*err);
  }
  auto& ops = std::get<0>(parsed);
  std::vector<json> results(ops.size());
  // The valid ops travel as one message; the router splits them by bucket and answers once
  // each is durable or failed.
  publish_batch batch;
  std::vector<size_t> slots;
  for (size_t i = 0; i < ops.size(); ++i) {
    if (auto* err = std::get_if<ingress_error>(&ops[i])) {
      results[i] = error_json(*err);
    } else {
      batch.ops.push_back(std::get<publish_request>(std::move(ops[i])));
      slots.push_back(i);
    }
  }
  auto router = ctx.router();
  if (!slots.empty() && !router) {
    for (auto slot : slots) {
      results[slot] = error_json(router_down());
    }
  } else if (!slots.empty()) {
    caf::scoped_actor self{ctx.sys};
    self->request(router, ctx.cfg.router_timeout, publish_atom_v, std::move(batch))
        .receive(
            [&](const publish_outcomes& got) {
              for (size_t j = 0; j < slots.size(); ++j) {
                if (j >= got.outcomes.size()) {
                  results[slots[j]] = error_json(router_down());
                } else if (const auto& err = got.outcomes[j].error) {
                  results[slots[j]] = error_json(from_router_error(err));
                } else {
                  results[slots[j]] = result_json(got.outcomes[j].result);
                }
              }
            },
            [&](const caf::error& err) {
              for (auto slot : slots) {
                results[slot] = error_json(from_router_error(err));
              }
            });
  }
  return reply_json(200, json{{"results", std::move(results)}});
}

http_reply serve_head(const ingress_context& ctx, const http_request& req) {
  auto app = ctx.auth.authenticate(req, ctx.now_ms());
  if (auto* err = std::get_if<ingress_error>(&app)) {
    return reply_error(*err);
  }
  auto query = parse_head(req.params);
  if (auto* err = std::get_if<ingress_error>(&query)) {
    return reply_error(*err);
  }
  auto& q = std::get<head_query>(query);
  auto router = ctx.router();
  if (!router) {
    return reply_error(router_down());
  }
  caf::scoped_actor self{ctx.sys};
  http_reply out = reply_error(router_down());
  self->request(router, ctx.cfg.router_timeout, head_atom_v, std::get<std::string>(app), q.business,
                q.owner)
      .receive(
          [&](uint64_t version) {
            out = reply_json(200, json{{"version", version}});
          },
          [&](const caf::error& err) { out = reply_error(from_router_error(err)); });
  return out;
}

// Asks the router (on this HTTP thread) and renders its answer with `render`, or the error.
template <class T, class Render, class... Ts>
http_reply ask_router(const ingress_context& ctx, Render render, Ts&&... xs) {
  return ask<T>(
      ctx, ctx.router(), router_down(), [&](T& answer) { return reply_json(200, render(answer)); },
      std::forward<Ts>(xs)...);
}

// The dead-letter page cursor travels as hex (URL-safe): OpenSSL's, no separator.
std::string to_hex(const std::string& bytes) {
  std::string out(bytes.size() * 2 + 1, '\0');
  size_t length = 0;
  if (OPENSSL_buf2hexstr_ex(out.data(), out.size(), &length,
                            reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
                            '\0')
      != 1) {
    return {};
  }
  out.resize(length > 0 ? length - 1 : 0);  // the length counts the terminating NUL
  return out;
}

std::optional<std::string> from_hex(const std::string& text) {
  std::string out(text.size() / 2 + 1, '\0');
  size_t length = 0;
  if (OPENSSL_hexstr2buf_ex(reinterpret_cast<unsigned char*>(out.data()), out.size(), &length,
                            text.c_str(), '\0')
      != 1) {
    return std::nullopt;
  }
  out.resize(length);
  return out;
}

http_reply serve_cursors(const ingress_context& ctx, const http_request& req) {
  auto q = accept_get(ctx, req, {{"business", true}, {"owner", true}});
  if (auto* err = std::get_if<ingress_error>(&q)) {
    return reply_error(*err);
  }
  auto& v = std::get<query_values>(q);
  return ask_router<owner_cursors>(
      ctx,
      [](const owner_cursors& oc) {
        json devices = json::array();
        for (const auto& d : oc.devices) {
          devices.push_back({{"device", d.device},
                             {"acked", d.cursor.acked},
                             {"delivered_through", d.cursor.delivered_through},
                             {"attempts", d.cursor.attempts},
                             {"dead_through", d.cursor.dead_through},
                             {"updated_at_ms", d.cursor.updated_at_ms}});
        }
        return json{{"bucket", oc.bucket}, {"head", oc.head}, {"devices", std::move(devices)}};
      },
      cursors_atom_v, v["business"], v["owner"]);
}

http_reply serve_receipts(const ingress_context& ctx, const http_request& req) {
  auto q = accept_get(ctx, req, {{"business", false}, {"owner", true}, {"msg_id", true}});
  if (auto* err = std::get_if<ingress_error>(&q)) {
    return reply_error(*err);
  }
  auto& v = std::get<query_values>(q);
  auto business = v.count("business") != 0 ? v["business"] : std::string{"push"};
  return ask_router<op_receipts>(
      ctx,
      [](const op_receipts& r) {
        json devices = json::array();
        for (const auto& [device, receipt] : r.devices) {
          devices.push_back({{"device", device},
                             {"delivered", receipt.delivered_at_ms != 0},
                             {"delivered_at_ms", receipt.delivered_at_ms},
                             {"acked", receipt.acked_at_ms != 0},
                             {"acked_at_ms", receipt.acked_at_ms}});
        }
        return json{{"version", r.version}, {"receipts", std::move(devices)}};
      },
      receipts_atom_v, business, v["owner"], v["msg_id"]);
}

http_reply serve_dead_letters(const ingress_context& ctx, const http_request& req) {
  auto q = accept_get(ctx, req, {{"business", true}, {"after", false, 2048}, {"limit", false, 4}});
  if (auto* err = std::get_if<ingress_error>(&q)) {
    return reply_error(*err);
  }
  auto& v = std::get<query_values>(q);
  std::string after;
  if (v.count("after") != 0) {
    auto bytes = from_hex(v["after"]);
    if (!bytes) {
      return reply_error(
          {400, "invalid_value", "query parameter 'after' must be the 'next' of an earlier page"});
    }
    after = std::move(*bytes);
  }
  uint32_t limit = 100;
  if (v.count("limit") != 0) {
    const auto& text = v["limit"];
    bool digits =
        std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
    limit = digits ? static_cast<uint32_t>(std::stoul(text)) : 0;
    if (limit < 1 || limit > 1000) {
      return reply_error(
          {400, "invalid_value", "query parameter 'limit' must be 1 to 1000, got " + text});
    }
  }
  return ask_router<storage::dead_letter_page>(
      ctx,
      [](const storage::dead_letter_page& page) {
        json letters = json::array();
        for (const auto& d : page.letters) {
          letters.push_back({{"business", d.business},
                             {"owner", d.owner},
                             {"device", d.device},
                             {"version", d.version},
                             {"msg_id", d.msg_id},
                             {"attempts", d.attempts},
                             {"created_at_ms", d.created_at_ms},
                             {"dead_at_ms", d.dead_at_ms},
                             {"payload_base64", encode_base64(d.payload)}});
        }
        json out{{"dead_letters", std::move(letters)}};
        out["next"] = page.next.empty() ? json(nullptr) : json(to_hex(page.next));
        return out;
      },
      dead_atom_v, v["business"], after, limit);
}

std::optional<http_reply> render_server_error(size_t max_body, int status,
                                              const http_request& req) {
  if (req.path.rfind("/v1/", 0) != 0) {
    return std::nullopt;  // /metrics, /healthz and the rest keep httplib's plain answers
  }
  switch (status) {
    case 404:
      return reply_error({404, "not_found", "no endpoint " + req.method + " " + req.path});
    case 413:
      return reply_error(
          {413, "body_too_large",
           "the request body is over the limit of " + std::to_string(max_body) + " bytes"});
    case 400:
      return reply_error({400, "bad_request", "malformed HTTP request"});
    default:
      return reply_error({status, "http_" + std::to_string(status), "HTTP error"});
  }
}

}  // namespace

void register_ingress_routes(http_server& server, caf::actor_system& sys, ingress_config cfg) {
  server.set_max_body_bytes(cfg.max_body_bytes);
  server.set_worker_threads(cfg.http_threads);
  server.set_error_renderer([max = cfg.max_body_bytes](int status, const http_request& req) {
    return render_server_error(max, status, req);
  });
  auto ctx = std::make_shared<const ingress_detail::ingress_context>(sys, std::move(cfg));
  server.handle("POST", "/v1/sync/ops",
                guarded(ctx, [](auto& c, auto& r) { return serve_publish(c, r, false); }));
  server.handle("POST", "/v1/sync/ops:batch", guarded(ctx, serve_batch));
  server.handle("GET", "/v1/sync/head", guarded(ctx, serve_head));
  server.handle("GET", "/v1/sync/cursors", guarded(ctx, serve_cursors));
  server.handle("GET", "/v1/sync/dead_letters", guarded(ctx, serve_dead_letters));
  server.handle("GET", "/v1/push/receipts", guarded(ctx, serve_receipts));
  server.handle("POST", "/v1/push",
                guarded(ctx, [](auto& c, auto& r) { return serve_publish(c, r, true); }));
  register_topic_routes(server, ctx);
}

}  // namespace tidegate::actors
