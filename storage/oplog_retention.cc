// The retention side of oplog_store (storage_writer only): trim, compact, expire_dedupe.
// Each call is one write transaction; deletions are collected with a cursor, the cursor is
// closed, then the keys are deleted, so no cursor is ever repositioned by a delete.
#include <limits>

#include "storage/byte_io.h"
#include "storage/lmdb_util.h"
#include "storage/oplog_store.h"

namespace tidegate::storage {
namespace {

using detail::as_val;
using detail::as_view;
using detail::starts_with;

constexpr uint64_t unlimited = std::numeric_limits<uint64_t>::max();

struct trim_rule {
  uint64_t keep_count = unlimited;
  uint64_t min_created_at_ms = 0;
};

struct trim_outcome {
  uint64_t deleted = 0;
  bool budget_hit = false;  // stopped for the budget, with the owner maybe not done
};

storage_status scan_failed(int rc, const char* what) {
  if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND) {
    return from_mdb(rc, what);
  }
  return std::nullopt;
}

// Collects the versions of `id` to delete, oldest first, from its low watermark.
storage_status collect_trimmable(MDB_txn* txn, MDB_dbi oplog, const owner_id& id,
                                 const owner_state& state, trim_rule rule, uint64_t budget,
                                 std::vector<uint64_t>& doomed, std::optional<uint64_t>& kept) {
  MDB_cursor* raw = nullptr;
  if (int rc = mdb_cursor_open(txn, oplog, &raw); rc != MDB_SUCCESS) {
    return from_mdb(rc, "mdb_cursor_open oplog");
  }
  cursor_ptr cursor{raw};
  auto prefix = oplog_owner_prefix(id.shard, id.bucket, id.owner);
  auto start = encode_oplog_key({id.shard, id.bucket, id.owner, state.low_watermark});
  MDB_val k = as_val(start);
  MDB_val v{};
  int rc = mdb_cursor_get(cursor.get(), &k, &v, MDB_SET_RANGE);
  for (; rc == MDB_SUCCESS && doomed.size() < budget;
       rc = mdb_cursor_get(cursor.get(), &k, &v, MDB_NEXT)) {
    if (!starts_with(as_view(k), prefix) || k.mv_size != prefix.size() + 8) {
      break;
    }
    auto version = byte_reader(as_view(k).substr(prefix.size())).u64();
    bool by_count = state.head - version >= rule.keep_count;  // more than keep_count newer
    bool by_age = false;
    if (!by_count && rule.min_created_at_ms != 0) {
      auto record = decode_record(as_view(v));
      if (!record) {
        return record.error();
      }
      by_age = record->created_at_ms < rule.min_created_at_ms;
    }
    if (!by_count && !by_age) {
      kept = version;
      return std::nullopt;
    }
    doomed.push_back(version);
  }
  return scan_failed(rc, "mdb_cursor_get oplog");
}

// Trims one owner inside `txn` and updates `state` (the caller stores it).
storage_result<trim_outcome> trim_owner(MDB_txn* txn, const dbis& db, const owner_id& id,
                                        owner_state& state, trim_rule rule, uint64_t budget) {
  std::vector<uint64_t> doomed;
  std::optional<uint64_t> kept;
  if (auto err = collect_trimmable(txn, db.oplog, id, state, rule, budget, doomed, kept)) {
    return *err;
  }
  for (auto version : doomed) {
    auto key = encode_oplog_key({id.shard, id.bucket, id.owner, version});
    MDB_val k = as_val(key);
    if (int rc = mdb_del(txn, db.oplog, &k, nullptr); rc != MDB_SUCCESS) {
      return from_mdb(rc, "mdb_del oplog");
    }
  }
  // Never backwards; only past versions known gone (absent `once` ops alone move nothing).
  if (kept) {
    state.low_watermark = *kept;
  } else if (!doomed.empty()) {
    state.low_watermark = doomed.back() + 1;
  }
  return trim_outcome{doomed.size(), !kept && doomed.size() >= budget};
}

}  // namespace

storage_result<uint64_t> oplog_store::trim(uint16_t shard, uint8_t bucket, const std::string& owner,
                                           uint64_t keep_count, uint64_t min_created_at_ms) {
  auto txn = env_.begin_write();
  if (!txn) {
    return txn.error();
  }
  const auto& db = env_.handles();
  owner_id id{shard, bucket, owner};
  auto state = detail::load_owner_state(txn->get(), db.meta, id);
  if (!state) {
    return state.error();
  }
  auto before = state->low_watermark;
  auto outcome = trim_owner(txn->get(), db, id, *state, {keep_count, min_created_at_ms}, unlimited);
  if (!outcome) {
    return outcome.error();
  }
  if (state->low_watermark != before) {
    if (auto err = detail::store_owner_state(txn->get(), db.meta, id, *state)) {
      return *err;
    }
  }
  if (auto err = txn->commit()) {
    return *err;
  }
  return outcome->deleted;
}

storage_result<compact_stats> oplog_store::compact(uint8_t bucket, const retention_policy& policy,
                                                   uint64_t now_ms, size_t max_deletes,
                                                   compact_cursor& cursor) {
  compact_stats stats;
  if (max_deletes == 0) {
    return stats;
  }
  trim_rule rule;
  rule.keep_count = policy.keep_count.value_or(unlimited);
  if (policy.max_age_ms && now_ms > *policy.max_age_ms) {
    rule.min_created_at_ms = now_ms - *policy.max_age_ms;
  }
  auto txn = env_.begin_write();
  if (!txn) {
    return txn.error();
  }
  const auto& db = env_.handles();
  // The owners of this step: at most max_deletes, from the cursor.
  auto prefix = owner_state_bucket_prefix(bucket);
  auto from = starts_with(cursor.next_key, prefix) ? cursor.next_key : prefix;
  std::vector<std::pair<std::string, owner_head>> owners;
  bool end_of_bucket = true;
  {
    MDB_cursor* raw = nullptr;
    if (int rc = mdb_cursor_open(txn->get(), db.meta, &raw); rc != MDB_SUCCESS) {
      return from_mdb(rc, "mdb_cursor_open meta");
    }
    cursor_ptr meta{raw};
    MDB_val k = as_val(from);
    MDB_val v{};
    int rc = mdb_cursor_get(meta.get(), &k, &v, MDB_SET_RANGE);
    for (; rc == MDB_SUCCESS; rc = mdb_cursor_get(meta.get(), &k, &v, MDB_NEXT)) {
      if (!starts_with(as_view(k), prefix)) {
        break;
      }
      if (owners.size() == max_deletes) {
        end_of_bucket = false;
        break;
      }
      auto id = decode_owner_state_key(as_view(k));
      auto state = decode_owner_state(as_view(v));
      if (!id || !state) {
        return storage_error{storage_errc::corrupt, "malformed owner state in meta"};
      }
      owners.push_back({std::string(as_view(k)), {std::move(*id), *state}});
    }
    if (auto err = scan_failed(rc, "mdb_cursor_get meta")) {
      return *err;
    }
  }
  std::string next_key;
  for (auto& [key, owner] : owners) {
    ++stats.owners_visited;
    auto before = owner.state.low_watermark;
    auto outcome =
        trim_owner(txn->get(), db, owner.id, owner.state, rule, max_deletes - stats.deleted);
    if (!outcome) {
      return outcome.error();
    }
    stats.deleted += outcome->deleted;
    if (owner.state.low_watermark != before) {
      if (auto err = detail::store_owner_state(txn->get(), db.meta, owner.id, owner.state)) {
        return *err;
      }
    }
    if (outcome->budget_hit) {
      next_key = key;  // this owner may have more to trim: resume with it
      end_of_bucket = false;
      break;
    }
    next_key = key + '\0';  // the smallest key after this owner's
  }
  if (auto err = txn->commit()) {
    return *err;
  }
  stats.pass_complete = end_of_bucket;
  cursor.next_key = end_of_bucket ? std::string() : std::move(next_key);
  return stats;
}

storage_result<uint64_t> oplog_store::expire_dedupe(uint64_t now_ms, size_t max_deletes) {
  auto txn = env_.begin_write();
  if (!txn) {
    return txn.error();
  }
  const auto& db = env_.handles();
  std::vector<std::string> expired;  // dedupe_exp keys, oldest first
  {
    MDB_cursor* raw = nullptr;
    if (int rc = mdb_cursor_open(txn->get(), db.dedupe_exp, &raw); rc != MDB_SUCCESS) {
      return from_mdb(rc, "mdb_cursor_open dedupe_exp");
    }
    cursor_ptr exp{raw};
    MDB_val k{};
    MDB_val v{};
    int rc = mdb_cursor_get(exp.get(), &k, &v, MDB_FIRST);
    for (; rc == MDB_SUCCESS && expired.size() < max_deletes;
         rc = mdb_cursor_get(exp.get(), &k, &v, MDB_NEXT)) {
      byte_reader in(as_view(k));
      if (auto at = in.u64(); !in.ok() || at > now_ms) {
        break;
      }
      expired.emplace_back(as_view(k));
    }
    if (auto err = scan_failed(rc, "mdb_cursor_get dedupe_exp")) {
      return *err;
    }
  }
  for (const auto& exp_key : expired) {
    auto at = byte_reader(exp_key).u64();
    auto key = exp_key.substr(8);
    MDB_val k = as_val(key);
    MDB_val v{};
    int rc = mdb_get(txn->get(), db.dedupe, &k, &v);
    if (rc == MDB_SUCCESS) {
      // Only the entry this index row was written for (a newer insert has its own row).
      if (auto value = decode_dedupe_value(as_view(v)); value && value->expires_at_ms == at) {
        if (rc = mdb_del(txn->get(), db.dedupe, &k, nullptr); rc != MDB_SUCCESS) {
          return from_mdb(rc, "mdb_del dedupe");
        }
      }
    } else if (rc != MDB_NOTFOUND) {
      return from_mdb(rc, "mdb_get dedupe");
    }
    MDB_val ek = as_val(exp_key);
    if (rc = mdb_del(txn->get(), db.dedupe_exp, &ek, nullptr); rc != MDB_SUCCESS) {
      return from_mdb(rc, "mdb_del dedupe_exp");
    }
  }
  if (auto err = txn->commit()) {
    return *err;
  }
  return static_cast<uint64_t>(expired.size());
}

}  // namespace tidegate::storage
