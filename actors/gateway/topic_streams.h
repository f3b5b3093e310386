#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "actors/sync/sync_messages.h"
#include "actors/topics/topic_messages.h"

namespace tidegate::actors {

/// A read of a topic's log a session must make: the page after `after`; its answer goes to
/// topic_streams::on_fetched with the same `epoch`.
struct topic_fetch {
  std::string topic;
  uint64_t after = 0;
  uint64_t epoch = 0;
};

/// One SyncData frame of a topic to send: `count` records from `first` (contiguous versions,
/// valid during the call), or none.
struct topic_frame {
  const std::string* topic = nullptr;
  const storage::oplog_record* first = nullptr;
  size_t count = 0;
  uint64_t head = 0;
  uint64_t gone_through = 0;  ///< The follow's start, sent once per stream.
  bool more = false;
  bool reset = false;
  /// Set when the frame holds all of this live batch's records: its shared encoding may be
  /// sent instead (topic_batch::encoded).
  const topic_batch* whole = nullptr;
};

/// Where topic_streams sends its decisions: the session machine, during one call.
class topic_output {
 public:
  virtual ~topic_output() = default;
  virtual void send_topic(const topic_frame& frame) = 0;
  virtual void fetch_topic(topic_fetch fetch) = 0;
  /// True while the client has too many unacked frames: live messages wait (slow follower).
  virtual bool backlog_full() const = 0;
};

/// A session's followed topics (DESIGN §6): for each, the newest version sent on this
/// connection, and whether it is fed by live batches from the relay or catching up from the
/// log. Every version after the client's cursor reaches the client once and in order: live
/// batches that do not continue the stream (a gap, a fetch in flight, a full backlog) are
/// dropped and the stream reads the log instead, one page at a time, until it is caught up.
/// A slow follower thus costs the topic and the other followers nothing: its session drops
/// what it cannot send and resyncs from the log when the client acks again.
/// Plain C++ (no actors); not thread-safe; one session machine owns it.
class topic_streams {
 public:
  /// The relay's answer at login: the user's topics and where each follow started.
  void on_follows(const followed_topics& topics, topic_output& out);
  /// A SYNC_REQ's topic cursors (topic -> version): every stream restarts from the cursor
  /// (or from its follow's start, when the cursor is older or missing).
  void on_sync_request(std::unordered_map<std::string, uint64_t> cursors, topic_output& out);
  /// The user followed `topic` while this session is online.
  void on_followed(const std::string& topic, uint64_t since, topic_output& out);
  void on_unfollowed(const std::string& topic);
  /// A live batch from the relay.
  void on_batch(const topic_batch& batch, topic_output& out);
  /// The answer to a fetch.
  void on_fetched(const topic_fetch& asked, const sync_page& page, topic_output& out);
  /// The fetch failed (the topic's primary is failing over): the stream stalls, and reads on
  /// at the next ack, foreground or new primary, or at retry_deadline() at the latest (the
  /// backoff of read_retry.h), so a quiet follower does not wait for the client to act.
  void on_fetch_failed(const topic_fetch& asked, uint64_t now_ms);
  /// When retry_due() should run next (UINT64_MAX: nothing to retry).
  uint64_t retry_deadline() const { return stalled_ ? retry_at_ : UINT64_MAX; }
  /// Restarts the stalled streams once retry_deadline() has come.
  void retry_due(uint64_t now_ms, topic_output& out);
  /// The topic moved to `head` while the session is passive: true if the client should be
  /// told (it lacks versions up to `head`).
  bool on_notice(const std::string& topic, uint64_t head);
  /// The topic's primary changed and is at `head` (the relay registered again): what the
  /// live stream missed meanwhile is read from the log.
  void on_head(const std::string& topic, uint64_t head, topic_output& out);
  /// The client acked frames: streams stopped by a full backlog (or a failed fetch) read on
  /// from the log. Cheap when none stopped.
  void resume_stalled(topic_output& out);
  /// The client came to the foreground: every stream behind what it knows exists (notices,
  /// stalls) reads on from the log.
  void catch_up(topic_output& out);

  size_t size() const { return streams_.size(); }
  /// The newest version of `topic` sent on this connection (0 if none or not followed).
  uint64_t delivered(const std::string& topic) const;

 private:
  struct stream {
    uint64_t since = 0;      // the follow's start
    uint64_t delivered = 0;  // newest version sent (or the client's cursor)
    uint64_t seen_head = 0;  // newest version known to exist
    uint64_t epoch = 0;      // bumped by a restart: older fetches are stale
    bool started = false;    // the client's cursor is known
    bool fetching = false;   // a fetch is out
    bool announce = false;   // the next frame carries gone_through = since
    bool stalled = false;    // stopped by a full backlog; resume() restarts it
    uint32_t failures = 0;   // failed fetches in a row (the retry backoff)
  };

  bool ready() const { return follows_known_ && synced_; }
  void start(const std::string& topic, stream& s, uint64_t cursor, topic_output& out);
  void fetch(const std::string& topic, stream& s, topic_output& out);
  /// One frame of `count` records from `first`; `whole` is the live batch when they are all
  /// of it (its shared encoding may then be sent).
  void send(const std::string& topic, stream& s, const storage::oplog_record* first, size_t count,
            uint64_t head, bool more, topic_output& out, const topic_batch* whole = nullptr);

  std::unordered_map<std::string, stream> streams_;
  std::unordered_map<std::string, uint64_t> cursors_;  // the last SYNC_REQ's
  bool stalled_ = false;                               // some stream is stalled
  uint64_t retry_at_ = UINT64_MAX;                     // a failed fetch's retry is due
  bool follows_known_ = false;
  bool synced_ = false;
};

}  // namespace tidegate::actors
