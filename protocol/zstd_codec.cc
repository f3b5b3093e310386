#include "protocol/zstd_codec.h"

#include <zdict.h>

namespace tidegate::protocol {
namespace {

// Contexts are large (~100 KiB+); one per thread instead of one per connection.
struct cctx_deleter {
  void operator()(ZSTD_CCtx* p) const { ZSTD_freeCCtx(p); }
};
struct dctx_deleter {
  void operator()(ZSTD_DCtx* p) const { ZSTD_freeDCtx(p); }
};

ZSTD_CCtx* thread_cctx() {
  thread_local std::unique_ptr<ZSTD_CCtx, cctx_deleter> ctx{ZSTD_createCCtx()};
  return ctx.get();
}

ZSTD_DCtx* thread_dctx() {
  thread_local std::unique_ptr<ZSTD_DCtx, dctx_deleter> ctx{ZSTD_createDCtx()};
  return ctx.get();
}

// A skippable frame decodes to nothing; no sender has a reason to send one.
bool is_skippable(std::string_view src) {
  if (src.size() < 4) {
    return false;
  }
  uint32_t magic = 0;
  for (int i = 3; i >= 0; --i) {
    magic = (magic << 8) | static_cast<uint8_t>(src[static_cast<size_t>(i)]);
  }
  return (magic & ZSTD_MAGIC_SKIPPABLE_MASK) == ZSTD_MAGIC_SKIPPABLE_START;
}

}  // namespace

std::shared_ptr<const zstd_dictionary> zstd_dictionary::load(std::string_view bytes, int level,
                                                             std::string& error) {
  unsigned id = ZDICT_getDictID(bytes.data(), bytes.size());
  if (id == 0) {
    error = "not a zstd dictionary (no dictionary id)";
    return nullptr;
  }
  auto dict = std::make_shared<zstd_dictionary>();
  dict->id_ = id;
  dict->cdict_.reset(ZSTD_createCDict(bytes.data(), bytes.size(), level));
  dict->ddict_.reset(ZSTD_createDDict(bytes.data(), bytes.size()));
  if (!dict->cdict_ || !dict->ddict_) {
    error = "zstd could not load the dictionary";
    return nullptr;
  }
  return dict;
}

void zstd_compress(std::string_view src, int level, const zstd_dictionary* dict, std::string& out) {
  size_t offset = out.size();
  out.resize(offset + ZSTD_compressBound(src.size()));
  size_t n = dict
                 ? ZSTD_compress_usingCDict(thread_cctx(), out.data() + offset, out.size() - offset,
                                            src.data(), src.size(), dict->cdict())
                 : ZSTD_compressCCtx(thread_cctx(), out.data() + offset, out.size() - offset,
                                     src.data(), src.size(), level);
  if (ZSTD_isError(n)) {
    // Only possible with a bad level or no memory; compressBound guarantees the room.
    out.resize(offset);
    out.append(src.data(), src.size());
    return;
  }
  out.resize(offset + n);
}

protocol_error zstd_decompress(std::string_view src, size_t max_size, const zstd_dictionary* dict,
                               std::string& out) {
  if (is_skippable(src)) {
    return {protocol_errc::bad_compression, "zstd skippable frame carries no payload"};
  }
  size_t frame_size = ZSTD_findFrameCompressedSize(src.data(), src.size());
  if (ZSTD_isError(frame_size)) {
    return {protocol_errc::bad_compression,
            std::string{"corrupt zstd frame: "} + ZSTD_getErrorName(frame_size)};
  }
  if (frame_size != src.size()) {
    return {protocol_errc::bad_compression, "bytes after the zstd frame"};
  }
  unsigned long long content = ZSTD_getFrameContentSize(src.data(), src.size());
  if (content == ZSTD_CONTENTSIZE_ERROR) {
    return {protocol_errc::bad_compression, "corrupt zstd frame header"};
  }
  if (content == ZSTD_CONTENTSIZE_UNKNOWN) {
    return {protocol_errc::bad_compression, "zstd frame without a content size"};
  }
  if (content > max_size) {
    return {protocol_errc::frame_too_large, "decompressed size " + std::to_string(content)
                                                + " over the maximum " + std::to_string(max_size)};
  }
  unsigned frame_dict = ZSTD_getDictID_fromFrame(src.data(), src.size());
  if (frame_dict != 0 && (dict == nullptr || frame_dict != dict->id())) {
    return {protocol_errc::bad_compression,
            "zstd frame uses unknown dictionary " + std::to_string(frame_dict)};
  }
  out.resize(static_cast<size_t>(content));
  size_t n =
      dict ? ZSTD_decompress_usingDDict(thread_dctx(), out.data(), out.size(), src.data(),
                                        src.size(), dict->ddict())
           : ZSTD_decompressDCtx(thread_dctx(), out.data(), out.size(), src.data(), src.size());
  if (ZSTD_isError(n) || n != content) {
    out.clear();
    return {protocol_errc::bad_compression,
            std::string{"corrupt zstd data: "}
                + (ZSTD_isError(n) ? ZSTD_getErrorName(n) : "size mismatch")};
  }
  return {};
}

}  // namespace tidegate::protocol
