#pragma once

#include <string>

#include <caf/atom.hpp>
#include <caf/error.hpp>
#include <caf/message.hpp>

#include "storage/storage_errc.h"

// storage_errc as a CAF error code (category "storage"). This is the only place that
// declares it: storage/ is a leaf without CAF, and a second CAF_ERROR_CODE_ENUM for the same
// enum would not compile.
CAF_ERROR_CODE_ENUM(tidegate::storage::storage_errc, "storage")

namespace tidegate::actors {

/// The caf::error for `err`: its code in category "storage", its detail as the context.
inline caf::error to_caf_error(const storage::storage_error& err) {
  return caf::make_error(err.code, err.detail);
}

/// Renders a "storage" error, e.g. "storage_error(map_full: mdb_txn_commit: ...)". For
/// `cfg.add_error_category(caf::atom("storage"), render_storage_error)`.
inline std::string render_storage_error(uint8_t code, caf::atom_value /*category*/,
                                        const caf::message& context) {
  std::string out = "storage_error(";
  out += storage::to_string(static_cast<storage::storage_errc>(code));
  if (context.size() == 1 && context.match_element<std::string>(0)) {
    out += ": ";
    out += context.get_as<std::string>(0);
  }
  out += ')';
  return out;
}

}  // namespace tidegate::actors
