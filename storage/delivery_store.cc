#include "storage/delivery_store.h"

#include "storage/lmdb_util.h"

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

// Calls `visit(key, value)` for each entry whose key starts with `prefix`, from the first key
// >= `from` (and > `from` when `exclusive`), until it returns false.
template <class Visit>
storage_status scan(MDB_txn* txn, MDB_dbi dbi, const std::string& prefix, const std::string& from,
                    bool exclusive, Visit visit) {
  auto cur = open_cursor(txn, dbi);
  if (!cur) {
    return cur.error();
  }
  MDB_val k = as_val(from);
  MDB_val v{};
  int rc = mdb_cursor_get(cur->get(), &k, &v, MDB_SET_RANGE);
  if (rc == MDB_SUCCESS && exclusive && as_view(k) == from) {
    rc = mdb_cursor_get(cur->get(), &k, &v, MDB_NEXT);
  }
  for (; rc == MDB_SUCCESS; rc = mdb_cursor_get(cur->get(), &k, &v, MDB_NEXT)) {
    if (!starts_with(as_view(k), prefix) || !visit(as_view(k), as_view(v))) {
      return std::nullopt;
    }
  }
  if (rc != MDB_NOTFOUND) {
    return from_mdb(rc, "mdb_cursor_get");
  }
  return std::nullopt;
}

template <class T, class Decode>
storage_result<std::optional<T>> get_one(const lmdb_env& env, MDB_dbi dbi, const std::string& key,
                                         Decode decode, const char* what) {
  auto txn = env.begin_read();
  if (!txn) {
    return txn.error();
  }
  MDB_val k = as_val(key);
  MDB_val v{};
  int rc = mdb_get(txn->get(), dbi, &k, &v);
  if (rc == MDB_NOTFOUND) {
    return std::optional<T>{};
  }
  if (rc != MDB_SUCCESS) {
    return from_mdb(rc, what);
  }
  auto value = decode(as_view(v));
  if (!value) {
    return storage_error{storage_errc::corrupt, std::string("malformed ") + what};
  }
  return std::optional<T>{*value};
}

}  // namespace

template <class T, class Decode>
storage_result<std::vector<std::pair<std::string, T>>> delivery_store::by_device(
    MDB_dbi dbi, const std::string& prefix, Decode decode, const std::string& what) const {
  auto txn = env_.begin_read();
  if (!txn) {
    return txn.error();
  }
  std::vector<std::pair<std::string, T>> out;
  bool corrupt = false;
  auto status =
      scan(txn->get(), dbi, prefix, prefix, false, [&](std::string_view k, std::string_view v) {
        auto device = device_after(k, prefix);
        auto value = decode(v);
        if (!device || !value) {
          corrupt = true;
          return false;
        }
        out.emplace_back(std::move(*device), *value);
        return true;
      });
  if (status) {
    return *status;
  }
  if (corrupt) {
    return storage_error{storage_errc::corrupt, "malformed " + what};
  }
  return out;
}

storage_result<std::optional<device_cursor>> delivery_store::cursor(
    uint16_t shard, uint8_t bucket, const std::string& owner, const std::string& device) const {
  return get_one<device_cursor>(env_, env_.handles().cursors,
                                encode_cursor_key(shard, bucket, owner, device), decode_cursor,
                                "cursor");
}

storage_result<std::vector<std::pair<std::string, device_cursor>>> delivery_store::cursors(
    uint16_t shard, uint8_t bucket, const std::string& owner) const {
  return by_device<device_cursor>(env_.handles().cursors, cursor_owner_prefix(shard, bucket, owner),
                                  decode_cursor, "cursor of " + owner);
}

storage_result<std::vector<std::pair<std::string, receipt>>> delivery_store::receipts(
    uint16_t shard, uint8_t bucket, const std::string& owner, uint64_t version) const {
  return by_device<receipt>(env_.handles().receipts,
                            receipt_op_prefix(shard, bucket, owner, version), decode_receipt,
                            "receipt of " + owner);
}

storage_result<std::optional<receipt>> delivery_store::receipt_of(uint16_t shard, uint8_t bucket,
                                                                  const std::string& owner,
                                                                  uint64_t version,
                                                                  const std::string& device) const {
  return get_one<receipt>(env_, env_.handles().receipts,
                          encode_receipt_key(shard, bucket, owner, version, device), decode_receipt,
                          "receipt");
}

storage_result<dead_letter_page> delivery_store::dead_letters(const std::string& business,
                                                              const std::string& after,
                                                              size_t limit) const {
  auto txn = env_.begin_read();
  if (!txn) {
    return txn.error();
  }
  auto prefix = dead_letter_business_prefix(business);
  dead_letter_page page;
  bool corrupt = false;
  bool full = false;
  std::string last;
  const auto& from = after.empty() ? prefix : after;
  auto status = scan(txn->get(), env_.handles().dead_letters, prefix, from, !after.empty(),
                     [&](std::string_view k, std::string_view v) {
                       if (page.letters.size() >= limit) {
                         full = true;
                         return false;
                       }
                       auto d = decode_dead_letter(k, v);
                       if (!d) {
                         corrupt = true;
                         return false;
                       }
                       page.letters.push_back(std::move(*d));
                       last.assign(k);
                       return true;
                     });
  if (status) {
    return *status;
  }
  if (corrupt) {
    return storage_error{storage_errc::corrupt, "malformed dead letter of " + business};
  }
  if (full) {
    page.next = last;
  }
  return page;
}

}  // namespace tidegate::storage
