// The read side of oplog_store: every call opens a read transaction that ends (aborted by
// lmdb_txn's destructor, with its cursors closed first) before the call returns.
#include "storage/lmdb_util.h"
#include "storage/oplog_store.h"

namespace tidegate::storage {
namespace {

using detail::as_val;
using detail::as_view;
using detail::starts_with;

storage_result<cursor_ptr> open_cursor(MDB_txn* txn, MDB_dbi dbi) {
  MDB_cursor* raw = nullptr;
  if (int rc = mdb_cursor_open(txn, dbi, &raw); rc != MDB_SUCCESS) {
    return from_mdb(rc, "mdb_cursor_open");
  }
  return cursor_ptr{raw};
}

}  // namespace

storage_result<owner_state> oplog_store::state_of(uint16_t shard, uint8_t bucket,
                                                  const std::string& owner) const {
  auto txn = env_.begin_read();
  if (!txn) {
    return txn.error();
  }
  return detail::load_owner_state(txn->get(), env_.handles().meta, {shard, bucket, owner});
}

storage_result<uint64_t> oplog_store::head(uint16_t shard, uint8_t bucket,
                                           const std::string& owner) const {
  auto state = state_of(shard, bucket, owner);
  if (!state) {
    return state.error();
  }
  return state->head;
}

storage_result<uint64_t> oplog_store::low_watermark(uint16_t shard, uint8_t bucket,
                                                    const std::string& owner) const {
  auto state = state_of(shard, bucket, owner);
  if (!state) {
    return state.error();
  }
  return state->low_watermark;
}

storage_result<oplog_record> oplog_store::get(uint16_t shard, uint8_t bucket,
                                              const std::string& owner, uint64_t version) const {
  auto txn = env_.begin_read();
  if (!txn) {
    return txn.error();
  }
  auto key = encode_oplog_key({shard, bucket, owner, version});
  MDB_val k = as_val(key);
  MDB_val v{};
  if (int rc = mdb_get(txn->get(), env_.handles().oplog, &k, &v); rc != MDB_SUCCESS) {
    return from_mdb(rc, "mdb_get oplog");
  }
  return decode_record(as_view(v));  // copies out of the map before the txn ends
}

storage_result<oplog_page> oplog_store::read_range(uint16_t shard, uint8_t bucket,
                                                   const std::string& owner, uint64_t after_version,
                                                   size_t max_ops, size_t max_bytes) const {
  auto txn = env_.begin_read();
  if (!txn) {
    return txn.error();
  }
  auto state = detail::load_owner_state(txn->get(), env_.handles().meta, {shard, bucket, owner});
  if (!state) {
    return state.error();
  }
  oplog_page page;
  if (after_version + 1 < state->low_watermark || after_version > state->head) {
    page.reset = true;  // trimmed history, or a client ahead of us: never a silent gap
    return page;
  }
  if (after_version == state->head) {
    return page;
  }
  auto cursor = open_cursor(txn->get(), env_.handles().oplog);
  if (!cursor) {
    return cursor.error();
  }
  auto prefix = oplog_owner_prefix(shard, bucket, owner);
  auto start = encode_oplog_key({shard, bucket, owner, after_version + 1});
  MDB_val k = as_val(start);
  MDB_val v{};
  size_t bytes = 0;
  int rc = mdb_cursor_get(cursor->get(), &k, &v, MDB_SET_RANGE);
  for (; rc == MDB_SUCCESS; rc = mdb_cursor_get(cursor->get(), &k, &v, MDB_NEXT)) {
    if (!starts_with(as_view(k), prefix) || k.mv_size != prefix.size() + 8) {
      break;  // the next owner's log
    }
    if (page.records.size() >= max_ops
        || (!page.records.empty() && bytes + v.mv_size > max_bytes)) {
      page.more = true;
      break;
    }
    auto record = decode_record(as_view(v));
    if (!record) {
      return record.error();
    }
    bytes += v.mv_size;
    page.records.push_back(std::move(*record));
  }
  if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND) {
    return from_mdb(rc, "mdb_cursor_get oplog");
  }
  return page;
}

storage_result<std::optional<uint64_t>> oplog_store::lookup_dedupe(uint8_t bucket,
                                                                   const std::string& business,
                                                                   const std::string& owner,
                                                                   const std::string& msg_id,
                                                                   uint64_t now_ms) const {
  auto txn = env_.begin_read();
  if (!txn) {
    return txn.error();
  }
  auto key = encode_dedupe_key({bucket, business, owner, msg_id});
  MDB_val k = as_val(key);
  MDB_val v{};
  int rc = mdb_get(txn->get(), env_.handles().dedupe, &k, &v);
  if (rc == MDB_NOTFOUND) {
    return std::optional<uint64_t>{};
  }
  if (rc != MDB_SUCCESS) {
    return from_mdb(rc, "mdb_get dedupe");
  }
  auto value = decode_dedupe_value(as_view(v));
  if (!value) {
    return storage_error{storage_errc::corrupt, "malformed dedupe value"};
  }
  if (value->expires_at_ms != 0 && value->expires_at_ms <= now_ms) {
    return std::optional<uint64_t>{};  // expired, not yet removed by expire_dedupe
  }
  return std::optional<uint64_t>{value->version};
}

storage_result<std::vector<owner_head>> oplog_store::scan_heads(uint8_t bucket,
                                                                uint16_t shard) const {
  auto txn = env_.begin_read();
  if (!txn) {
    return txn.error();
  }
  auto cursor = open_cursor(txn->get(), env_.handles().meta);
  if (!cursor) {
    return cursor.error();
  }
  std::vector<owner_head> heads;
  auto prefix = owner_state_shard_prefix(bucket, shard);
  MDB_val k = as_val(prefix);
  MDB_val v{};
  int rc = mdb_cursor_get(cursor->get(), &k, &v, MDB_SET_RANGE);
  for (; rc == MDB_SUCCESS; rc = mdb_cursor_get(cursor->get(), &k, &v, MDB_NEXT)) {
    if (!starts_with(as_view(k), prefix)) {
      break;
    }
    auto id = decode_owner_state_key(as_view(k));
    auto state = decode_owner_state(as_view(v));
    if (!id || !state) {
      return storage_error{storage_errc::corrupt, "malformed owner state in meta"};
    }
    heads.push_back({std::move(*id), *state});
  }
  if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND) {
    return from_mdb(rc, "mdb_cursor_get meta");
  }
  return heads;
}

}  // namespace tidegate::storage
