#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "actors/gateway/gateway_context.h"
#include "actors/gateway/gateway_errc.h"
#include "actors/gateway/topic_streams.h"
#include "actors/sync/sync_messages.h"
#include "protocol/frame_decoder.h"
#include "protocol/frame_encoder.h"
#include "tidegate/v1/error.pb.h"

namespace tidegate::actors {

/// The two clocks a session needs: monotonic for deadlines, wall for tokens and WELCOME.
struct session_time {
  uint64_t mono_ms = 0;
  uint64_t wall_ms = 0;
};

/// A read the session actor must make for a SYNC_REQ: the page of `owner` in `bucket` after
/// `after`.
struct sync_fetch {
  std::string bucket;
  std::string owner;
  uint64_t after = 0;
  uint32_t round = 0;  ///< Which SYNC_REQ asked (a newer one supersedes its follow-ups).
  bool first = false;  ///< The read a SYNC_REQ starts with: `after` is the client's cursor.
  /// A re-read after a failed one, outside the priority levels (which went on without it).
  bool retry = false;
  uint32_t failures = 0;  ///< Failed reads in a row before this one (sets the backoff).
};

/// Versions [first, last] of (bucket, owner) were pushed to this device (receipts).
struct sync_pushed {
  std::string bucket;
  std::string owner;
  uint64_t first = 0;
  uint64_t last = 0;
};

/// A FOLLOW or UNFOLLOW of the client, for the topic directory; its answer goes to
/// session_machine::on_follow_result.
struct follow_request {
  uint64_t request_id = 0;
  std::string topic;
  bool follow = true;
};

/// What the session actor must do after the machine handled one input.
struct session_effects {
  std::string out;  ///< Bytes for the connection, in order.
  uint32_t frames_in = 0;
  uint32_t frames_out = 0;
  std::optional<gateway_errc> close;  ///< After writing `out`, close with this reason.
  /// A GOAWAY in `out` announces the end for this reason (the client may close first).
  std::optional<gateway_errc> goodbye;
  std::optional<protocol::protocol_errc> protocol_error;  ///< Sent to the client (metrics).
  std::string close_detail;                               ///< Why, for the log line.
  bool hello_accepted = false;             ///< Register `device_id()` with the session registry.
  bool authenticated = false;              ///< HELLO+AUTH just completed.
  std::vector<sync_fetch> fetches;         ///< Pages to read, then pass to on_fetched (or failed).
  std::vector<sync_fetch> sync_acks;       ///< (bucket, owner, version) the client confirmed.
  std::vector<sync_pushed> pushed;         ///< Pushes of `once` ops sent (for their receipts).
  std::vector<topic_fetch> topic_fetches;  ///< Topic pages to read (on_topic_fetched).
  std::vector<follow_request> follow_requests;  ///< For the topic directory.
  std::optional<bool> active;  ///< The client came to the foreground (true) or left it.
};

/// The MMTP server side of one connection (DESIGN §4): handshake, auth, heartbeats and idle
/// timeout, cumulative acks and dead-connection detection, soft disconnect and drain. Plain
/// C++: time is an argument and output is a value, so tests drive it without sockets or CAF.
/// Not thread-safe; one session actor owns it. `ctx` must outlive it.
class session_machine {
 public:
  enum class phase : uint8_t { awaiting_hello, awaiting_auth, ready, closing, closed };

  session_machine(const gateway_context& ctx, uint64_t session_number, session_time start);

  /// Bytes from the client.
  void on_bytes(const char* data, size_t size, session_time now, session_effects& fx);

  /// Checks deadlines (handshake, idle, ack, end of a grace period).
  void on_tick(session_time now, session_effects& fx);

  /// A newer connection of this device arrived: GOAWAY{REPLACED}, close after the grace period.
  void on_replaced(session_time now, session_effects& fx);

  /// The node drains: GOAWAY{DRAIN}, close after the grace period.
  void on_drain(session_time now, uint32_t reconnect_after_ms, session_effects& fx);

  /// An online push of one bucket for this client: a SYNC_DATA frame. An op that is not for
  /// this client (filters, valid window, expiry at `now.wall_ms`) goes as a skipped op, just
  /// its version, so the client's stream stays contiguous.
  void on_sync_page(const sync_page& page, session_time now, session_effects& fx);

  /// The page `asked` read: a SYNC_DATA frame like on_sync_page, then the fetch of the next
  /// page when `page.more`. A SYNC_REQ reads its buckets by priority, highest first: the
  /// buckets of one priority at once, the next priority once all of those are caught up (or
  /// failed), so high-priority data reaches the client first.
  void on_fetched(const sync_fetch& asked, const sync_page& page, session_time now,
                  session_effects& fx);

  /// The read of `asked` failed (its shard is failing over, or its replica could not vouch
  /// for the head): the lower priorities go on, and the same read is made again after a
  /// backoff (read_retry.h) until it succeeds or a newer SYNC_REQ supersedes it. The client
  /// is not told: its cursor did not move, and an op whose online push it missed meanwhile
  /// reaches it through the retry, not only at its next SYNC_REQ.
  void on_fetch_failed(const sync_fetch& asked, session_time now, session_effects& fx);

  /// The relay's answer at login: the user's topics (DESIGN §6).
  void on_follows(const followed_topics& topics, session_time now, session_effects& fx);
  /// The user followed or unfollowed a topic while online (from the relay).
  void on_followed(const std::string& topic, uint64_t since, session_time now, session_effects& fx);
  void on_unfollowed(const std::string& topic);
  /// A live batch of a followed topic (from the relay; the session is active).
  void on_topic_batch(const topic_batch& batch, session_time now, session_effects& fx);
  /// A followed topic moved while the session is passive: TOPIC_NOTICE, if the client lacks it.
  void on_topic_notice(const std::string& topic, uint64_t head, session_time now,
                       session_effects& fx);
  /// A followed topic's relay registered with a new primary, at `head`: an active session reads
  /// what it missed; a passive one is noticed as on_topic_notice().
  void on_topic_head(const std::string& topic, uint64_t head, session_time now,
                     session_effects& fx);
  void on_topic_fetched(const topic_fetch& asked, const sync_page& page, session_time now,
                        session_effects& fx);
  void on_topic_fetch_failed(const topic_fetch& asked, session_time now);
  /// The answer to a follow_request: a FOLLOW_RESULT frame. `error` empty on success.
  void on_follow_result(const follow_request& asked, const follow_outcome& outcome,
                        uint32_t error_code, const std::string& error, session_time now,
                        session_effects& fx);

  /// The earliest monotonic time at which `on_tick` has something to decide.
  uint64_t next_deadline() const;

  phase current_phase() const { return phase_; }
  const std::string& device_id() const { return device_id_; }
  const std::string& user_id() const { return user_id_; }
  const std::string& app_id() const { return app_id_; }
  const std::string& os() const { return os_; }                          ///< From HELLO.
  const std::string& client_version() const { return client_version_; }  ///< From HELLO.
  std::string session_id() const;
  size_t unacked() const { return unacked_.size(); }
  bool active() const { return active_; }  ///< In the foreground (HELLO, then PING).
  const topic_streams& topics() const { return topics_; }
  uint32_t idle_timeout_ms() const { return idle_timeout_ms_; }

 private:
  void handle(const protocol::frame& f, session_time now, session_effects& fx);
  void on_hello(const protocol::frame& f, session_time now, session_effects& fx);
  void on_auth(const protocol::frame& f, session_time now, session_effects& fx);
  void on_ping(const protocol::frame& f, session_time now, session_effects& fx);
  void on_ack(const protocol::frame& f, session_effects& fx);
  void on_sync_request(const protocol::frame& f, session_time now, session_effects& fx);
  void on_sync_ack(const protocol::frame& f, session_effects& fx);
  void on_follow_frame(const protocol::frame& f, session_time now, session_effects& fx);
  void set_active(bool active, session_time now, session_effects& fx);
  friend class session_topic_output;
  void send_sync_data(const sync_page& page, session_time now, session_effects& fx);
  /// One fetch of the current priority level is done; starts the next level when it was the
  /// last.
  void finish_fetch(session_effects& fx);
  /// Moves the retries of failed reads that are due into `fx.fetches`.
  void retry_due_fetches(session_time now, session_effects& fx);
  /// The owner this client has in a bucket of `kind`.
  const std::string& owner_for(bucket_kind kind) const;
  void accept_heartbeat(uint32_t declared_ms);
  void send(v1::FrameType type, const google::protobuf::MessageLite& msg, bool ack,
            session_time now, session_effects& fx, uint8_t channel = 0);
  /// An ack-requested frame with a payload already encoded (and compressed when `compressed`).
  void send_payload(v1::FrameType type, std::string_view payload, bool compressed, session_time now,
                    session_effects& fx, uint8_t channel);
  /// Whether this session may send `batch`'s shared encoding: no dictionary, and no message
  /// that expires within a minute (those are sent skipped per session).
  bool can_share_topic_frames(const topic_batch& batch, session_time now) const;
  /// Compresses a shared payload as this node's sessions do without a dictionary; false when
  /// it stays plain (under the threshold, or zstd did not make it smaller).
  bool compress_shared(const std::string& payload, std::string& out) const;
  /// GOAWAY `reason` (naming `addresses` to go to), then close after the grace period.
  void start_closing(int reason, const std::string& text, uint32_t reconnect_after_ms,
                     gateway_errc why, session_time now, session_effects& fx,
                     const std::vector<std::string>& addresses = {});
  void fail(protocol::protocol_errc code, std::string reason, session_effects& fx);
  void close_with(v1::ErrorCode code, std::string reason, gateway_errc why, session_effects& fx);

  const gateway_context& ctx_;
  protocol::frame_decoder decoder_;
  protocol::frame_encoder encoder_;
  phase phase_ = phase::awaiting_hello;
  uint64_t session_number_;
  std::string device_id_;
  std::string app_id_;
  std::string user_id_;
  std::string os_;              // HELLO's, for op filters
  std::string client_version_;  // HELLO's free text, e.g. "ios/5.2.1"
  const app_entry* app_ = nullptr;
  uint32_t heartbeat_ms_ = 0;
  uint32_t idle_timeout_ms_ = 0;
  uint64_t handshake_deadline_ = 0;
  uint64_t last_in_ = 0;
  uint64_t close_at_ = 0;
  gateway_errc closing_reason_ = gateway_errc::drained;
  uint64_t next_seq_ = 1;
  std::vector<std::pair<uint64_t, uint64_t>> unacked_;  // (seq, sent mono ms), ascending seq
  // The SYNC_REQ being served: its number, the priority levels still to read (next first),
  // and how many reads of the current level are out.
  uint32_t sync_round_ = 0;
  std::vector<std::vector<sync_fetch>> sync_levels_;
  size_t sync_level_next_ = 0;
  size_t sync_outstanding_ = 0;
  std::vector<std::pair<uint64_t, sync_fetch>> fetch_retries_;  // (due mono ms, read)
  bool active_ = true;
  bool uses_dictionary_ = false;  // frames are compressed with the app's dictionary
  topic_streams topics_;
};

}  // namespace tidegate::actors
