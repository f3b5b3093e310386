#include "actors/ingress/topic_routes.h"

#include <string>
#include <utility>
#include <vector>

#include <caf/scoped_actor.hpp>

#include "actors/atoms.h"
#include "actors/ingress/topic_parse.h"
#include "actors/topics/topic_messages.h"

namespace tidegate::actors {
namespace {

using json = nlohmann::json;
using namespace ingress_detail;

ingress_error topics_down() {
  return {503, "unavailable", "topics are not running on this node: retry"};
}

// Asks the topic directory (on this HTTP thread) and waits for its answer: `on_answer(T&)`,
// or the reply for the error.
template <class T, class OnAnswer, class... Ts>
http_reply ask_topics(const ingress_context& ctx, OnAnswer on_answer, Ts&&... xs) {
  return ask<T>(ctx, topic_directory_of(ctx.sys), topics_down(), on_answer,
                std::forward<Ts>(xs)...);
}

http_reply serve_publish(const ingress_context& ctx, const http_request& req) {
  auto accepted = accept_post(ctx, req);
  if (auto* err = std::get_if<ingress_error>(&accepted)) {
    return reply_error(*err);
  }
  auto msg = parse_topic_publish(std::get<0>(accepted).second, ctx.cfg.limits);
  if (auto* err = std::get_if<ingress_error>(&msg)) {
    return reply_error(*err);
  }
  return ask_topics<publish_result>(
      ctx, [](const publish_result& r) { return reply_json(200, result_json(r)); }, publish_atom_v,
      std::get<topic_publish>(std::move(msg)));
}

// The messages of one batch go to the topic as separate publishes at once, so they share its
// group commits; the reply waits for all of them.
http_reply serve_batch(const ingress_context& ctx, const http_request& req) {
  auto accepted = accept_post(ctx, req);
  if (auto* err = std::get_if<ingress_error>(&accepted)) {
    return reply_error(*err);
  }
  auto parsed = parse_topic_batch(std::get<0>(accepted).second, ctx.cfg.limits);
  if (auto* err = std::get_if<ingress_error>(&parsed)) {
    return reply_error(*err);
  }
  auto& messages = std::get<0>(parsed);
  std::vector<json> results(messages.size());
  auto directory = topic_directory_of(ctx.sys);
  caf::scoped_actor self{ctx.sys};
  // Every request goes out before the first answer is awaited: the topic takes them in one
  // run of its mailbox, so they share group commits.
  using handle =
      decltype(self->request(directory, ctx.cfg.router_timeout, publish_atom_v, topic_publish{}));
  std::vector<std::pair<size_t, handle>> asked;
  for (size_t i = 0; i < messages.size(); ++i) {
    if (auto* err = std::get_if<ingress_error>(&messages[i])) {
      results[i] = error_json(*err);
    } else if (!directory) {
      results[i] = error_json(topics_down());
    } else {
      asked.emplace_back(i, self->request(directory, ctx.cfg.router_timeout, publish_atom_v,
                                          std::get<topic_publish>(std::move(messages[i]))));
    }
  }
  for (auto& [i, h] : asked) {
    h.receive([&results, i = i](const publish_result& r) { results[i] = result_json(r); },
              [&results, i = i](const caf::error& err) {
                results[i] = error_json(from_router_error(err));
              });
  }
  return reply_json(200, json{{"results", std::move(results)}});
}

http_reply serve_follow(const ingress_context& ctx, const http_request& req, bool follow) {
  auto accepted = accept_post(ctx, req);
  if (auto* err = std::get_if<ingress_error>(&accepted)) {
    return reply_error(*err);
  }
  auto parsed = parse_follow(std::get<0>(accepted).second);
  if (auto* err = std::get_if<ingress_error>(&parsed)) {
    return reply_error(*err);
  }
  auto body = std::get<follow_body>(std::move(parsed));
  auto users = body.users;
  auto render = [&users](const follow_outcomes& outcomes) {
    json results = json::array();
    for (size_t i = 0; i < users.size() && i < outcomes.size(); ++i) {
      const auto& o = outcomes[i];
      if (!o.refused.empty()) {
        results.push_back(json{{"user", users[i]},
                               {"error", {{"code", "too_many_follows"}, {"message", o.refused}}}});
        continue;
      }
      results.push_back(json{{"user", users[i]},
                             {"following", o.following},
                             {"changed", o.changed},
                             {"since_version", o.since_version}});
    }
    return reply_json(200, json{{"results", std::move(results)}});
  };
  if (follow) {
    return ask_topics<follow_outcomes>(ctx, render, follow_atom_v, body.topic,
                                       std::move(body.users));
  }
  return ask_topics<follow_outcomes>(ctx, render, unfollow_atom_v, body.topic,
                                     std::move(body.users));
}

http_reply serve_info(const ingress_context& ctx, const http_request& req) {
  auto query = accept_get(ctx, req, {{"topic", true, 160}});
  if (auto* err = std::get_if<ingress_error>(&query)) {
    return reply_error(*err);
  }
  auto topic = std::get<query_values>(query)["topic"];
  if (!is_topic_name(topic)) {
    return reply_error(
        {400, "bad_topic",
         "query parameter 'topic' must be characters of A-Z, a-z, 0-9, '-', '_', '.' and ':'"});
  }
  return ask_topics<topic_info>(
      ctx,
      [](const topic_info& t) {
        return reply_json(200, json{{"topic", t.topic},
                                    {"head", t.head},
                                    {"followers", t.followers},
                                    {"online_followers", t.online_followers},
                                    {"interested_nodes", t.interested_nodes}});
      },
      info_atom_v, topic);
}

}  // namespace

void register_topic_routes(http_server& server, std::shared_ptr<const ingress_context> ctx) {
  server.handle("POST", "/v1/topics/messages", guarded(ctx, serve_publish));
  server.handle("POST", "/v1/topics/messages:batch", guarded(ctx, serve_batch));
  server.handle("POST", "/v1/topics/follow",
                guarded(ctx, [](auto& c, auto& r) { return serve_follow(c, r, true); }));
  server.handle("POST", "/v1/topics/unfollow",
                guarded(ctx, [](auto& c, auto& r) { return serve_follow(c, r, false); }));
  server.handle("GET", "/v1/topics/info", guarded(ctx, serve_info));
}

}  // namespace tidegate::actors
