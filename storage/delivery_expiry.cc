// Expiry of delivery state (storage_writer only): receipts and dead letters older than their
// time to live. Like oplog_retention.cc: one write transaction per call, keys collected with a
// cursor that is closed before they are deleted, bounded visits per call.
#include "storage/byte_io.h"
#include "storage/delivery_records.h"
#include "storage/lmdb_util.h"
#include "storage/oplog_store.h"

namespace tidegate::storage {
namespace {

using detail::as_val;
using detail::as_view;

// Visits up to `max_visits` entries of `dbi` from `cursor.next_key` (wrapping to the start at
// the end), collecting those `expired(value)` says are; saves where the next call resumes.
template <class Expired>
storage_status collect(MDB_txn* txn, MDB_dbi dbi, size_t max_visits, std::string& next_key,
                       Expired expired, std::vector<std::string>& doomed) {
  MDB_cursor* raw = nullptr;
  if (int rc = mdb_cursor_open(txn, dbi, &raw); rc != MDB_SUCCESS) {
    return from_mdb(rc, "mdb_cursor_open delivery");
  }
  cursor_ptr cur{raw};
  MDB_val k = as_val(next_key);
  MDB_val v{};
  int rc = next_key.empty() ? mdb_cursor_get(cur.get(), &k, &v, MDB_FIRST)
                            : mdb_cursor_get(cur.get(), &k, &v, MDB_SET_RANGE);
  size_t visited = 0;
  for (; rc == MDB_SUCCESS && visited < max_visits;
       rc = mdb_cursor_get(cur.get(), &k, &v, MDB_NEXT), ++visited) {
    if (expired(as_view(k), as_view(v))) {
      doomed.emplace_back(as_view(k));
    }
  }
  if (rc == MDB_SUCCESS) {
    next_key.assign(as_view(k));  // resume here next time
  } else if (rc == MDB_NOTFOUND) {
    next_key.clear();  // a pass is complete: start over
  } else {
    return from_mdb(rc, "mdb_cursor_get delivery");
  }
  return std::nullopt;
}

}  // namespace

storage_result<uint64_t> oplog_store::expire_delivery(const delivery_expiry& rule,
                                                      size_t max_visits,
                                                      delivery_expiry_cursor& cursor) {
  auto txn = env_.begin_write();
  if (!txn) {
    return txn.error();
  }
  const auto& db = env_.handles();
  std::vector<std::string> receipts;
  std::vector<std::string> letters;
  auto receipt_expired = [&](std::string_view, std::string_view value) {
    auto r = decode_receipt(value);
    // A malformed one goes too: nothing reads it usefully.
    return !r || std::max(r->delivered_at_ms, r->acked_at_ms) < rule.receipts_before_ms;
  };
  auto letter_expired = [&](std::string_view key, std::string_view) {
    byte_reader in(key);
    in.str16();  // business
    auto dead_at = in.u64();
    return !in.ok() || dead_at < rule.dead_letters_before_ms;
  };
  if (auto err = collect(txn->get(), db.receipts, max_visits, cursor.receipts, receipt_expired,
                         receipts)) {
    return *err;
  }
  if (auto err = collect(txn->get(), db.dead_letters, max_visits, cursor.dead_letters,
                         letter_expired, letters)) {
    return *err;
  }
  if (receipts.empty() && letters.empty()) {
    return uint64_t{0};  // the read-only pass aborts its transaction
  }
  for (const auto& [dbi, keys] : {std::pair{db.receipts, &receipts}, {db.dead_letters, &letters}}) {
    for (const auto& key : *keys) {
      MDB_val k = as_val(key);
      if (int rc = mdb_del(txn->get(), dbi, &k, nullptr); rc != MDB_SUCCESS && rc != MDB_NOTFOUND) {
        return from_mdb(rc, "mdb_del delivery");
      }
    }
  }
  if (auto err = txn->commit()) {
    return *err;
  }
  return static_cast<uint64_t>(receipts.size() + letters.size());
}

}  // namespace tidegate::storage
