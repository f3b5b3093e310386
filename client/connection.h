#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "client/backoff.h"
#include "client/dispatch_cache.h"
#include "client/endpoint.h"
#include "client/event_loop.h"
#include "client/heartbeat_policy.h"
#include "client/sync_receiver.h"
#include "client/sync_store.h"
#include "protocol/frame_decoder.h"
#include "protocol/frame_encoder.h"
#include "tidegate/v1/error.pb.h"
#include "tidegate/v1/topic.pb.h"

namespace google::protobuf {
class MessageLite;
}  // namespace google::protobuf

namespace tidegate::client {

/// Where a connection is in its life. `waiting` is the pause before a reconnect.
enum class connection_state : uint8_t { idle, connecting, handshaking, ready, waiting, closed };

/// Why the last session (or connect round) ended.
enum class close_reason : uint8_t {
  none,
  stopped,            ///< stop() was called.
  bad_address,        ///< No address in the config parses.
  connect_failed,     ///< Every address refused, failed or did not answer in time.
  handshake_timeout,  ///< No AUTH_OK within handshake_timeout.
  pong_timeout,       ///< No PONG within pong_timeout.
  peer_closed,        ///< The server closed without GOAWAY or ERROR.
  io_error,           ///< A socket call failed (reset, broken pipe...).
  protocol_error,     ///< The server's bytes did not decode.
  error_frame,        ///< The server sent ERROR; see close_info::error_code.
  goaway,             ///< The server sent GOAWAY.
};

const char* to_string(connection_state state);
const char* to_string(close_reason reason);

/// The end of a session: the reason, the ERROR frame's code, and a message for humans.
struct close_info {
  close_reason reason = close_reason::none;
  v1::ErrorCode error_code = v1::ERROR_CODE_UNSPECIFIED;
  std::string message;
};

/// SYNC in a connection (DESIGN §5): off by default, so a connection without it carries only
/// this struct and a null pointer.
struct sync_config {
  bool enabled = false;
  /// The sync key, already load()ed by the caller, who keeps it alive past the connection;
  /// null keeps the key in memory only. Saved before every SYNC_ACK and when a session ends.
  sync_store* store = nullptr;
  /// Ops of one bucket, contiguous versions, oldest first: each version once per process.
  /// The cursor moves after it returns; an app that crashes before the next save sees the
  /// ops again on restart.
  sync_receiver::ops_callback on_ops;
  /// The server reset a bucket: drop local state for it and reload from the app's backend.
  sync_receiver::reset_callback on_reset;
  /// A SYNC_ACK goes out at the end of a read once a bucket caught up or
  /// receiver.ack_every_ops ops were delivered, else at most this long after a delivery.
  std::chrono::milliseconds ack_delay{200};
  sync_receiver_config receiver;
  /// The answer to follow() (FOLLOW_RESULT).
  std::function<void(const v1::FollowResult&)> on_follow_result;
  /// A followed topic moved while the app is in the background (TOPIC_NOTICE): the messages
  /// come with the SYNC_REQ sent when it returns to the foreground.
  std::function<void(const std::string& topic, uint64_t head)> on_topic_notice;
};

struct connection_config {
  /// "host:port" entries, tried in order, up to max_racers at a time, after dispatch's.
  /// May be empty with `dispatch`.
  std::vector<std::string> addresses;
  /// Dispatch (HTTPDNS): each connect round tries its answer's addresses first. Shared by
  /// the connections of one app user; must outlive them.
  std::shared_ptr<dispatch_cache> dispatch;
  /// How long a round waits for dispatch's first answer before it tries the static list.
  std::chrono::milliseconds dispatch_wait{std::chrono::milliseconds{1500}};
  std::string device_id;
  std::string app_id;
  std::string client_version = "tidegate-cpp/0.1.0";
  std::string os = "linux";
  /// The login token from the app's backend (protocol/auth_token.h).
  std::string token;
  bool foreground = true;
  heartbeat_config heartbeat;
  backoff_config backoff;
  /// Reconnect after failures, GOAWAY and retryable ERRORs; false closes for good instead.
  bool reconnect = true;
  std::chrono::milliseconds race_stagger{250};
  uint32_t max_racers = 3;  ///< At most 3.
  std::chrono::milliseconds connect_timeout{std::chrono::seconds{10}};
  std::chrono::milliseconds handshake_timeout{std::chrono::seconds{10}};
  std::chrono::milliseconds pong_timeout{std::chrono::seconds{10}};
  /// An address whose server stopped answering (no PONG, or no AUTH_OK after the TCP
  /// connect) is tried last for this long. A frozen or hung host still completes TCP connects
  /// from its kernel's backlog, so it would win every race and hang every handshake.
  std::chrono::milliseconds demote_unresponsive{std::chrono::seconds{60}};
  std::chrono::milliseconds ack_delay{200};
  uint32_t ack_every = 16;
  uint64_t seed = 1;  ///< Seeds the backoff and GOAWAY jitter.
  /// Send AUTH in the same write as HELLO instead of after WELCOME: login in one round trip.
  bool pipeline_auth = true;
  /// Local IP literal to connect from ("127.0.0.2"); empty = the kernel's choice. Lets a load
  /// generator go past ~28k connections to one server address (the ephemeral port range).
  std::string source_address;
  sync_config sync;
};

struct connection_counters {
  uint64_t frames_in = 0;
  uint64_t frames_out = 0;
  uint64_t bytes_in = 0;
  uint64_t bytes_out = 0;
  uint64_t connect_attempts = 0;  ///< TCP connects started (racers included).
  uint64_t reconnects = 0;        ///< Connect rounds after the first.
  uint64_t sessions = 0;          ///< Times the connection became ready.
  uint64_t pings_sent = 0;
  uint64_t pongs_received = 0;
  uint64_t sync_requests = 0;       ///< SYNC_REQs sent.
  uint64_t sync_acks = 0;           ///< SYNC_ACKs sent.
  uint64_t sync_save_failures = 0;  ///< Sync key saves that failed; see sync_store::last_error.
};

/// One MMTP client connection on an event_loop: races TCP connects over the configured
/// addresses, runs HELLO/AUTH, acks server frames, pings per heartbeat_policy, and reconnects
/// with backoff. Lives on the loop's thread; `loop` must outlive it. Callbacks run on that
/// thread and may call any method (stop() included) but must not destroy the connection.
/// Small on purpose (no zstd context, no preallocated buffers): a benchmark holds ~15k.
class connection {
 public:
  using state_callback = std::function<void(connection_state, const close_info&)>;
  using frame_callback = std::function<void(const protocol::frame&)>;

  connection(event_loop& loop, connection_config config);
  /// Closes the socket and cancels every timer; runs no callback.
  ~connection();
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  /// Called on every state change; close_info is set for `waiting` and `closed`.
  void on_state(state_callback callback) { on_state_ = std::move(callback); }
  /// Called with every frame received, before the connection acts on it.
  void on_frame(frame_callback callback) { on_frame_ = std::move(callback); }

  /// Starts connecting. Only from `idle` or `closed`.
  void start();
  /// Closes now and does not reconnect; state becomes `closed` (reason `stopped`).
  void stop();
  /// Foreground pings now at the foreground interval and cuts a reconnect wait short;
  /// background tells the server the longer interval with a ping now.
  void set_foreground(bool foreground);
  /// Sends a PING now if ready and none is outstanding; false otherwise.
  bool ping_now();
  /// Sends a SYNC_REQ (reason EXPLICIT) with the sync key now; false if sync is off or the
  /// connection is not ready. Going to the foreground sends one too (reason FOREGROUND).
  bool request_sync();
  /// Sends FOLLOW (or UNFOLLOW) of `topic` for the logged-in user; the answer goes to
  /// sync.on_follow_result. False if the connection is not ready.
  bool follow(const std::string& topic, bool follow = true);

  connection_state state() const { return state_; }
  const close_info& last_close() const { return last_close_; }
  const connection_counters& counters() const { return counters_; }
  const heartbeat_policy& heartbeat() const { return heartbeat_; }
  /// The address of the current (or last) session, "" before one connected.
  const std::string& connected_address() const { return connected_address_; }
  const std::string& user_id() const { return user_id_; }
  const std::string& session_id() const { return session_id_; }
  /// The round trip of the last PONG.
  std::chrono::milliseconds last_rtt() const { return last_rtt_; }
  /// The SYNC state (cursors, counters), or null when sync is off.
  const sync_receiver* sync() const;

 private:
  struct racer {
    int fd = -1;
    size_t index = 0;
  };

  void begin_round();
  bool start_next_attempt();
  void on_racer_event(size_t slot, uint32_t events);
  void arm_stagger();
  void close_racer(size_t slot);
  void close_racers();
  void round_failed(std::string message);
  /// Fills round_ (GOAWAY's addresses, dispatch's, the static list; each once); false while
  /// dispatch's first answer is still worth waiting for.
  bool gather_round_addresses();
  size_t address_count() const { return round_.size(); }
  const endpoint& address_at(size_t i) const;

  void on_session_event(uint32_t events);
  bool read_available();
  void handle_frame(protocol::frame& frame);
  void on_welcome(const protocol::frame& frame);
  void on_auth_ok(const protocol::frame& frame);
  void on_pong(const protocol::frame& frame);
  void on_goaway(const protocol::frame& frame);
  void on_error_frame(const protocol::frame& frame);
  void on_follow_result(const protocol::frame& frame);
  void on_topic_notice(const protocol::frame& frame);
  /// Encodes a frame into the output buffer; flush() writes it.
  void enqueue(v1::FrameType type, const google::protobuf::MessageLite& message,
               uint8_t channel = v1::CHANNEL_CONTROL);
  void send(v1::FrameType type, const google::protobuf::MessageLite& message,
            uint8_t channel = v1::CHANNEL_CONTROL);
  void flush();
  void note_ack(const protocol::frame& frame);
  void ack_now();
  void send_ping();
  void schedule_ping();
  void apply_accepted_interval(uint32_t accepted_ms);

  void send_sync_request(v1::SyncReason reason);
  void on_sync_data(const protocol::frame& frame);
  /// Saves the cursors if they moved, then sends the SYNC_ACK.
  void sync_ack_now();
  void after_read_sync();
  void save_sync_key();

  /// Ends the session or round; reconnects after `delay` (or backoff) unless told not to.
  void finish(close_info info, bool retry, std::chrono::milliseconds delay = {},
              bool use_delay = false);
  void close_socket();
  void cancel(event_loop::timer_id& id);
  /// Sets the state and runs the callback; false if the callback stopped the connection.
  bool set_state(connection_state state);

  event_loop& loop_;
  connection_config config_;
  std::vector<endpoint> endpoints_;
  std::vector<endpoint> preferred_;  // from GOAWAY; tried first in the next round only
  std::vector<endpoint> round_;      // this round's addresses, in the order they are tried
  // Addresses that stopped answering, tried last until their time (demote_unresponsive).
  std::vector<std::pair<endpoint, event_loop::clock::time_point>> demoted_;
  endpoint session_endpoint_;  // of the session or handshake in progress
  std::chrono::milliseconds dispatch_waited_{0};
  heartbeat_policy heartbeat_;
  backoff backoff_;
  state_callback on_state_;
  frame_callback on_frame_;

  connection_state state_ = connection_state::idle;
  close_info last_close_;
  connection_counters counters_;
  uint64_t epoch_ = 0;  // bumped whenever a session, round or the connection ends

  std::array<racer, 3> racers_{};
  size_t next_address_ = 0;
  std::string round_errors_;
  event_loop::timer_id stagger_timer_ = 0;
  event_loop::timer_id connect_timer_ = 0;
  event_loop::timer_id reconnect_timer_ = 0;

  int fd_ = -1;
  std::string connected_address_;
  protocol::frame_decoder decoder_;
  protocol::frame_encoder encoder_;
  std::string out_;
  size_t out_pos_ = 0;
  bool want_write_ = false;
  uint64_t out_seq_ = 0;
  uint64_t received_seq_ = 0;  // highest server seq received (TCP delivers in order)
  uint64_t acked_seq_ = 0;
  uint64_t follow_requests_ = 0;  // FollowRequest ids sent
  uint32_t unacked_ = 0;
  bool welcomed_ = false;
  bool ping_outstanding_ = false;
  uint32_t sent_interval_ms_ = 0;
  event_loop::clock::time_point ready_since_{};
  event_loop::timer_id handshake_timer_ = 0;
  event_loop::timer_id ping_timer_ = 0;
  event_loop::timer_id pong_timer_ = 0;
  event_loop::timer_id ack_timer_ = 0;
  event_loop::timer_id fail_timer_ = 0;
  std::string user_id_;
  std::string session_id_;
  std::chrono::milliseconds last_rtt_{0};
  struct sync_state;
  std::unique_ptr<sync_state> sync_;  // null unless config.sync.enabled
};

}  // namespace tidegate::client
