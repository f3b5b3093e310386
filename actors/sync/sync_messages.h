#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/error.hpp>
#include <caf/fwd.hpp>

#include "actors/sync/sync_wire.h"
#include "storage/delivery_store.h"
#include "storage/oplog_record.h"
#include "storage/oplog_store.h"

namespace tidegate::actors {

/// One SYNC op from a backend (ingress) or a push, before it has a version.
struct publish_request {
  std::string app_id;    ///< The publishing app (ingress authenticated it).
  std::string business;  ///< Mapped to a bucket by config.
  std::string bucket;    ///< Set by the router from `business` (callers may leave it empty).
  std::string owner;     ///< User id, device id, or app id (`global`), per the bucket's kind.
  std::string payload;
  std::string msg_id;   ///< Idempotency key: (bucket, business, owner, msg_id) is unique.
  uint64_t ttl_ms = 0;  ///< 0 = no expiry.
  std::optional<storage::op_filters> filters;
  std::optional<storage::push_display> push;
};

/// The version an op got, once it is durable. `duplicated`: the msg_id was seen before and
/// this is the version it got then; nothing new was stored.
struct publish_result {
  uint64_t version = 0;
  bool duplicated = false;
};

/// Several publishes in one message (POST /v1/sync/ops:batch): the router splits them by
/// bucket actor, each bucket writes its share as one request, and the answer comes back once
/// every op is durable or failed. Ops are independent: one failing does not fail the others.
struct publish_batch {
  std::vector<publish_request> ops;
};

/// The answer for one op of a publish_batch: `error` set (category "sync") or `result`.
struct publish_outcome {
  publish_result result;
  caf::error error;
};

/// The answers of a publish_batch, in the order of its ops.
struct publish_outcomes {
  std::vector<publish_outcome> outcomes;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, publish_request& x) {
  auto filters = wire::as_list(x.filters);
  auto push = wire::as_list(x.push);
  return f(caf::meta::type_name("publish_request"), x.app_id, x.business, x.bucket, x.owner,
           x.payload, x.msg_id, x.ttl_ms, filters, push,
           caf::meta::load_callback([&]() -> caf::error {
             if (auto err = wire::from_list(filters, x.filters)) {
               return err;
             }
             return wire::from_list(push, x.push);
           }));
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, publish_result& x) {
  return f(caf::meta::type_name("publish_result"), x.version, x.duplicated);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, publish_batch& x) {
  return f(caf::meta::type_name("publish_batch"), x.ops);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, publish_outcome& x) {
  return f(caf::meta::type_name("publish_outcome"), x.result, x.error);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, publish_outcomes& x) {
  return f(caf::meta::type_name("publish_outcomes"), x.outcomes);
}

/// A page of one owner's log for a session (SYNC_REQ, or an online push).
struct sync_page {
  std::string bucket;
  std::string topic;  ///< Set (and `bucket` empty) for a page of a topic's log.
  std::vector<storage::oplog_record> records;
  bool more = false;
  bool reset = false;
  uint64_t head = 0;
  /// Ops with versions <= dead_through were dead-lettered for the device that asked: send
  /// them as skipped ops (0: none).
  uint64_t dead_through = 0;
  /// `once` buckets: versions <= gone_through were acked and deleted (SyncData.gone_through).
  uint64_t gone_through = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, sync_page& x) {
  return f(caf::meta::type_name("sync_page"), x.bucket, x.topic, x.records, x.more, x.reset, x.head,
           x.dead_through, x.gone_through);
}

/// One device's delivery state in one owner's log, for the ingress (GET /v1/sync/cursors).
struct device_cursor_info {
  std::string device;
  storage::device_cursor cursor;
};

/// The cursors of an owner's devices in one bucket.
struct owner_cursors {
  std::string bucket;
  uint64_t head = 0;
  std::vector<device_cursor_info> devices;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, device_cursor_info& x) {
  return f(caf::meta::type_name("device_cursor_info"), x.device, x.cursor);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, owner_cursors& x) {
  return f(caf::meta::type_name("owner_cursors"), x.bucket, x.head, x.devices);
}

/// A push's receipts (GET /v1/push/receipts): the version its msg_id got, and per device.
struct op_receipts {
  uint64_t version = 0;
  std::vector<std::pair<std::string, storage::receipt>> devices;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, op_receipts& x) {
  return f(caf::meta::type_name("op_receipts"), x.version, x.devices);
}

/// An owner whose ops a replica cannot append yet: it has versions up to `have`, and the
/// batch started later. The primary sends (have, first sent) from its log, then the batch again.
struct replica_gap {
  uint8_t bucket = 0;
  std::string owner;
  uint64_t have = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, replica_gap& x) {
  return f(caf::meta::type_name("replica_gap"), x.bucket, x.owner, x.have);
}

/// A primary's heads, checked by the replica during a catch-up (replica_sink: sync_heads_atom):
/// (bucket, owner, the primary's head) each.
struct owner_heads {
  std::vector<replica_gap> heads;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, owner_heads& x) {
  return f(caf::meta::type_name("owner_heads"), x.heads);
}

/// A replica's answer to a replicated batch: applied (no gaps, nothing diverged) or nothing
/// applied. `diverged` names owners whose log here holds another op under a version the
/// primary sent or named (`have` is this replica's head): a former primary's unacknowledged
/// tail. The primary answers with a truncate of the owner and its own log (decision 0022).
struct replica_reply {
  std::vector<replica_gap> gaps;
  std::vector<replica_gap> diverged;

  bool applied() const { return gaps.empty() && diverged.empty(); }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, replica_reply& x) {
  return f(caf::meta::type_name("replica_reply"), x.gaps, x.diverged);
}

/// About the bytes `r` adds to a message: what the outboxes count to bound a batch.
inline size_t approx_message_bytes(const storage::oplog_record& r) {
  return r.payload.size() + r.owner.size() + r.msg_id.size() + 64;
}

/// New ops of an owner for its online sessions on another member (what a session
/// registry's single deliver_atom message carries), inside owner_deliveries.
struct owner_delivery {
  uint8_t kind = 0;  ///< The bucket's bucket_kind: by user or by device.
  std::string owner;
  sync_page page;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, owner_delivery& x) {
  return f(caf::meta::type_name("owner_delivery"), x.kind, x.owner, x.page);
}

/// The deliveries a node's delivery_outbox sends one other member's session registry in one
/// message (deliver_atom), in the order they were committed.
struct owner_deliveries {
  std::vector<owner_delivery> items;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, owner_deliveries& x) {
  return f(caf::meta::type_name("owner_deliveries"), x.items);
}

/// The op a primary holds just before the first op a batch appends for an owner: the replica
/// appends onto its own op at `version` only if that is the same op (`msg_id`), so a copy
/// whose log diverged there (a former primary's unacknowledged tail) is never extended with
/// ops that follow something else (log matching, as Raft's prevLogIndex/prevLogTerm check).
struct owner_prev {
  uint8_t bucket = 0;
  std::string owner;
  uint64_t version = 0;
  std::string msg_id;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, owner_prev& x) {
  return f(caf::meta::type_name("owner_prev"), x.bucket, x.owner, x.version, x.msg_id);
}

/// One shard's committed batch on its way to the replica, inside a replica_stream.
struct replica_item {
  uint16_t shard = 0;
  uint64_t epoch = 0;   ///< The shard's epoch in the map naming sender and replica.
  std::string primary;  ///< The sending node.
  storage::write_batch batch;
  /// Per owner the batch appends to, the primary's op before its first append, where the
  /// primary still holds it (replica_prevs()).
  std::vector<owner_prev> prevs;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, replica_item& x) {
  return f(caf::meta::type_name("replica_item"), x.shard, x.epoch, x.primary, x.batch, x.prevs);
}

/// The batches a node's replica_outbox sends one replica's sink in one message: every
/// shard's writes bound for that member since the last one (replica_sink: replicate_atom).
/// Items of one shard keep their order.
struct replica_stream {
  std::vector<replica_item> items;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, replica_stream& x) {
  return f(caf::meta::type_name("replica_stream"), x.items);
}

/// The sink's answer to a replica_stream, one per item in its order: `error` (fenced,
/// diverged, not durable) or `reply` (applied, or the gaps that kept it from applying).
struct replica_outcome {
  replica_reply reply;
  caf::error error;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, replica_outcome& x) {
  return f(caf::meta::type_name("replica_outcome"), x.reply, x.error);
}

struct replica_outcomes {
  std::vector<replica_outcome> outcomes;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, replica_outcomes& x) {
  return f(caf::meta::type_name("replica_outcomes"), x.outcomes);
}

/// Registers every SYNC message type that crosses nodes (publishes, pages, cursors,
/// receipts), under the same names on every node.
void add_sync_message_types(caf::actor_system_config& cfg);

}  // namespace tidegate::actors

// Local only: dead letters are listed per node.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(tidegate::storage::dead_letter_page)
