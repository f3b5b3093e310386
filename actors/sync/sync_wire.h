#pragma once

// How SYNC messages travel between cluster members: CAF 0.17 inspect() functions for the
// storage types they carry. storage/ stays free of CAF; the overloads live here, in the
// types' namespace so that CAF finds them. Every type here is registered under the same name
// on every node (sync_messages.h: add_sync_message_types). Changing a field is a wire change.

#include <optional>
#include <vector>

#include <caf/error.hpp>
#include <caf/meta/load_callback.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/sec.hpp>

#include "storage/delivery_records.h"
#include "storage/keys.h"
#include "storage/oplog_record.h"
#include "storage/oplog_store.h"

namespace tidegate::actors::wire {

/// CAF 0.17 has no std::optional: one travels as a list of zero or one element.
template <class T>
std::vector<T> as_list(const std::optional<T>& x) {
  return x ? std::vector<T>{*x} : std::vector<T>{};
}

template <class T>
caf::error from_list(std::vector<T>& list, std::optional<T>& x) {
  if (list.size() > 1) {
    return caf::make_error(caf::sec::invalid_argument, "an optional field with several values");
  }
  x = list.empty() ? std::nullopt : std::optional<T>{std::move(list.front())};
  return {};
}

}  // namespace tidegate::actors::wire

namespace tidegate::storage {

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, op_filters& x) {
  return f(caf::meta::type_name("op_filters"), x.os, x.app_version_min, x.app_version_max,
           x.valid_from_ms, x.valid_to_ms, x.uids, x.uid_min, x.uid_max);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, push_display& x) {
  return f(caf::meta::type_name("push_display"), x.title, x.body, x.action);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, oplog_record& x) {
  auto filters = actors::wire::as_list(x.filters);
  auto push = actors::wire::as_list(x.push);
  return f(caf::meta::type_name("oplog_record"), x.bucket, x.owner, x.version, x.business,
           x.payload, x.msg_id, x.created_at_ms, x.expires_at_ms, filters, push,
           caf::meta::load_callback([&]() -> caf::error {
             if (auto err = actors::wire::from_list(filters, x.filters)) {
               return err;
             }
             return actors::wire::from_list(push, x.push);
           }));
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, device_cursor& x) {
  return f(caf::meta::type_name("device_cursor"), x.acked, x.delivered_through, x.attempts,
           x.dead_through, x.updated_at_ms);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, receipt& x) {
  return f(caf::meta::type_name("receipt"), x.delivered_at_ms, x.acked_at_ms);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, oplog_key& x) {
  return f(caf::meta::type_name("oplog_key"), x.shard, x.bucket, x.owner, x.version);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, dedupe_key& x) {
  return f(caf::meta::type_name("dedupe_key"), x.bucket, x.business, x.owner, x.msg_id);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, dedupe_value& x) {
  return f(caf::meta::type_name("dedupe_value"), x.version, x.expires_at_ms);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, oplog_append& x) {
  return f(caf::meta::type_name("oplog_append"), x.shard, x.record);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, dedupe_insert& x) {
  return f(caf::meta::type_name("dedupe_insert"), x.key, x.value);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, table_put& x) {
  return f(caf::meta::type_name("table_put"), x.table, x.key, x.value);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, table_erase& x) {
  return f(caf::meta::type_name("table_erase"), x.table, x.key);
}

/// The unit of replication: what a primary committed, applied as it is by its replica.
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, owner_rebase& x) {
  return f(caf::meta::type_name("owner_rebase"), x.shard, x.bucket, x.owner, x.head);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, owner_truncate& x) {
  return f(caf::meta::type_name("owner_truncate"), x.shard, x.bucket, x.owner, x.above);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, write_batch& x) {
  return f(caf::meta::type_name("write_batch"), x.appends, x.dedupes, x.deletes, x.puts, x.erases,
           x.rebases, x.truncates);
}

}  // namespace tidegate::storage
