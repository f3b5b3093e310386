#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace tidegate::storage {

/// Why a storage call failed. The numbers may travel between nodes (inside a caf::error once
/// actors/ maps them): append only.
enum class storage_errc : uint8_t {
  map_full = 1,      ///< MDB_MAP_FULL (or a grow past max_map_size): nothing of the batch written.
  not_found,         ///< The key is not there (for callers that treat that as an error).
  corrupt,           ///< MDB_CORRUPTED, MDB_PAGE_NOTFOUND, a bad layout version or meta value.
  io,                ///< An errno from the file system (EIO, ENOSPC, EACCES...); see detail.
  bad_record,        ///< A record or key that does not decode, or is too large to store.
  other,             ///< Any other mdb_* code; the detail has mdb_strerror().
  version_conflict,  ///< An append that does not continue its owner's head: no gap, no reuse.
};

/// A failed storage call: the code and a detail for humans (logs, never parsed).
struct storage_error {
  storage_errc code = storage_errc::other;
  std::string detail;
};

/// The outcome of a call that returns nothing: `std::nullopt` on success.
using storage_status = std::optional<storage_error>;

/// A value or the storage_error that prevented it.
template <class T>
class storage_result {
 public:
  storage_result(T value) : v_(std::move(value)) {}              // NOLINT: implicit by design
  storage_result(storage_error error) : v_(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  /// The value; only when ok().
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  /// The error; only when !ok().
  const storage_error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, storage_error> v_;
};

/// A short lower_case name, e.g. "map_full" (metrics labels, logs).
const char* to_string(storage_errc code);

/// Maps an mdb_* return code (not MDB_SUCCESS) to a storage_error; `what` names the call.
storage_error from_mdb(int rc, const std::string& what);

}  // namespace tidegate::storage
