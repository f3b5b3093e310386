// owner_truncate (oplog_store.h): a replica dropping ops its current primary does not have.
// Keys are collected with a cursor first and deleted after it closed, as in retention.
#include <vector>

#include "storage/delivery_records.h"
#include "storage/lmdb_scan.h"
#include "storage/lmdb_util.h"
#include "storage/oplog_store.h"

namespace tidegate::storage::detail {
namespace {

storage_status erase_key(MDB_txn* txn, MDB_dbi dbi, const std::string& key, const char* what) {
  MDB_val k = as_val(key);
  if (int rc = mdb_del(txn, dbi, &k, nullptr); rc != MDB_SUCCESS && rc != MDB_NOTFOUND) {
    return from_mdb(rc, what);
  }
  return std::nullopt;
}

// Deletes the idempotency entry of `r` (and its expiry entry) if it names `r`'s version: an
// entry naming another version belongs to another op and stays.
storage_status erase_dedupe_of(MDB_txn* txn, const dbis& db, const oplog_record& r) {
  auto key = encode_dedupe_key({r.bucket, r.business, r.owner, r.msg_id});
  MDB_val k = as_val(key);
  MDB_val v{};
  int rc = mdb_get(txn, db.dedupe, &k, &v);
  if (rc == MDB_NOTFOUND) {
    return std::nullopt;
  }
  if (rc != MDB_SUCCESS) {
    return from_mdb(rc, "mdb_get dedupe");
  }
  auto value = decode_dedupe_value(as_view(v));
  if (!value || value->version != r.version) {
    return std::nullopt;
  }
  if (value->expires_at_ms != 0) {
    if (auto err = erase_key(txn, db.dedupe_exp, encode_expiry_key(value->expires_at_ms, key),
                             "mdb_del dedupe_exp")) {
      return err;
    }
  }
  return erase_key(txn, db.dedupe, key, "mdb_del dedupe");
}

// Deletes every receipt of the op at `version`.
storage_status erase_receipts_of(MDB_txn* txn, const dbis& db, const owner_id& id,
                                 uint64_t version) {
  auto prefix = receipt_op_prefix(id.shard, id.bucket, id.owner, version);
  std::vector<std::string> keys;
  auto scanned = scan(txn, db.receipts, prefix, prefix, false,
                      [&keys](std::string_view key, std::string_view) {
                        keys.emplace_back(key);
                        return true;
                      });
  if (scanned) {
    return scanned;
  }
  for (const auto& key : keys) {
    if (auto err = erase_key(txn, db.receipts, key, "mdb_del receipt")) {
      return err;
    }
  }
  return std::nullopt;
}

}  // namespace

storage_status apply_truncate(MDB_txn* txn, const dbis& db, const owner_truncate& t) {
  owner_id id{t.shard, t.bucket, t.owner};
  auto state = load_owner_state(txn, db.meta, id);
  if (!state) {
    return state.error();
  }
  if (state->head <= t.above) {
    return std::nullopt;  // nothing above: a repeated truncate changes nothing
  }
  auto prefix = oplog_owner_prefix(t.shard, t.bucket, t.owner);
  auto from = encode_oplog_key({t.shard, t.bucket, t.owner, t.above + 1});
  std::vector<std::pair<std::string, std::string>> doomed;  // key, record bytes
  auto scanned = scan(txn, db.oplog, prefix, from, false,
                      [&doomed](std::string_view key, std::string_view value) {
                        doomed.emplace_back(key, value);
                        return true;
                      });
  if (scanned) {
    return scanned;
  }
  for (const auto& [key, bytes] : doomed) {
    // A record that does not decode is deleted all the same; only its index entries stay.
    if (auto record = decode_record(bytes)) {
      if (auto err = erase_dedupe_of(txn, db, *record)) {
        return err;
      }
      if (auto err = erase_receipts_of(txn, db, id, record->version)) {
        return err;
      }
    }
    if (auto err = erase_key(txn, db.oplog, key, "mdb_del oplog")) {
      return err;
    }
  }
  owner_state next{t.above, std::min(state->low_watermark, t.above + 1)};
  return store_owner_state(txn, db.meta, id, next);
}

}  // namespace tidegate::storage::detail
