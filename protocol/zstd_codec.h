#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <zstd.h>

#include "protocol/protocol_errc.h"

namespace tidegate::protocol {

/// A zstd dictionary loaded once and shared (immutable, thread-safe) by every codec that uses
/// it. `id()` is the dictionary id zstd writes into frames made with it.
class zstd_dictionary {
 public:
  /// Builds both the compression and decompression forms of `bytes`. Returns null with
  /// `error` set when `bytes` is not a zstd dictionary.
  static std::shared_ptr<const zstd_dictionary> load(std::string_view bytes, int level,
                                                     std::string& error);
  uint32_t id() const { return id_; }
  const ZSTD_CDict* cdict() const { return cdict_.get(); }
  const ZSTD_DDict* ddict() const { return ddict_.get(); }

 private:
  struct cdict_deleter {
    void operator()(ZSTD_CDict* p) const { ZSTD_freeCDict(p); }
  };
  struct ddict_deleter {
    void operator()(ZSTD_DDict* p) const { ZSTD_freeDDict(p); }
  };
  uint32_t id_ = 0;
  std::unique_ptr<ZSTD_CDict, cdict_deleter> cdict_;
  std::unique_ptr<ZSTD_DDict, ddict_deleter> ddict_;
};

/// Compresses `src` into one zstd frame (content size recorded in the frame header) and
/// appends it to `out`. Uses a per-thread context, so a codec needs no per-connection memory.
void zstd_compress(std::string_view src, int level, const zstd_dictionary* dict, std::string& out);

/// Decompresses exactly one zstd frame. Refuses, without allocating past `max_size`, a frame
/// whose content size is absent or over `max_size`, trailing bytes, corrupt data and a
/// dictionary id other than `dict`'s (or any when `dict` is null).
protocol_error zstd_decompress(std::string_view src, size_t max_size, const zstd_dictionary* dict,
                               std::string& out);

}  // namespace tidegate::protocol
