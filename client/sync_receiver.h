#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "client/sync_store.h"
#include "tidegate/v1/sync.pb.h"

namespace tidegate::client {

struct sync_receiver_config {
  /// An ack is due at once after the cursor moved over this many ops (delivered or skipped)
  /// since the last one.
  uint32_t ack_every_ops = 64;
  /// Ops held back behind a gap, per bucket; later ones are dropped (the re-sync resends them).
  size_t max_held_ops = 1024;
};

/// What one SyncData page did.
struct sync_page_result {
  size_t delivered = 0;   ///< Ops passed to the app.
  size_t skipped = 0;     ///< Skipped ops (not for this client): the cursor moved over them.
  size_t duplicates = 0;  ///< Ops at or below the cursor (or already held): dropped.
  size_t held = 0;        ///< Ops now held back behind a gap.
  size_t dropped = 0;     ///< Ops past max_held_ops: dropped, the re-sync brings them again.
  bool reset = false;     ///< The page reset the bucket.
  bool resync = false;    ///< A gap needs a SyncRequest now: send make_request().
};

struct sync_receiver_counters {
  uint64_t pages = 0;
  uint64_t delivered = 0;
  uint64_t skipped = 0;
  uint64_t duplicates = 0;
  uint64_t resets = 0;
  uint64_t resyncs = 0;  ///< Gaps that asked for a re-sync.
  uint64_t acks = 0;
};

/// The client half of SYNC (DESIGN §5, §14 invariant 2), with no sockets: SyncData pages in,
/// ops to the app, SyncRequest/SyncAck out. Per bucket it delivers each version once and in
/// order: versions at or below the cursor are dropped (replays after a reconnect), versions
/// past a gap are held back until the gap is filled, and a gap asks for a re-sync (never
/// skipped). A reset page calls the reset callback and moves the cursor to `head_version`.
/// An op the server marked `skipped` (filtered out or expired, docs/protocol.md §9.10) takes
/// its place in the order like any other but is not passed to the app.
///
/// The cursor moves only after the ops callback returned, and is what take_ack() reports and
/// the owner persists before sending that ack. So a running app sees each version exactly
/// once; an app that crashes in (or after) the callback before the cursor was persisted sees
/// those ops again on restart (at-least-once to a crashing app).
///
/// Followed topics (DESIGN §6) are streams like buckets, keyed topic_key(name) ("topic:" +
/// name; bucket names have no ':'): the same order, dedupe and persistence, reported to the
/// callbacks under that key. Their cursors go to the server in SyncRequest.topics and are
/// never acked (the server keeps no per-follower state). Callbacks may call
/// make_request() (it does not change cursors) but not on_page(). Not thread-safe; one
/// connection owns it.
class sync_receiver {
 public:
  /// Called with a run of ops of `bucket`, oldest first: contiguous versions except those
  /// the server skipped, which are left out. Not called for a run of skipped ops only.
  using ops_callback =
      std::function<void(const std::string& bucket, const std::vector<v1::Op>& ops)>;
  /// Called when the server reset `bucket`: drop local state, reload from the backend; the
  /// next ops follow `head_version`.
  using reset_callback = std::function<void(const std::string& bucket, uint64_t head_version)>;

  /// The stream key of a topic: "topic:" + name.
  static std::string topic_key(const std::string& topic);
  /// The topic of a stream key, or nullopt for a bucket.
  static std::optional<std::string> topic_of(const std::string& key);

  sync_receiver(sync_cursors initial, ops_callback on_ops, reset_callback on_reset,
                sync_receiver_config config = {});

  /// The sync key to send: every bucket's cursor. Marks every bucket as requested, so gaps
  /// found before the answer wait for it instead of asking again.
  v1::SyncRequest make_request(v1::SyncReason reason);
  /// Handles one page (an answer or an unasked online push); consumes its ops.
  sync_page_result on_page(v1::SyncData& page);
  /// The session ended: requests in flight will not be answered.
  void on_session_end();

  /// True if an ack should go out now: ack_every_ops delivered, or the answer to a request
  /// caught a bucket up (online pushes wait for the owner's ack delay).
  bool ack_due() const;
  /// True if some cursor moved since the last take_ack().
  bool ack_pending() const { return dirty_ != 0; }
  /// The cumulative SyncAck for every bucket whose cursor moved since the last one. Persist
  /// cursors() first: an ack tells the server it may delete `once` ops.
  v1::SyncAck take_ack();

  /// Every bucket's cursor (what to persist).
  sync_cursors cursors() const;
  /// The cursor of `bucket`, 0 if unknown.
  uint64_t cursor(const std::string& bucket) const;
  /// Ops held back behind gaps, over all buckets.
  size_t held() const;
  const sync_receiver_counters& counters() const { return counters_; }

 private:
  static constexpr std::string_view topic_prefix = "topic:";

  struct bucket_state {
    uint64_t cursor = 0;
    std::map<uint64_t, v1::Op> held;  // versions past a gap, waiting for it to be filled
    bool requested = false;           // a SyncRequest naming it is unanswered
    bool dirty = false;               // cursor moved since the last ack
  };

  void mark_dirty(bucket_state& b);

  ops_callback on_ops_;
  reset_callback on_reset_;
  sync_receiver_config config_;
  std::map<std::string, bucket_state> buckets_;
  size_t dirty_ = 0;          // buckets with dirty set
  uint64_t unacked_ops_ = 0;  // delivered since the last ack
  bool caught_up_ = false;    // a bucket's last page arrived since the last ack
  sync_receiver_counters counters_;
};

}  // namespace tidegate::client
