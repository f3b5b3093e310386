#include "client/connection.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "tidegate/v1/control.pb.h"
#include "tidegate/v1/handshake.pb.h"
#include "tidegate/v1/sync.pb.h"

namespace tidegate::client {

// Only for connections with sync on: the receiver, the key, and the SYNC_ACK timer.
struct connection::sync_state {
  explicit sync_state(sync_config& config)
      : store(config.store != nullptr ? config.store : &own_store),
        receiver(store->cursors(), std::move(config.on_ops), std::move(config.on_reset),
                 config.receiver) {}

  sync_store own_store;  // when the config names none: in memory
  sync_store* store;
  sync_receiver receiver;
  event_loop::timer_id ack_timer = 0;
  bool unsaved = false;  // cursors moved since the last save
};

namespace {

using std::chrono::milliseconds;

constexpr size_t read_chunk = 16 * 1024;
constexpr size_t max_read_per_event = 4 * read_chunk;  // fairness among 15k connections

uint64_t wall_ms() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
}

v1::AppState app_state(bool foreground) {
  return foreground ? v1::APP_STATE_FOREGROUND : v1::APP_STATE_BACKGROUND;
}

// Codes a reconnect cannot fix: the same HELLO or token would be refused again.
bool permanent(v1::ErrorCode code) {
  return code == v1::ERROR_CODE_AUTH_FAILED || code == v1::ERROR_CODE_BAD_HELLO;
}

}  // namespace

const char* to_string(connection_state state) {
  switch (state) {
    case connection_state::idle:
      return "idle";
    case connection_state::connecting:
      return "connecting";
    case connection_state::handshaking:
      return "handshaking";
    case connection_state::ready:
      return "ready";
    case connection_state::waiting:
      return "waiting";
    case connection_state::closed:
      return "closed";
  }
  return "unknown";
}

const char* to_string(close_reason reason) {
  switch (reason) {
    case close_reason::none:
      return "none";
    case close_reason::stopped:
      return "stopped";
    case close_reason::bad_address:
      return "bad_address";
    case close_reason::connect_failed:
      return "connect_failed";
    case close_reason::handshake_timeout:
      return "handshake_timeout";
    case close_reason::pong_timeout:
      return "pong_timeout";
    case close_reason::peer_closed:
      return "peer_closed";
    case close_reason::io_error:
      return "io_error";
    case close_reason::protocol_error:
      return "protocol_error";
    case close_reason::error_frame:
      return "error_frame";
    case close_reason::goaway:
      return "goaway";
  }
  return "unknown";
}

connection::connection(event_loop& loop, connection_config config)
    : loop_(loop),
      config_(std::move(config)),
      heartbeat_(config_.heartbeat),
      backoff_(config_.backoff, config_.seed) {
  config_.max_racers = std::clamp<uint32_t>(config_.max_racers, 1, racers_.size());
  config_.ack_every = std::max<uint32_t>(config_.ack_every, 1);
  heartbeat_.set_foreground(config_.foreground);
  if (config_.sync.enabled) {
    sync_ = std::make_unique<sync_state>(config_.sync);
  }
}

connection::~connection() {
  close_racers();
  close_socket();
  if (sync_) {
    save_sync_key();
  }
  for (auto* id : {&stagger_timer_, &connect_timer_, &reconnect_timer_}) {
    cancel(*id);
  }
}

void connection::cancel(event_loop::timer_id& id) {
  if (id != 0) {
    loop_.cancel_timer(id);
    id = 0;
  }
}

bool connection::set_state(connection_state state) {
  state_ = state;
  if (!on_state_) {
    return true;
  }
  auto epoch = epoch_;
  on_state_(state, last_close_);
  return epoch == epoch_;
}

// ---- connect rounds ---------------------------------------------------------------------

void connection::start() {
  if (state_ != connection_state::idle && state_ != connection_state::closed) {
    return;
  }
  endpoints_.clear();
  std::string errors;
  for (const auto& text : config_.addresses) {
    endpoint ep;
    std::string error;
    if (parse_endpoint(text, ep, error)) {
      endpoints_.push_back(std::move(ep));
    } else {
      errors += (errors.empty() ? "" : "; ") + error;
    }
  }
  if ((endpoints_.empty() && !config_.dispatch) || !errors.empty()) {
    last_close_ = {close_reason::bad_address, v1::ERROR_CODE_UNSPECIFIED,
                   errors.empty() ? "no address to connect to" : errors};
    ++epoch_;
    set_state(connection_state::closed);
    return;
  }
  last_close_ = {};
  backoff_.reset();
  dispatch_waited_ = {};
  begin_round();
}

bool connection::gather_round_addresses() {
  round_.clear();
  auto add = [this](const endpoint& ep) {
    if (std::find(round_.begin(), round_.end(), ep) == round_.end()) {
      round_.push_back(ep);
    }
  };
  for (const auto& ep : preferred_) {
    add(ep);
  }
  if (config_.dispatch) {
    auto dispatched = config_.dispatch->addresses();
    if (dispatched.empty() && config_.dispatch->refreshing()
        && dispatch_waited_ < config_.dispatch_wait) {
      return false;  // a first answer may be moments away: worth more than the static list
    }
    for (const auto& text : dispatched) {
      endpoint ep;
      std::string ignored;
      if (parse_endpoint(text, ep, ignored)) {
        add(ep);
      }
    }
  }
  for (const auto& ep : endpoints_) {
    add(ep);
  }
  auto now = loop_.now();
  demoted_.erase(std::remove_if(demoted_.begin(), demoted_.end(),
                                [now](const auto& d) { return d.second <= now; }),
                 demoted_.end());
  std::stable_partition(round_.begin(), round_.end(), [this](const endpoint& ep) {
    return std::none_of(demoted_.begin(), demoted_.end(),
                        [&](const auto& d) { return d.first == ep; });
  });
  return true;
}

void connection::begin_round() {
  ++epoch_;
  if (!gather_round_addresses()) {
    if (state_ != connection_state::connecting && !set_state(connection_state::connecting)) {
      return;
    }
    constexpr std::chrono::milliseconds poll{20};
    dispatch_waited_ += poll;
    reconnect_timer_ = loop_.add_timer(poll, [this] {
      reconnect_timer_ = 0;
      begin_round();
    });
    return;
  }
  dispatch_waited_ = {};
  next_address_ = 0;
  round_errors_.clear();
  connect_timer_ = loop_.add_timer(config_.connect_timeout, [this] {
    connect_timer_ = 0;
    round_failed("no address answered within " + std::to_string(config_.connect_timeout.count())
                 + " ms");
  });
  // Already connecting when this round waited for dispatch's answer: reported once.
  if (state_ != connection_state::connecting && !set_state(connection_state::connecting)) {
    return;
  }
  if (!start_next_attempt()) {
    round_failed("");
  }
}

const endpoint& connection::address_at(size_t i) const {
  return round_[i];
}

bool connection::start_next_attempt() {
  auto free_slot = std::find_if(racers_.begin(), racers_.begin() + config_.max_racers,
                                [](const racer& r) { return r.fd < 0; });
  if (free_slot == racers_.begin() + config_.max_racers) {
    return true;  // full; a racer is still running
  }
  while (next_address_ < address_count()) {
    size_t index = next_address_++;
    const auto& ep = address_at(index);
    socket_address address;
    std::string error;
    if (!resolve_endpoint(ep, address, error)) {
      round_errors_ += (round_errors_.empty() ? "" : "; ") + error;
      continue;
    }
    int err = 0;
    socket_address source;
    bool bound = !config_.source_address.empty();
    if (bound
        && (!resolve_endpoint(endpoint{config_.source_address, 0}, source, error)
            || source.storage.ss_family != address.storage.ss_family)) {
      round_errors_ += (round_errors_.empty() ? "" : "; ") + std::string{"source address "}
                       + config_.source_address + " cannot reach " + ep.to_string();
      continue;
    }
    int fd = start_connect(address, err, bound ? &source : nullptr);
    ++counters_.connect_attempts;
    if (fd < 0) {
      round_errors_ +=
          (round_errors_.empty() ? "" : "; ") + ep.to_string() + ": " + std::strerror(err);
      continue;
    }
    auto slot = static_cast<size_t>(free_slot - racers_.begin());
    if (!loop_.add_fd(fd, EPOLLOUT,
                      [this, slot](uint32_t events) { on_racer_event(slot, events); })) {
      round_errors_ +=
          (round_errors_.empty() ? "" : "; ") + ep.to_string() + ": " + std::strerror(errno);
      ::close(fd);
      continue;
    }
    *free_slot = {fd, index};
    arm_stagger();
    return true;
  }
  return std::any_of(racers_.begin(), racers_.end(), [](const racer& r) { return r.fd >= 0; });
}

void connection::arm_stagger() {
  cancel(stagger_timer_);
  if (next_address_ >= address_count()) {
    return;
  }
  stagger_timer_ = loop_.add_timer(config_.race_stagger, [this] {
    stagger_timer_ = 0;
    start_next_attempt();
  });
}

void connection::on_racer_event(size_t slot, uint32_t events) {
  auto& r = racers_[slot];
  int err = socket_error(r.fd);
  if (err == 0 && (events & (EPOLLERR | EPOLLHUP)) != 0) {
    err = ECONNREFUSED;
  }
  if (err != 0) {
    round_errors_ += (round_errors_.empty() ? "" : "; ") + address_at(r.index).to_string() + ": "
                     + std::strerror(err);
    close_racer(slot);
    // Happy-eyeballs style: a failure starts the next address now, not after the stagger.
    if (!start_next_attempt()) {
      round_failed("");
    }
    return;
  }
  // The winner: the losers are closed, the socket becomes the session.
  fd_ = r.fd;
  session_endpoint_ = address_at(r.index);
  connected_address_ = session_endpoint_.to_string();
  loop_.remove_fd(fd_);
  r.fd = -1;
  close_racers();
  cancel(stagger_timer_);
  cancel(connect_timer_);
  preferred_.clear();
  if (!loop_.add_fd(fd_, EPOLLIN, [this](uint32_t ev) { on_session_event(ev); })) {
    ::close(fd_);
    fd_ = -1;
    round_failed(std::string{"epoll: "} + std::strerror(errno));
    return;
  }
  decoder_ = protocol::frame_decoder{};
  out_.clear();
  out_pos_ = 0;
  want_write_ = false;
  out_seq_ = 0;
  received_seq_ = acked_seq_ = 0;
  unacked_ = 0;
  welcomed_ = false;
  ping_outstanding_ = false;
  handshake_timer_ = loop_.add_timer(config_.handshake_timeout, [this] {
    handshake_timer_ = 0;
    finish({close_reason::handshake_timeout, v1::ERROR_CODE_UNSPECIFIED,
            "no AUTH_OK from " + connected_address_ + " within "
                + std::to_string(config_.handshake_timeout.count()) + " ms"},
           true);
  });
  auto epoch = epoch_;
  if (!set_state(connection_state::handshaking) || epoch != epoch_) {
    return;
  }
  v1::Hello hello;
  hello.set_protocol_version(protocol::mmtp_version);
  hello.set_device_id(config_.device_id);
  hello.set_app_id(config_.app_id);
  hello.set_client_version(config_.client_version);
  hello.set_os(config_.os);
  sent_interval_ms_ = static_cast<uint32_t>(heartbeat_.interval().count());
  hello.set_heartbeat_interval_ms(sent_interval_ms_);
  hello.set_app_state(app_state(heartbeat_.foreground()));
  if (!config_.pipeline_auth) {
    send(v1::FRAME_TYPE_HELLO, hello);
    return;
  }
  // One write, one round trip: the server handles AUTH right after HELLO, and answers
  // WELCOME and AUTH_OK together (or ERROR, which ends the session either way).
  enqueue(v1::FRAME_TYPE_HELLO, hello);
  v1::Auth auth;
  auth.set_token(config_.token);
  enqueue(v1::FRAME_TYPE_AUTH, auth);
  flush();
}

void connection::close_racer(size_t slot) {
  auto& r = racers_[slot];
  if (r.fd >= 0) {
    loop_.remove_fd(r.fd);
    ::close(r.fd);
    r.fd = -1;
  }
}

void connection::close_racers() {
  for (size_t i = 0; i < racers_.size(); ++i) {
    close_racer(i);
  }
}

void connection::round_failed(std::string message) {
  if (config_.dispatch) {
    config_.dispatch->invalidate();  // nothing it named answered: ask again
  }
  if (message.empty()) {
    message = round_errors_.empty() ? "no address could be tried" : round_errors_;
  } else if (!round_errors_.empty()) {
    message += " (" + round_errors_ + ")";
  }
  finish(
      {close_reason::connect_failed, v1::ERROR_CODE_UNSPECIFIED, "could not connect: " + message},
      true);
}

// ---- the session ------------------------------------------------------------------------

void connection::on_session_event(uint32_t events) {
  if ((events & EPOLLOUT) != 0) {
    flush();
  }
  if ((events & (EPOLLIN | EPOLLERR | EPOLLHUP)) != 0) {
    read_available();
  }
}

bool connection::read_available() {
  auto epoch = epoch_;
  char buf[read_chunk];
  size_t total = 0;
  while (total < max_read_per_event) {
    ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n > 0) {
      total += static_cast<size_t>(n);
      counters_.bytes_in += static_cast<uint64_t>(n);
      decoder_.append(buf, static_cast<size_t>(n));
      protocol::frame frame;
      while (true) {
        auto status = decoder_.next(frame);
        if (status == protocol::frame_decoder::status::need_more) {
          break;
        }
        if (status == protocol::frame_decoder::status::error) {
          const auto& error = decoder_.error();
          finish({close_reason::protocol_error, protocol::to_wire(error.code),
                  "bad frame from " + connected_address_ + ": " + error.reason},
                 true);
          return false;
        }
        handle_frame(frame);
        if (epoch != epoch_) {
          return false;  // the frame ended the session
        }
        if (unacked_ >= config_.ack_every) {
          ack_now();
        }
      }
      continue;
    }
    if (n == 0) {
      finish({close_reason::peer_closed, v1::ERROR_CODE_UNSPECIFIED,
              connected_address_ + " closed the connection"},
             true);
      return false;
    }
    if (errno == EINTR) {
      continue;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      break;
    }
    finish({close_reason::io_error, v1::ERROR_CODE_UNSPECIFIED,
            "read from " + connected_address_ + ": " + std::strerror(errno)},
           true);
    return false;
  }
  if (sync_) {
    after_read_sync();
  }
  // Cumulative acks, batched: every ack_every frames (above), else after ack_delay.
  if (unacked_ > 0 && ack_timer_ == 0) {
    ack_timer_ = loop_.add_timer(config_.ack_delay, [this] {
      ack_timer_ = 0;
      ack_now();
    });
  }
  return true;
}

void connection::handle_frame(protocol::frame& frame) {
  ++counters_.frames_in;
  note_ack(frame);
  if (on_frame_) {
    auto epoch = epoch_;
    on_frame_(frame);
    if (epoch != epoch_) {
      return;
    }
  }
  switch (frame.type) {
    case v1::FRAME_TYPE_WELCOME:
      on_welcome(frame);
      break;
    case v1::FRAME_TYPE_AUTH_OK:
      on_auth_ok(frame);
      break;
    case v1::FRAME_TYPE_PONG:
      on_pong(frame);
      break;
    case v1::FRAME_TYPE_GOAWAY:
      on_goaway(frame);
      break;
    case v1::FRAME_TYPE_ERROR:
      on_error_frame(frame);
      break;
    case v1::FRAME_TYPE_SYNC_DATA:
      on_sync_data(frame);
      break;
    case v1::FRAME_TYPE_FOLLOW_RESULT:
      on_follow_result(frame);
      break;
    case v1::FRAME_TYPE_TOPIC_NOTICE:
      on_topic_notice(frame);
      break;
    default:
      break;  // ACK and capabilities this SDK does not use yet
  }
}

void connection::note_ack(const protocol::frame& frame) {
  if (frame.ack_requested() && frame.seq > received_seq_) {
    received_seq_ = frame.seq;
    ++unacked_;
  }
}

void connection::ack_now() {
  cancel(ack_timer_);
  if (fd_ < 0 || received_seq_ <= acked_seq_) {
    return;
  }
  v1::Ack ack;
  ack.set_seq(received_seq_);
  acked_seq_ = received_seq_;
  unacked_ = 0;
  send(v1::FRAME_TYPE_ACK, ack);
}

void connection::on_welcome(const protocol::frame& frame) {
  v1::Welcome welcome;
  if (welcomed_ || state_ != connection_state::handshaking
      || !welcome.ParseFromString(frame.payload)) {
    finish({close_reason::protocol_error, v1::ERROR_CODE_UNEXPECTED_FRAME,
            "unexpected or unparsable WELCOME from " + connected_address_},
           true);
    return;
  }
  welcomed_ = true;
  session_id_ = welcome.session_id();
  apply_accepted_interval(welcome.heartbeat_interval_ms());
  if (config_.pipeline_auth) {
    return;  // AUTH went with HELLO; the ack after AUTH_OK covers WELCOME too
  }
  ack_now();
  v1::Auth auth;
  auth.set_token(config_.token);
  send(v1::FRAME_TYPE_AUTH, auth);
}

void connection::on_auth_ok(const protocol::frame& frame) {
  v1::AuthOk ok;
  if (!welcomed_ || state_ != connection_state::handshaking || !ok.ParseFromString(frame.payload)) {
    finish({close_reason::protocol_error, v1::ERROR_CODE_UNEXPECTED_FRAME,
            "unexpected or unparsable AUTH_OK from " + connected_address_},
           true);
    return;
  }
  user_id_ = ok.user_id();
  ack_now();
  cancel(handshake_timer_);
  ready_since_ = loop_.now();
  ++counters_.sessions;
  // It answers again: no longer tried last.
  demoted_.erase(std::remove_if(demoted_.begin(), demoted_.end(),
                                [this](const auto& d) { return d.first == session_endpoint_; }),
                 demoted_.end());
  last_close_ = {};
  schedule_ping();
  if (sync_) {
    send_sync_request(counters_.sessions == 1 ? v1::SYNC_REASON_LOGIN : v1::SYNC_REASON_CONNECT);
  }
  set_state(connection_state::ready);
}

void connection::on_pong(const protocol::frame& frame) {
  v1::Pong pong;
  if (!pong.ParseFromString(frame.payload)) {
    finish({close_reason::protocol_error, v1::ERROR_CODE_BAD_PAYLOAD,
            "unparsable PONG from " + connected_address_},
           true);
    return;
  }
  if (!ping_outstanding_) {
    return;  // late pong of a ping we gave up on; harmless
  }
  ping_outstanding_ = false;
  cancel(pong_timer_);
  ++counters_.pongs_received;
  auto now = wall_ms();
  last_rtt_ = milliseconds{now > pong.client_time_ms() ? now - pong.client_time_ms() : 0};
  heartbeat_.on_success();
  apply_accepted_interval(pong.heartbeat_interval_ms());
  schedule_ping();
}

void connection::apply_accepted_interval(uint32_t accepted_ms) {
  if (accepted_ms != 0 && accepted_ms < sent_interval_ms_) {
    heartbeat_.cap(milliseconds{accepted_ms});  // pinging slower would hit the idle timeout
    sent_interval_ms_ = accepted_ms;
  }
}

void connection::on_goaway(const protocol::frame& frame) {
  v1::GoAway goaway;
  goaway.ParseFromString(frame.payload);  // a bad payload still means "go away"
  ack_now();
  flush();
  if (config_.dispatch) {
    config_.dispatch->invalidate();  // moved or redirected: the answer may be out of date
  }
  preferred_.clear();
  for (const auto& text : goaway.addresses()) {
    endpoint ep;
    std::string ignored;
    if (parse_endpoint(text, ep, ignored)) {
      preferred_.push_back(std::move(ep));
    }
  }
  auto after = milliseconds{goaway.reconnect_after_ms()};
  auto delay = after + backoff_.jitter(std::max(after / 4, milliseconds{250}));
  finish({close_reason::goaway, v1::ERROR_CODE_UNSPECIFIED,
          connected_address_ + " sent GOAWAY " + v1::GoAwayReason_Name(goaway.reason()) + ": "
              + goaway.message()},
         true, delay, true);
}

void connection::on_error_frame(const protocol::frame& frame) {
  v1::Error error;
  error.ParseFromString(frame.payload);
  finish({close_reason::error_frame, error.code(),
          connected_address_ + " sent ERROR " + std::to_string(error.code()) + " ("
              + v1::ErrorCode_Name(error.code()) + "): " + error.reason()},
         !permanent(error.code()));
}

// ---- heartbeats -------------------------------------------------------------------------

void connection::schedule_ping() {
  cancel(ping_timer_);
  ping_timer_ = loop_.add_timer(heartbeat_.interval(), [this] {
    ping_timer_ = 0;
    send_ping();
  });
}

bool connection::ping_now() {
  if (state_ != connection_state::ready || ping_outstanding_) {
    return false;
  }
  send_ping();
  return true;
}

void connection::send_ping() {
  cancel(ping_timer_);
  if (ping_outstanding_) {
    return;
  }
  v1::Ping ping;
  ping.set_client_time_ms(wall_ms());
  ping.set_app_state(app_state(heartbeat_.foreground()));
  auto interval = static_cast<uint32_t>(heartbeat_.interval().count());
  if (interval != sent_interval_ms_) {
    ping.set_heartbeat_interval_ms(interval);
    sent_interval_ms_ = interval;
  }
  ping_outstanding_ = true;
  ++counters_.pings_sent;
  pong_timer_ = loop_.add_timer(config_.pong_timeout, [this] {
    pong_timer_ = 0;
    heartbeat_.on_failure();
    finish({close_reason::pong_timeout, v1::ERROR_CODE_UNSPECIFIED,
            "no PONG from " + connected_address_ + " within "
                + std::to_string(config_.pong_timeout.count()) + " ms"},
           true);
  });
  send(v1::FRAME_TYPE_PING, ping);
}

void connection::set_foreground(bool foreground) {
  if (heartbeat_.foreground() == foreground) {
    return;
  }
  heartbeat_.set_foreground(foreground);
  if (state_ == connection_state::ready) {
    if (ping_outstanding_) {
      schedule_ping();  // the pong reschedules at the new interval
    } else {
      send_ping();  // tells the server the new state and interval now
    }
    if (foreground && sync_) {
      send_sync_request(v1::SYNC_REASON_FOREGROUND);
    }
  } else if (state_ == connection_state::waiting && foreground) {
    cancel(reconnect_timer_);
    backoff_.reset();
    ++counters_.reconnects;
    begin_round();
  }
}

// ---- SYNC -------------------------------------------------------------------------------

const sync_receiver* connection::sync() const {
  return sync_ ? &sync_->receiver : nullptr;
}

bool connection::request_sync() {
  if (!sync_ || state_ != connection_state::ready) {
    return false;
  }
  send_sync_request(v1::SYNC_REASON_EXPLICIT);
  return true;
}

void connection::send_sync_request(v1::SyncReason reason) {
  // The whole key, also for a gap in one bucket: SyncRequest syncs an unnamed bucket from 0.
  auto request = sync_->receiver.make_request(reason);
  ++counters_.sync_requests;
  send(v1::FRAME_TYPE_SYNC_REQ, request, v1::CHANNEL_SYNC);
}

bool connection::follow(const std::string& topic, bool follow) {
  if (state_ != connection_state::ready) {
    return false;
  }
  v1::FollowRequest req;
  req.set_request_id(++follow_requests_);
  req.set_topic(topic);
  send(follow ? v1::FRAME_TYPE_FOLLOW : v1::FRAME_TYPE_UNFOLLOW, req, v1::CHANNEL_SYNC);
  return true;
}

void connection::on_follow_result(const protocol::frame& frame) {
  v1::FollowResult result;
  if (!result.ParseFromString(frame.payload)) {
    finish({close_reason::protocol_error, v1::ERROR_CODE_BAD_PAYLOAD,
            "unparsable FOLLOW_RESULT from " + connected_address_},
           true);
    return;
  }
  if (config_.sync.on_follow_result) {
    config_.sync.on_follow_result(result);
  }
}

void connection::on_topic_notice(const protocol::frame& frame) {
  v1::TopicNotice notice;
  if (!notice.ParseFromString(frame.payload)) {
    finish({close_reason::protocol_error, v1::ERROR_CODE_BAD_PAYLOAD,
            "unparsable TOPIC_NOTICE from " + connected_address_},
           true);
    return;
  }
  if (config_.sync.on_topic_notice) {
    config_.sync.on_topic_notice(notice.topic(), notice.head_version());
  }
}

void connection::on_sync_data(const protocol::frame& frame) {
  if (!sync_) {
    return;  // not asked for; the transport ack covers it
  }
  v1::SyncData data;
  if (!data.ParseFromString(frame.payload)) {
    finish({close_reason::protocol_error, v1::ERROR_CODE_BAD_PAYLOAD,
            "unparsable SYNC_DATA from " + connected_address_},
           true);
    return;
  }
  auto epoch = epoch_;
  auto result = sync_->receiver.on_page(data);  // runs the app's callbacks
  if (result.delivered != 0 || result.skipped != 0 || result.reset) {
    sync_->unsaved = true;
  }
  if (epoch != epoch_) {
    save_sync_key();  // a callback stopped us before the cursor moved: finish() saved too early
    return;
  }
  if (result.resync) {
    send_sync_request(v1::SYNC_REASON_EXPLICIT);
  }
}

void connection::after_read_sync() {
  auto& receiver = sync_->receiver;
  if (receiver.ack_due()) {
    sync_ack_now();
  } else if (receiver.ack_pending() && sync_->ack_timer == 0 && fd_ >= 0) {
    sync_->ack_timer = loop_.add_timer(config_.sync.ack_delay, [this] {
      sync_->ack_timer = 0;
      sync_ack_now();
    });
  }
}

void connection::sync_ack_now() {
  cancel(sync_->ack_timer);
  if (fd_ < 0 || state_ != connection_state::ready || !sync_->receiver.ack_pending()) {
    return;
  }
  // Durable first: once acked, the server may delete `once` ops we would otherwise re-request.
  save_sync_key();
  auto ack = sync_->receiver.take_ack();
  if (ack.cursors_size() == 0) {
    return;  // only topic cursors moved: saved, never acked
  }
  ++counters_.sync_acks;
  send(v1::FRAME_TYPE_SYNC_ACK, ack, v1::CHANNEL_SYNC);
}

void connection::save_sync_key() {
  if (!sync_->unsaved) {
    return;
  }
  sync_->unsaved = false;
  if (!sync_->store->save(sync_->receiver.cursors())) {
    ++counters_.sync_save_failures;  // the ack still goes: the app has the ops
  }
}

// ---- output -----------------------------------------------------------------------------

void connection::enqueue(v1::FrameType type, const google::protobuf::MessageLite& message,
                         uint8_t channel) {
  if (fd_ < 0) {
    return;
  }
  auto before = out_.size();
  encoder_.encode(type, channel, out_seq_++, 0, message, out_);
  counters_.bytes_out += out_.size() - before;
  ++counters_.frames_out;
}

void connection::send(v1::FrameType type, const google::protobuf::MessageLite& message,
                      uint8_t channel) {
  enqueue(type, message, channel);
  flush();
}

void connection::flush() {
  if (fd_ < 0 || fail_timer_ != 0) {
    return;
  }
  while (out_pos_ < out_.size()) {
    ssize_t n = ::send(fd_, out_.data() + out_pos_, out_.size() - out_pos_, MSG_NOSIGNAL);
    if (n >= 0) {
      out_pos_ += static_cast<size_t>(n);
      continue;
    }
    if (errno == EINTR) {
      continue;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      if (!want_write_) {
        want_write_ = true;
        loop_.modify_fd(fd_, EPOLLIN | EPOLLOUT);
      }
      return;
    }
    // Not here: send() runs inside frame handlers, which must not see the session vanish.
    int err = errno;
    fail_timer_ = loop_.add_timer(milliseconds{0}, [this, err] {
      fail_timer_ = 0;
      finish({close_reason::io_error, v1::ERROR_CODE_UNSPECIFIED,
              "write to " + connected_address_ + ": " + std::strerror(err)},
             true);
    });
    return;
  }
  out_pos_ = 0;
  if (out_.capacity() > 4096) {
    std::string{}.swap(out_);  // do not keep a large buffer per idle connection
  } else {
    out_.clear();
  }
  if (want_write_) {
    want_write_ = false;
    loop_.modify_fd(fd_, EPOLLIN);
  }
}

// ---- endings ----------------------------------------------------------------------------

void connection::close_socket() {
  for (auto* id : {&handshake_timer_, &ping_timer_, &pong_timer_, &ack_timer_, &fail_timer_}) {
    cancel(*id);
  }
  if (sync_) {
    cancel(sync_->ack_timer);
  }
  if (fd_ >= 0) {
    loop_.remove_fd(fd_);
    ::close(fd_);
    fd_ = -1;
  }
  decoder_ = protocol::frame_decoder{};
  std::string{}.swap(out_);
  out_pos_ = 0;
  want_write_ = false;
  ping_outstanding_ = false;
}

void connection::finish(close_info info, bool retry, milliseconds delay, bool use_delay) {
  ++epoch_;
  bool was_ready = state_ == connection_state::ready;
  if (was_ready) {
    backoff_.on_session_end(std::chrono::duration_cast<milliseconds>(loop_.now() - ready_since_));
    if (info.reason == close_reason::peer_closed || info.reason == close_reason::io_error) {
      heartbeat_.on_failure();  // maybe a NAT dropped us between pings
    }
  }
  if (info.reason == close_reason::pong_timeout || info.reason == close_reason::handshake_timeout) {
    demoted_.emplace_back(session_endpoint_, loop_.now() + config_.demote_unresponsive);
  }
  close_racers();
  close_socket();
  for (auto* id : {&stagger_timer_, &connect_timer_, &reconnect_timer_}) {
    cancel(*id);
  }
  if (sync_) {
    sync_->receiver.on_session_end();
    save_sync_key();  // unacked cursors: the next SYNC_REQ carries them
  }
  last_close_ = std::move(info);
  if (!retry || !config_.reconnect || last_close_.reason == close_reason::stopped) {
    set_state(connection_state::closed);
    return;
  }
  auto wait = use_delay ? delay : backoff_.next(heartbeat_.foreground());
  reconnect_timer_ = loop_.add_timer(wait, [this] {
    reconnect_timer_ = 0;
    ++counters_.reconnects;
    begin_round();
  });
  set_state(connection_state::waiting);
}

void connection::stop() {
  if (state_ == connection_state::closed || state_ == connection_state::idle) {
    return;
  }
  finish({close_reason::stopped, v1::ERROR_CODE_UNSPECIFIED, "stopped"}, false);
}

}  // namespace tidegate::client
