#include "actors/gateway/session_machine.h"

#include <algorithm>
#include <limits>

#include "actors/gateway/read_retry.h"
#include "actors/sync/op_filter.h"
#include "protocol/auth_token.h"
#include "protocol/frame.h"
#include "protocol/zstd_codec.h"
#include "tidegate/v1/control.pb.h"
#include "tidegate/v1/handshake.pb.h"
#include "tidegate/v1/sync.pb.h"
#include "tidegate/v1/topic.pb.h"

namespace tidegate::actors {
namespace {

using protocol::protocol_errc;

constexpr size_t max_device_id_bytes = 128;
constexpr size_t max_app_id_bytes = 64;
// More unacked frames than this is a client that does not ack at all.
constexpr size_t max_unacked = 4096;
constexpr uint64_t never = std::numeric_limits<uint64_t>::max();

}  // namespace

/// How topic_streams reaches the client and the topics: SyncData frames of topics, reads of
/// their logs, and the client's backlog. Lives for one input of the machine.
class session_topic_output final : public topic_output {
 public:
  session_topic_output(session_machine& m, session_time now, session_effects& fx)
      : m_(m), now_(now), fx_(fx) {}

  void send_topic(const topic_frame& f) override {
    if (f.whole != nullptr && m_.can_share_topic_frames(*f.whole, now_)) {
      const auto& shared = f.whole->encoded([this, &f](shared_payload& out) {
        v1::SyncData data;
        fill(data, f);
        auto bytes = data.SerializeAsString();
        out.compressed = m_.compress_shared(bytes, out.bytes);
        if (!out.compressed) {
          out.bytes = std::move(bytes);
        }
      });
      m_.send_payload(v1::FRAME_TYPE_SYNC_DATA, shared.bytes, shared.compressed, now_, fx_,
                      v1::CHANNEL_SYNC);
      return;
    }
    v1::SyncData data;
    fill(data, f);
    m_.send(v1::FRAME_TYPE_SYNC_DATA, data, true, now_, fx_, v1::CHANNEL_SYNC);
  }

  void fill(v1::SyncData& data, const topic_frame& f) const {
    data.set_topic(*f.topic);
    data.set_more(f.more);
    data.set_reset(f.reset);
    data.set_head_version(f.head);
    data.set_gone_through(f.gone_through);
    for (size_t i = 0; i < f.count; ++i) {
      const auto& r = f.first[i];
      auto* op = data.add_ops();
      op->set_version(r.version);
      if (r.expires_at_ms != 0 && r.expires_at_ms <= now_.wall_ms) {
        op->set_skipped(true);  // expired: the version, never the content
        continue;
      }
      op->set_payload(r.payload);
      op->set_msg_id(r.msg_id);
      op->set_created_at_ms(r.created_at_ms);
      op->set_expires_at_ms(r.expires_at_ms);
    }
  }

  void fetch_topic(topic_fetch fetch) override { fx_.topic_fetches.push_back(std::move(fetch)); }

  bool backlog_full() const override {
    return m_.unacked_.size() >= m_.ctx_.config.topic_backlog_frames;
  }

 private:
  session_machine& m_;
  session_time now_;
  session_effects& fx_;
};

session_machine::session_machine(const gateway_context& ctx, uint64_t session_number,
                                 session_time start)
    : ctx_(ctx),
      decoder_({ctx.config.max_frame_size}),
      encoder_({ctx.config.compression_threshold}),
      session_number_(session_number),
      handshake_deadline_(start.mono_ms + ctx.config.handshake_timeout_ms),
      last_in_(start.mono_ms) {}

std::string session_machine::session_id() const {
  return ctx_.node_id + "-" + std::to_string(session_number_);
}

uint64_t session_machine::next_deadline() const {
  uint64_t deadline = never;
  switch (phase_) {
    case phase::awaiting_hello:
    case phase::awaiting_auth:
      deadline = handshake_deadline_;
      break;
    case phase::ready:
      deadline = last_in_ + idle_timeout_ms_;
      break;
    case phase::closing:
      deadline = close_at_;
      break;
    case phase::closed:
      return never;
  }
  if (!unacked_.empty()) {
    deadline = std::min(deadline, unacked_.front().second + ctx_.config.ack_deadline_ms);
  }
  if (phase_ == phase::ready) {
    for (const auto& [due, fetch] : fetch_retries_) {
      deadline = std::min(deadline, due);
    }
    deadline = std::min(deadline, topics_.retry_deadline());
  }
  return deadline;
}

void session_machine::on_bytes(const char* data, size_t size, session_time now,
                               session_effects& fx) {
  if (phase_ == phase::closed) {
    return;
  }
  decoder_.append(data, size);
  protocol::frame f;
  while (phase_ != phase::closed) {
    auto status = decoder_.next(f);
    if (status == protocol::frame_decoder::status::need_more) {
      break;
    }
    if (status == protocol::frame_decoder::status::error) {
      fail(decoder_.error().code, decoder_.error().reason, fx);
      break;
    }
    ++fx.frames_in;
    last_in_ = now.mono_ms;
    handle(f, now, fx);
  }
}

void session_machine::handle(const protocol::frame& f, session_time now, session_effects& fx) {
  switch (f.type) {
    case v1::FRAME_TYPE_HELLO:
      if (phase_ != phase::awaiting_hello) {
        fail(protocol_errc::unexpected_frame, "second HELLO", fx);
        return;
      }
      on_hello(f, now, fx);
      return;
    case v1::FRAME_TYPE_AUTH:
      if (phase_ != phase::awaiting_auth) {
        fail(protocol_errc::unexpected_frame,
             phase_ == phase::awaiting_hello ? "first frame must be HELLO" : "second AUTH", fx);
        return;
      }
      on_auth(f, now, fx);
      return;
    default:
      break;
  }
  if (phase_ == phase::awaiting_hello) {
    fail(protocol_errc::unexpected_frame,
         "first frame must be HELLO, got " + protocol::frame_type_name(f.type), fx);
    return;
  }
  switch (f.type) {
    case v1::FRAME_TYPE_PING:
      on_ping(f, now, fx);
      return;
    case v1::FRAME_TYPE_ACK:
      on_ack(f, fx);
      if (phase_ == phase::ready) {
        session_topic_output out(*this, now, fx);
        topics_.resume_stalled(out);
      }
      return;
    case v1::FRAME_TYPE_SYNC_REQ:
    case v1::FRAME_TYPE_SYNC_ACK:
      if (user_id_.empty()) {
        if (phase_ != phase::closing) {  // closing without a user: redirected; sent GOAWAY
          fail(protocol_errc::unexpected_frame, "SYNC before AUTH", fx);
        }
        return;
      }
      if (f.type == v1::FRAME_TYPE_SYNC_REQ) {
        on_sync_request(f, now, fx);
      } else {
        on_sync_ack(f, fx);
      }
      return;
    case v1::FRAME_TYPE_FOLLOW:
    case v1::FRAME_TYPE_UNFOLLOW:
      if (user_id_.empty()) {
        if (phase_ != phase::closing) {
          fail(protocol_errc::unexpected_frame, protocol::frame_type_name(f.type) + " before AUTH",
               fx);
        }
        return;
      }
      on_follow_frame(f, now, fx);
      return;
    default:
      fail(protocol_errc::unexpected_frame,
           protocol::frame_type_name(f.type) + " frames are not served by this node", fx);
  }
}

void session_machine::on_hello(const protocol::frame& f, session_time now, session_effects& fx) {
  v1::Hello hello;
  if (!hello.ParseFromString(f.payload)) {
    fail(protocol_errc::bad_payload, "HELLO payload does not parse", fx);
    return;
  }
  if (hello.protocol_version() != protocol::mmtp_version) {
    fail(protocol_errc::bad_hello,
         "unsupported protocol_version " + std::to_string(hello.protocol_version()), fx);
    return;
  }
  if (hello.device_id().empty() || hello.device_id().size() > max_device_id_bytes) {
    fail(protocol_errc::bad_hello, "device_id must be 1 to 128 bytes", fx);
    return;
  }
  if (hello.app_id().empty() || hello.app_id().size() > max_app_id_bytes) {
    fail(protocol_errc::bad_hello, "app_id must be 1 to 64 bytes", fx);
    return;
  }
  auto app = ctx_.apps.find(hello.app_id());
  if (app == ctx_.apps.end()) {
    fail(protocol_errc::auth_failed, "unknown app '" + hello.app_id() + "'", fx);
    return;
  }
  app_ = &app->second;
  app_id_ = hello.app_id();
  device_id_ = hello.device_id();
  os_ = hello.os();
  client_version_ = hello.client_version();
  active_ = hello.app_state() != v1::APP_STATE_BACKGROUND;
  accept_heartbeat(hello.heartbeat_interval_ms());
  uint32_t dictionary_id = 0;
  if (app_->dictionary && hello.zstd_dictionary_id() == app_->dictionary->id()) {
    dictionary_id = app_->dictionary->id();
    decoder_.set_dictionary(app_->dictionary.get());
    encoder_.options().dictionary = app_->dictionary.get();
    uses_dictionary_ = true;
  }
  phase_ = phase::awaiting_auth;
  v1::Welcome welcome;
  welcome.set_session_id(session_id());
  welcome.set_node_id(ctx_.node_id);
  welcome.set_server_time_ms(now.wall_ms);
  welcome.set_heartbeat_interval_ms(heartbeat_ms_);
  welcome.set_idle_timeout_ms(idle_timeout_ms_);
  welcome.set_max_frame_size(static_cast<uint32_t>(ctx_.config.max_frame_size));
  welcome.set_compression_threshold(static_cast<uint32_t>(ctx_.config.compression_threshold));
  welcome.set_zstd_dictionary_id(dictionary_id);
  welcome.set_ack_deadline_ms(ctx_.config.ack_deadline_ms);
  send(v1::FRAME_TYPE_WELCOME, welcome, true, now, fx);
  fx.hello_accepted = true;
}

void session_machine::on_auth(const protocol::frame& f, session_time now, session_effects& fx) {
  v1::Auth auth;
  if (!auth.ParseFromString(f.payload)) {
    fail(protocol_errc::bad_payload, "AUTH payload does not parse", fx);
    return;
  }
  auto check = protocol::verify_token(auth.token(), app_->secret, app_id_, now.wall_ms / 1000);
  if (check.status != protocol::token_status::ok) {
    fail(protocol_errc::auth_failed, protocol::to_string(check.status), fx);
    return;
  }
  if (ctx_.zone_redirect) {
    if (auto elsewhere = ctx_.zone_redirect(check.user_id); !elsewhere.empty()) {
      // Before AUTH_OK: the client never counts this node as its session.
      start_closing(v1::GO_AWAY_REASON_REDIRECT,
                    "user " + check.user_id + " belongs to another zone", 0,
                    gateway_errc::redirected, now, fx, elsewhere);
      return;
    }
  }
  user_id_ = std::move(check.user_id);
  phase_ = phase::ready;
  v1::AuthOk ok;
  ok.set_user_id(user_id_);
  ok.set_expires_at_ms(check.expires_at_s * 1000);
  send(v1::FRAME_TYPE_AUTH_OK, ok, true, now, fx);
  fx.authenticated = true;
}

void session_machine::on_ping(const protocol::frame& f, session_time now, session_effects& fx) {
  v1::Ping ping;
  if (!ping.ParseFromString(f.payload)) {
    fail(protocol_errc::bad_payload, "PING payload does not parse", fx);
    return;
  }
  if (ping.heartbeat_interval_ms() != 0) {
    accept_heartbeat(ping.heartbeat_interval_ms());
  }
  if (ping.app_state() != v1::APP_STATE_UNSPECIFIED) {
    set_active(ping.app_state() == v1::APP_STATE_FOREGROUND, now, fx);
  }
  v1::Pong pong;
  pong.set_client_time_ms(ping.client_time_ms());
  pong.set_server_time_ms(now.wall_ms);
  pong.set_heartbeat_interval_ms(heartbeat_ms_);
  pong.set_idle_timeout_ms(idle_timeout_ms_);
  send(v1::FRAME_TYPE_PONG, pong, false, now, fx);
}

void session_machine::on_ack(const protocol::frame& f, session_effects& fx) {
  v1::Ack ack;
  if (!ack.ParseFromString(f.payload)) {
    fail(protocol_errc::bad_payload, "ACK payload does not parse", fx);
    return;
  }
  if (ack.seq() >= next_seq_) {
    fail(protocol_errc::unexpected_frame,
         "ACK for seq " + std::to_string(ack.seq()) + " which was never sent", fx);
    return;
  }
  auto acked = std::find_if(unacked_.begin(), unacked_.end(),
                            [&](const auto& entry) { return entry.first > ack.seq(); });
  unacked_.erase(unacked_.begin(), acked);
  if (unacked_.empty() && unacked_.capacity() > 16) {
    unacked_.shrink_to_fit();
  }
}

const std::string& session_machine::owner_for(bucket_kind kind) const {
  switch (kind) {
    case bucket_kind::device:
    case bucket_kind::once_device:
      return device_id_;
    case bucket_kind::global:
      return app_id_;
    default:
      return user_id_;
  }
}

void session_machine::set_active(bool active, session_time now, session_effects& fx) {
  if (active == active_) {
    return;
  }
  active_ = active;
  fx.active = active;
  if (active && phase_ == phase::ready) {
    session_topic_output out(*this, now, fx);
    topics_.catch_up(out);  // what the notices announced
  }
}

void session_machine::on_follow_frame(const protocol::frame& f, session_time now,
                                      session_effects& fx) {
  v1::FollowRequest req;
  if (!req.ParseFromString(f.payload)) {
    fail(protocol_errc::bad_payload, protocol::frame_type_name(f.type) + " payload does not parse",
         fx);
    return;
  }
  follow_request asked{req.request_id(), req.topic(), f.type == v1::FRAME_TYPE_FOLLOW};
  if (!is_topic_name(asked.topic)) {
    on_follow_result(asked, {}, v1::ERROR_CODE_BAD_TOPIC,
                     "a topic name is 1-160 characters of A-Z, a-z, 0-9, '-', '_', '.' and ':'",
                     now, fx);
    return;
  }
  fx.follow_requests.push_back(std::move(asked));
}

void session_machine::on_follow_result(const follow_request& asked, const follow_outcome& outcome,
                                       uint32_t error_code, const std::string& error,
                                       session_time now, session_effects& fx) {
  if (phase_ != phase::ready) {
    return;
  }
  v1::FollowResult result;
  result.set_request_id(asked.request_id);
  result.set_topic(asked.topic);
  if (!error.empty() || !outcome.refused.empty()) {
    result.set_ok(false);
    result.set_error_code(error.empty() ? uint32_t{v1::ERROR_CODE_LIMITED} : error_code);
    result.set_message(error.empty() ? outcome.refused : error);
  } else {
    result.set_ok(true);
    result.set_following(outcome.following);
    result.set_since_version(outcome.since_version);
  }
  send(v1::FRAME_TYPE_FOLLOW_RESULT, result, true, now, fx, v1::CHANNEL_SYNC);
}

void session_machine::on_follows(const followed_topics& topics, session_time now,
                                 session_effects& fx) {
  if (phase_ != phase::ready) {
    return;
  }
  session_topic_output out(*this, now, fx);
  topics_.on_follows(topics, out);
}

void session_machine::on_followed(const std::string& topic, uint64_t since, session_time now,
                                  session_effects& fx) {
  if (phase_ != phase::ready) {
    return;
  }
  session_topic_output out(*this, now, fx);
  topics_.on_followed(topic, since, out);
}

void session_machine::on_unfollowed(const std::string& topic) {
  topics_.on_unfollowed(topic);
}

void session_machine::on_topic_batch(const topic_batch& batch, session_time now,
                                     session_effects& fx) {
  if (phase_ != phase::ready) {
    return;
  }
  session_topic_output out(*this, now, fx);
  topics_.on_batch(batch, out);
}

void session_machine::on_topic_notice(const std::string& topic, uint64_t head, session_time now,
                                      session_effects& fx) {
  if (phase_ != phase::ready || !topics_.on_notice(topic, head)) {
    return;
  }
  v1::TopicNotice notice;
  notice.set_topic(topic);
  notice.set_head_version(head);
  send(v1::FRAME_TYPE_TOPIC_NOTICE, notice, true, now, fx, v1::CHANNEL_SYNC);
}

void session_machine::on_topic_head(const std::string& topic, uint64_t head, session_time now,
                                    session_effects& fx) {
  if (phase_ != phase::ready) {
    return;
  }
  if (!active_) {
    on_topic_notice(topic, head, now, fx);
    return;
  }
  session_topic_output out(*this, now, fx);
  topics_.on_head(topic, head, out);
}

void session_machine::on_topic_fetched(const topic_fetch& asked, const sync_page& page,
                                       session_time now, session_effects& fx) {
  if (phase_ != phase::ready) {
    return;
  }
  session_topic_output out(*this, now, fx);
  topics_.on_fetched(asked, page, out);
}

void session_machine::on_topic_fetch_failed(const topic_fetch& asked, session_time now) {
  topics_.on_fetch_failed(asked, now.mono_ms);
}

void session_machine::on_sync_request(const protocol::frame& f, session_time now,
                                      session_effects& fx) {
  v1::SyncRequest req;
  if (!req.ParseFromString(f.payload)) {
    fail(protocol_errc::bad_payload, "SYNC_REQ payload does not parse", fx);
    return;
  }
  if (req.reason() == v1::SYNC_REASON_FOREGROUND) {
    set_active(true, now, fx);
  }
  std::unordered_map<std::string, uint64_t> topic_cursors;
  for (const auto& c : req.topics()) {
    topic_cursors[c.topic()] = c.version();
  }
  {
    session_topic_output out(*this, now, fx);
    topics_.on_sync_request(std::move(topic_cursors), out);
  }
  // One read per bucket, not per business (DESIGN §5): every configured bucket, from the
  // client's cursor, or from 0 for a bucket it does not name; by priority, highest first.
  // A new SYNC_REQ supersedes what is left of the previous one.
  auto sync = ctx_.sync();  // one consistent view, even if a reload swaps it meanwhile
  std::vector<const bucket_config*> order;
  for (const auto& bucket : sync->buckets) {
    order.push_back(&bucket);
  }
  std::stable_sort(order.begin(), order.end(),
                   [](const auto* a, const auto* b) { return a->priority > b->priority; });
  ++sync_round_;
  sync_levels_.clear();
  sync_level_next_ = 0;
  sync_outstanding_ = 0;
  fetch_retries_.clear();  // this round reads every bucket again
  for (size_t i = 0; i < order.size(); ++i) {
    const auto& bucket = *order[i];
    uint64_t after = 0;
    for (const auto& cursor : req.cursors()) {
      if (cursor.bucket() == bucket.name) {
        after = cursor.version();
      }
    }
    if (i == 0 || order[i - 1]->priority != bucket.priority) {
      sync_levels_.emplace_back();
    }
    sync_levels_.back().push_back(
        {bucket.name, owner_for(bucket.kind), after, sync_round_, /*first=*/true});
  }
  finish_fetch(fx);  // nothing is out: starts the first level
}

void session_machine::finish_fetch(session_effects& fx) {
  if (sync_outstanding_ > 0) {
    --sync_outstanding_;
  }
  while (sync_outstanding_ == 0 && sync_level_next_ < sync_levels_.size()) {
    auto& level = sync_levels_[sync_level_next_++];
    sync_outstanding_ = level.size();
    for (auto& f : level) {
      fx.fetches.push_back(std::move(f));
    }
  }
}

void session_machine::on_fetched(const sync_fetch& asked, const sync_page& page, session_time now,
                                 session_effects& fx) {
  if (phase_ != phase::ready) {
    return;  // closing or closed: the client resumes from its cursor elsewhere
  }
  send_sync_data(page, now, fx);
  if (asked.round != sync_round_) {
    return;  // a newer SYNC_REQ reads this bucket again
  }
  if (page.more && !page.records.empty()) {
    fx.fetches.push_back({asked.bucket, asked.owner, page.records.back().version, asked.round,
                          /*first=*/false, asked.retry});
    return;
  }
  if (!asked.retry) {
    finish_fetch(fx);
  }
}

void session_machine::on_fetch_failed(const sync_fetch& asked, session_time now,
                                      session_effects& fx) {
  if (phase_ != phase::ready || asked.round != sync_round_) {
    return;  // closing, or a newer SYNC_REQ reads this bucket again
  }
  auto again = asked;
  again.retry = true;
  again.failures = asked.failures + 1;
  fetch_retries_.emplace_back(now.mono_ms + read_retry_delay_ms(again.failures), std::move(again));
  if (!asked.retry) {
    finish_fetch(fx);
  }
}

void session_machine::on_sync_ack(const protocol::frame& f, session_effects& fx) {
  v1::SyncAck ack;
  if (!ack.ParseFromString(f.payload)) {
    fail(protocol_errc::bad_payload, "SYNC_ACK payload does not parse", fx);
    return;
  }
  auto sync = ctx_.sync();
  for (const auto& cursor : ack.cursors()) {
    if (const auto* bucket = sync->bucket(cursor.bucket())) {
      fx.sync_acks.push_back({bucket->name, owner_for(bucket->kind), cursor.version()});
    }
  }
}

void session_machine::on_sync_page(const sync_page& page, session_time now, session_effects& fx) {
  if (phase_ != phase::ready) {
    return;  // closing or closed: the client resumes from its cursor elsewhere
  }
  send_sync_data(page, now, fx);
  if (page.records.empty()) {
    return;
  }
  auto sync = ctx_.sync();
  if (const auto* bucket = sync->bucket(page.bucket);
      bucket != nullptr && deletes_on_ack(bucket->kind)) {
    fx.pushed.push_back({page.bucket, owner_for(bucket->kind), page.records.front().version,
                         page.records.back().version});
  }
}

void session_machine::send_sync_data(const sync_page& page, session_time now, session_effects& fx) {
  v1::SyncData data;
  data.set_bucket(page.bucket);
  data.set_more(page.more);
  data.set_reset(page.reset);
  data.set_head_version(page.head);
  data.set_gone_through(page.gone_through);
  const client_facts facts{os_, std::string{app_version_of(client_version_)}, user_id_};
  for (const auto& r : page.records) {
    auto* op = data.add_ops();
    op->set_version(r.version);
    if (r.version <= page.dead_through || !op_deliverable(r, facts, now.wall_ms)) {
      op->set_skipped(true);  // the version, never the content: no gap, nothing leaks
      continue;
    }
    op->set_business(r.business);
    op->set_payload(r.payload);
    op->set_msg_id(r.msg_id);
    op->set_created_at_ms(r.created_at_ms);
    op->set_expires_at_ms(r.expires_at_ms);
    if (r.push) {
      op->mutable_push()->set_title(r.push->title);
      op->mutable_push()->set_body(r.push->body);
      op->mutable_push()->set_action(r.push->action);
    }
  }
  send(v1::FRAME_TYPE_SYNC_DATA, data, true, now, fx, v1::CHANNEL_SYNC);
}

void session_machine::accept_heartbeat(uint32_t declared_ms) {
  const auto& cfg = ctx_.config;
  heartbeat_ms_ = declared_ms == 0
                      ? cfg.heartbeat_min_ms
                      : std::clamp(declared_ms, cfg.heartbeat_min_ms, cfg.heartbeat_max_ms);
  idle_timeout_ms_ = static_cast<uint32_t>(heartbeat_ms_ * cfg.idle_margin);
}

void session_machine::on_tick(session_time now, session_effects& fx) {
  const auto& cfg = ctx_.config;
  switch (phase_) {
    case phase::closed:
      return;
    case phase::closing:
      if (now.mono_ms >= close_at_) {
        phase_ = phase::closed;
        fx.close = closing_reason_;
        fx.close_detail = "grace period over";
        return;
      }
      break;
    case phase::awaiting_hello:
    case phase::awaiting_auth:
      if (now.mono_ms >= handshake_deadline_) {
        close_with(v1::ERROR_CODE_IDLE_TIMEOUT,
                   "HELLO and AUTH not completed within " + std::to_string(cfg.handshake_timeout_ms)
                       + " ms",
                   gateway_errc::handshake_timeout, fx);
        return;
      }
      break;
    case phase::ready:
      if (now.mono_ms >= last_in_ + idle_timeout_ms_) {
        close_with(v1::ERROR_CODE_IDLE_TIMEOUT,
                   "no frame for " + std::to_string(idle_timeout_ms_) + " ms",
                   gateway_errc::idle_timeout, fx);
        return;
      }
      retry_due_fetches(now, fx);
      if (topics_.retry_deadline() <= now.mono_ms) {
        session_topic_output out(*this, now, fx);
        topics_.retry_due(now.mono_ms, out);
      }
      break;
  }
  if (!unacked_.empty() && now.mono_ms >= unacked_.front().second + cfg.ack_deadline_ms) {
    close_with(v1::ERROR_CODE_DEAD_CONNECTION,
               "seq " + std::to_string(unacked_.front().first) + " unacked for "
                   + std::to_string(cfg.ack_deadline_ms) + " ms",
               gateway_errc::dead_connection, fx);
  }
}

void session_machine::retry_due_fetches(session_time now, session_effects& fx) {
  auto due = std::stable_partition(fetch_retries_.begin(), fetch_retries_.end(),
                                   [&](const auto& r) { return r.first > now.mono_ms; });
  for (auto it = due; it != fetch_retries_.end(); ++it) {
    if (it->second.round == sync_round_) {
      fx.fetches.push_back(std::move(it->second));
    }
  }
  fetch_retries_.erase(due, fetch_retries_.end());
}

void session_machine::on_replaced(session_time now, session_effects& fx) {
  start_closing(v1::GO_AWAY_REASON_REPLACED, "a newer connection of this device took over", 0,
                gateway_errc::replaced, now, fx);
}

void session_machine::on_drain(session_time now, uint32_t reconnect_after_ms, session_effects& fx) {
  start_closing(v1::GO_AWAY_REASON_DRAIN, "node shutting down", reconnect_after_ms,
                gateway_errc::drained, now, fx);
}

void session_machine::start_closing(int reason, const std::string& text,
                                    uint32_t reconnect_after_ms, gateway_errc why, session_time now,
                                    session_effects& fx,
                                    const std::vector<std::string>& addresses) {
  if (phase_ == phase::closing || phase_ == phase::closed) {
    return;
  }
  if (phase_ == phase::awaiting_hello) {
    phase_ = phase::closed;  // nothing to say to a client that never spoke
    fx.close = why;
    return;
  }
  v1::GoAway goaway;
  goaway.set_reason(static_cast<v1::GoAwayReason>(reason));
  goaway.set_message(text);
  goaway.set_reconnect_after_ms(reconnect_after_ms);
  for (const auto& address : addresses) {
    goaway.add_addresses(address);
  }
  send(v1::FRAME_TYPE_GOAWAY, goaway, true, now, fx);
  phase_ = phase::closing;
  closing_reason_ = why;
  fx.goodbye = why;
  close_at_ = now.mono_ms + ctx_.config.soft_disconnect_grace_ms;
}

void session_machine::send(v1::FrameType type, const google::protobuf::MessageLite& msg, bool ack,
                           session_time now, session_effects& fx, uint8_t channel) {
  uint64_t seq = 0;
  if (ack) {
    seq = next_seq_++;
    unacked_.emplace_back(seq, now.mono_ms);
    if (unacked_.size() > max_unacked) {
      close_with(v1::ERROR_CODE_DEAD_CONNECTION, "too many unacked frames",
                 gateway_errc::dead_connection, fx);
      return;
    }
  }
  encoder_.encode(type, channel, seq, ack ? protocol::flag_ack_requested : 0, msg, fx.out);
  ++fx.frames_out;
}

bool session_machine::can_share_topic_frames(const topic_batch& batch, session_time now) const {
  if (uses_dictionary_) {
    return false;  // compressed with this app's dictionary: not the shared encoding
  }
  // An expired message is sent skipped, which depends on when it is sent.
  return std::none_of(batch.records.begin(), batch.records.end(), [&](const auto& r) {
    return r.expires_at_ms != 0 && r.expires_at_ms <= now.wall_ms + 60'000;
  });
}

bool session_machine::compress_shared(const std::string& payload, std::string& out) const {
  if (payload.empty() || payload.size() < ctx_.config.compression_threshold) {
    return false;
  }
  protocol::zstd_compress(payload, 1, nullptr, out);
  return out.size() < payload.size();
}

void session_machine::send_payload(v1::FrameType type, std::string_view payload, bool compressed,
                                   session_time now, session_effects& fx, uint8_t channel) {
  uint64_t seq = next_seq_++;
  unacked_.emplace_back(seq, now.mono_ms);
  if (unacked_.size() > max_unacked) {
    close_with(v1::ERROR_CODE_DEAD_CONNECTION, "too many unacked frames",
               gateway_errc::dead_connection, fx);
    return;
  }
  uint8_t flags = protocol::flag_ack_requested | (compressed ? protocol::flag_compressed : 0);
  protocol::append_frame(type, flags, channel, seq, payload, fx.out);
  ++fx.frames_out;
}

void session_machine::fail(protocol_errc code, std::string reason, session_effects& fx) {
  fx.protocol_error = code;
  close_with(
      protocol::to_wire(code), std::move(reason),
      code == protocol_errc::auth_failed ? gateway_errc::auth_failed : gateway_errc::protocol_error,
      fx);
}

void session_machine::close_with(v1::ErrorCode code, std::string reason, gateway_errc why,
                                 session_effects& fx) {
  v1::Error error;
  error.set_code(code);
  error.set_reason(reason);
  encoder_.encode(v1::FRAME_TYPE_ERROR, v1::CHANNEL_CONTROL, 0, 0, error, fx.out);
  ++fx.frames_out;
  phase_ = phase::closed;
  fx.close = why;
  fx.close_detail = std::move(reason);
}

}  // namespace tidegate::actors
