#include "storage/oplog_store.h"

#include <map>
#include <utility>

#include "storage/lmdb_util.h"

namespace tidegate::storage {
namespace detail {

storage_result<owner_state> load_owner_state(MDB_txn* txn, MDB_dbi meta, const owner_id& id) {
  auto key = encode_owner_state_key(id);
  MDB_val k = as_val(key);
  MDB_val v{};
  int rc = mdb_get(txn, meta, &k, &v);
  if (rc == MDB_NOTFOUND) {
    return owner_state{};
  }
  if (rc != MDB_SUCCESS) {
    return from_mdb(rc, "mdb_get owner state");
  }
  auto state = decode_owner_state(as_view(v));
  if (!state) {
    return storage_error{storage_errc::corrupt, "malformed owner state of " + id.owner};
  }
  return *state;
}

storage_status store_owner_state(MDB_txn* txn, MDB_dbi meta, const owner_id& id,
                                 const owner_state& state) {
  auto key = encode_owner_state_key(id);
  auto value = encode_owner_state(state);
  MDB_val k = as_val(key);
  MDB_val v = as_val(value);
  if (int rc = mdb_put(txn, meta, &k, &v, 0); rc != MDB_SUCCESS) {
    return from_mdb(rc, "mdb_put owner state");
  }
  return std::nullopt;
}

}  // namespace detail

namespace {

using detail::as_val;
using detail::as_view;

storage_status check_field(const std::string& value, const char* field) {
  if (value.size() > max_key_field_size) {
    return storage_error{
        storage_errc::bad_record,
        std::string(field) + " longer than " + std::to_string(max_key_field_size) + " bytes"};
  }
  return std::nullopt;
}

storage_status put(MDB_txn* txn, MDB_dbi dbi, const std::string& key, std::string_view value,
                   unsigned flags, const char* what) {
  MDB_val k = as_val(key);
  MDB_val v = as_val(value);
  if (int rc = mdb_put(txn, dbi, &k, &v, flags); rc != MDB_SUCCESS) {
    return from_mdb(rc, what);
  }
  return std::nullopt;
}

MDB_dbi table_dbi(const dbis& db, delivery_table table) {
  switch (table) {
    case delivery_table::cursors:
      return db.cursors;
    case delivery_table::receipts:
      return db.receipts;
    case delivery_table::dead_letters:
      return db.dead_letters;
    case delivery_table::follows:
      return db.follows;
    case delivery_table::topic_meta:
      return db.topic_meta;
  }
  return db.cursors;  // unreachable: every enumerator is handled above
}

storage_status del(MDB_txn* txn, MDB_dbi dbi, const std::string& key, const char* what) {
  MDB_val k = as_val(key);
  if (int rc = mdb_del(txn, dbi, &k, nullptr); rc != MDB_SUCCESS && rc != MDB_NOTFOUND) {
    return from_mdb(rc, what);
  }
  return std::nullopt;
}

storage_status apply_appends(MDB_txn* txn, const dbis& db,
                             const std::vector<oplog_append>& appends) {
  // Heads as this batch moves them, by owner_state key; written to meta after the appends.
  std::map<std::string, std::pair<owner_id, owner_state>> heads;
  for (const auto& append : appends) {
    const auto& r = append.record;
    for (auto err : {check_field(r.owner, "owner"), check_field(r.business, "business"),
                     check_field(r.msg_id, "msg_id")}) {
      if (err) {
        return err;
      }
    }
    owner_id id{append.shard, r.bucket, r.owner};
    auto meta_key = encode_owner_state_key(id);
    auto it = heads.find(meta_key);
    if (it == heads.end()) {
      auto state = detail::load_owner_state(txn, db.meta, id);
      if (!state) {
        return state.error();
      }
      it = heads.emplace(meta_key, std::make_pair(id, *state)).first;
    }
    auto& state = it->second.second;
    if (r.version != state.head + 1) {
      return storage_error{storage_errc::version_conflict,
                           "owner " + r.owner + " at head " + std::to_string(state.head)
                               + " got version " + std::to_string(r.version)};
    }
    auto bytes = encode_record(r);
    if (!bytes) {
      return bytes.error();
    }
    auto key = encode_oplog_key({append.shard, r.bucket, r.owner, r.version});
    MDB_val k = as_val(key);
    MDB_val v = as_val(*bytes);
    int rc = mdb_put(txn, db.oplog, &k, &v, MDB_NOOVERWRITE);
    if (rc == MDB_KEYEXIST) {  // an op stored above the head
      return storage_error{
          storage_errc::version_conflict,
          "owner " + r.owner + " already has version " + std::to_string(r.version)};
    }
    if (rc != MDB_SUCCESS) {
      return from_mdb(rc, "mdb_put oplog");
    }
    state.head = r.version;
  }
  for (const auto& [key, entry] : heads) {
    if (auto err = detail::store_owner_state(txn, db.meta, entry.first, entry.second)) {
      return err;
    }
  }
  return std::nullopt;
}

storage_status apply_dedupes(MDB_txn* txn, const dbis& db,
                             const std::vector<dedupe_insert>& dedupes) {
  for (const auto& insert : dedupes) {
    for (auto err :
         {check_field(insert.key.business, "business"), check_field(insert.key.owner, "owner"),
          check_field(insert.key.msg_id, "msg_id")}) {
      if (err) {
        return err;
      }
    }
    auto key = encode_dedupe_key(insert.key);
    MDB_val k = as_val(key);
    MDB_val old{};
    int rc = mdb_get(txn, db.dedupe, &k, &old);
    if (rc == MDB_SUCCESS) {
      // The old expiry entry would otherwise expire the new value early.
      if (auto prev = decode_dedupe_value(as_view(old)); prev && prev->expires_at_ms != 0) {
        if (auto err = del(txn, db.dedupe_exp, encode_expiry_key(prev->expires_at_ms, key),
                           "mdb_del dedupe_exp")) {
          return err;
        }
      }
    } else if (rc != MDB_NOTFOUND) {
      return from_mdb(rc, "mdb_get dedupe");
    }
    if (auto err =
            put(txn, db.dedupe, key, encode_dedupe_value(insert.value), 0, "mdb_put dedupe")) {
      return err;
    }
    if (insert.value.expires_at_ms != 0) {
      if (auto err = put(txn, db.dedupe_exp, encode_expiry_key(insert.value.expires_at_ms, key), {},
                         0, "mdb_put dedupe_exp")) {
        return err;
      }
    }
  }
  return std::nullopt;
}

}  // namespace

storage_status oplog_store::apply(const write_batch& batch) {
  if (batch.empty()) {
    return std::nullopt;
  }
  auto txn = env_.begin_write();
  if (!txn) {
    return txn.error();
  }
  const auto& db = env_.handles();
  for (const auto& t : batch.truncates) {
    if (auto err = check_field(t.owner, "owner")) {
      return err;
    }
    if (auto err = detail::apply_truncate(txn->get(), db, t)) {
      return err;
    }
  }
  for (const auto& r : batch.rebases) {
    if (auto err = check_field(r.owner, "owner")) {
      return err;
    }
    owner_id id{r.shard, r.bucket, r.owner};
    auto state = detail::load_owner_state(txn->get(), db.meta, id);
    if (!state) {
      return state.error();
    }
    if (r.head > state->head) {
      if (auto err =
              detail::store_owner_state(txn->get(), db.meta, id, owner_state{r.head, r.head + 1})) {
        return err;
      }
    }
  }
  if (auto err = apply_appends(txn->get(), db, batch.appends)) {
    return err;
  }
  if (auto err = apply_dedupes(txn->get(), db, batch.dedupes)) {
    return err;
  }
  for (const auto& key : batch.deletes) {
    if (key.owner.size() > max_key_field_size) {
      continue;  // never stored, so already absent
    }
    if (auto err = del(txn->get(), db.oplog, encode_oplog_key(key), "mdb_del oplog")) {
      return err;
    }
  }
  for (const auto& p : batch.puts) {
    if (p.key.empty() || p.key.size() > 511) {
      return storage_error{storage_errc::bad_record, "a table key must be 1 to 511 bytes"};
    }
    if (auto err = put(txn->get(), table_dbi(db, p.table), p.key, p.value, 0, "mdb_put table")) {
      return err;
    }
  }
  for (const auto& e : batch.erases) {
    if (e.key.empty() || e.key.size() > 511) {
      continue;  // never stored, so already absent
    }
    if (auto err = del(txn->get(), table_dbi(db, e.table), e.key, "mdb_del table")) {
      return err;
    }
  }
  return txn->commit();  // any early return above aborted the whole batch
}

storage_status oplog_store::apply_growing(const write_batch& batch) {
  for (;;) {
    auto err = apply(batch);
    if (!err || err->code != storage_errc::map_full) {
      return err;
    }
    auto next = env_.next_map_size();
    if (next == 0) {
      return err;  // at max_map_size: the batch is rejected, never acked
    }
    if (auto grow_err = env_.grow(next)) {
      return grow_err;
    }
  }
}

}  // namespace tidegate::storage
