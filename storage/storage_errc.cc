#include "storage/storage_errc.h"

#include <lmdb.h>

namespace tidegate::storage {

const char* to_string(storage_errc code) {
  switch (code) {
    case storage_errc::map_full:
      return "map_full";
    case storage_errc::not_found:
      return "not_found";
    case storage_errc::corrupt:
      return "corrupt";
    case storage_errc::io:
      return "io";
    case storage_errc::bad_record:
      return "bad_record";
    case storage_errc::other:
      return "other";
    case storage_errc::version_conflict:
      return "version_conflict";
  }
  return "unknown";
}

storage_error from_mdb(int rc, const std::string& what) {
  storage_errc code = storage_errc::other;
  switch (rc) {
    case MDB_MAP_FULL:
      code = storage_errc::map_full;
      break;
    case MDB_NOTFOUND:
      code = storage_errc::not_found;
      break;
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
    case MDB_INVALID:
    case MDB_VERSION_MISMATCH:
      code = storage_errc::corrupt;
      break;
    case MDB_BAD_VALSIZE:
      code = storage_errc::bad_record;
      break;
    default:
      // LMDB returns errno values (positive) for file system failures.
      if (rc > 0) {
        code = storage_errc::io;
      }
      break;
  }
  return storage_error{code, what + ": " + mdb_strerror(rc)};
}

}  // namespace tidegate::storage
