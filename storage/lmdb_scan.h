#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <lmdb.h>

#include "storage/lmdb_env.h"
#include "storage/lmdb_util.h"

namespace tidegate::storage::detail {

// Read helpers shared by the stores' .cc files; not part of the module's API.

inline storage_result<cursor_ptr> open_cursor(MDB_txn* txn, MDB_dbi dbi) {
  MDB_cursor* raw = nullptr;
  if (int rc = mdb_cursor_open(txn, dbi, &raw); rc != MDB_SUCCESS) {
    return from_mdb(rc, "mdb_cursor_open");
  }
  return cursor_ptr{raw};
}

/// Calls `visit(key, value)` for each entry whose key starts with `prefix`, from the first key
/// >= `from` (and > `from` when `exclusive`), until it returns false.
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

/// The value of `key` in `dbi`, decoded; nullopt if absent, `corrupt` if `decode` refuses it.
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

}  // namespace tidegate::storage::detail
