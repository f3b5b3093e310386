#pragma once

#include <string>
#include <string_view>

#include <lmdb.h>

#include "storage/keys.h"
#include "storage/lmdb_env.h"
#include "storage/storage_errc.h"

namespace tidegate::storage::detail {

// Helpers shared by oplog_store's .cc files; not part of the module's API.

inline MDB_val as_val(std::string_view s) {
  return MDB_val{s.size(), const_cast<char*>(s.data())};  // LMDB's API is not const-correct
}

inline std::string_view as_view(const MDB_val& v) {
  return {static_cast<const char*>(v.mv_data), v.mv_size};
}

inline bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

/// The owner's state in `txn` (the default state for an owner never written).
storage_result<owner_state> load_owner_state(MDB_txn* txn, MDB_dbi meta, const owner_id& id);

/// Writes the owner's state in `txn`.
storage_status store_owner_state(MDB_txn* txn, MDB_dbi meta, const owner_id& id,
                                 const owner_state& state);

}  // namespace tidegate::storage::detail

namespace tidegate::storage {
struct owner_truncate;
}

namespace tidegate::storage::detail {

/// Applies one owner_truncate in `txn` (oplog_truncate.cc).
storage_status apply_truncate(MDB_txn* txn, const dbis& db, const owner_truncate& t);

}  // namespace tidegate::storage::detail
