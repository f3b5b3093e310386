#include "storage/oplog_record.h"

#include <limits>

#include "storage/byte_io.h"

namespace tidegate::storage {
namespace {

constexpr uint8_t has_filters = 0x01;
constexpr uint8_t has_push = 0x02;
constexpr size_t max_str16 = std::numeric_limits<uint16_t>::max();
constexpr size_t max_list = std::numeric_limits<uint8_t>::max();

// Collects the first field that does not fit, so encode reports one clear reason.
struct writer {
  std::string out;
  std::string error;

  void str16(const std::string& s, const char* field) {
    if (s.size() > max_str16) {
      fail(field);
      return;
    }
    put_u16(static_cast<uint16_t>(s.size()), out);
    out.append(s);
  }
  void list(const std::vector<std::string>& items, const char* field) {
    if (items.size() > max_list) {
      fail(field);
      return;
    }
    put_u8(static_cast<uint8_t>(items.size()), out);
    for (const auto& item : items) {
      str16(item, field);
    }
  }
  void fail(const char* field) {
    if (error.empty()) {
      error = std::string("record field too long: ") + field;
    }
  }
};

std::vector<std::string> read_list(byte_reader& in) {
  std::vector<std::string> items;
  auto n = in.u8();
  for (uint8_t i = 0; i < n && in.ok(); ++i) {
    items.push_back(in.str16());
  }
  return items;
}

storage_error bad(std::string detail) {
  return storage_error{storage_errc::bad_record, std::move(detail)};
}

}  // namespace

bool operator==(const op_filters& a, const op_filters& b) {
  return a.os == b.os && a.app_version_min == b.app_version_min
         && a.app_version_max == b.app_version_max && a.valid_from_ms == b.valid_from_ms
         && a.valid_to_ms == b.valid_to_ms && a.uids == b.uids && a.uid_min == b.uid_min
         && a.uid_max == b.uid_max;
}

bool operator==(const push_display& a, const push_display& b) {
  return a.title == b.title && a.body == b.body && a.action == b.action;
}

bool operator==(const oplog_record& a, const oplog_record& b) {
  return a.bucket == b.bucket && a.owner == b.owner && a.version == b.version
         && a.business == b.business && a.payload == b.payload && a.msg_id == b.msg_id
         && a.created_at_ms == b.created_at_ms && a.expires_at_ms == b.expires_at_ms
         && a.filters == b.filters && a.push == b.push;
}

storage_result<std::string> encode_record(const oplog_record& r) {
  if (r.payload.size() > max_payload_size) {
    return bad("record payload too large");
  }
  writer w;
  w.out.reserve(64 + r.owner.size() + r.business.size() + r.msg_id.size() + r.payload.size());
  put_u8(record_format_v1, w.out);
  put_u8(static_cast<uint8_t>((r.filters ? has_filters : 0) | (r.push ? has_push : 0)), w.out);
  put_u8(r.bucket, w.out);
  put_u64(r.version, w.out);
  put_u64(r.created_at_ms, w.out);
  put_u64(r.expires_at_ms, w.out);
  w.str16(r.owner, "owner");
  w.str16(r.business, "business");
  w.str16(r.msg_id, "msg_id");
  put_u32(static_cast<uint32_t>(r.payload.size()), w.out);
  w.out.append(r.payload);
  if (r.filters) {
    const auto& f = *r.filters;
    w.list(f.os, "filters.os");
    w.str16(f.app_version_min, "filters.app_version_min");
    w.str16(f.app_version_max, "filters.app_version_max");
    put_u64(f.valid_from_ms, w.out);
    put_u64(f.valid_to_ms, w.out);
    w.list(f.uids, "filters.uids");
    put_u64(f.uid_min, w.out);
    put_u64(f.uid_max, w.out);
  }
  if (r.push) {
    w.str16(r.push->title, "push.title");
    w.str16(r.push->body, "push.body");
    w.str16(r.push->action, "push.action");
  }
  if (!w.error.empty()) {
    return bad(std::move(w.error));
  }
  return std::move(w.out);
}

storage_result<oplog_record> decode_record(std::string_view bytes) {
  byte_reader in(bytes);
  if (auto format = in.u8(); format != record_format_v1) {
    return bad(in.ok() ? "unknown record format " + std::to_string(format) : "empty record");
  }
  auto flags = in.u8();
  if ((flags & ~(has_filters | has_push)) != 0) {
    return bad("reserved record flag bits set");
  }
  oplog_record r;
  r.bucket = in.u8();
  r.version = in.u64();
  r.created_at_ms = in.u64();
  r.expires_at_ms = in.u64();
  r.owner = in.str16();
  r.business = in.str16();
  r.msg_id = in.str16();
  auto payload_size = in.u32();
  if (payload_size > max_payload_size) {
    return bad("record payload length too large");
  }
  r.payload = std::string(in.bytes(payload_size));
  if ((flags & has_filters) != 0) {
    op_filters f;
    f.os = read_list(in);
    f.app_version_min = in.str16();
    f.app_version_max = in.str16();
    f.valid_from_ms = in.u64();
    f.valid_to_ms = in.u64();
    f.uids = read_list(in);
    f.uid_min = in.u64();
    f.uid_max = in.u64();
    r.filters = std::move(f);
  }
  if ((flags & has_push) != 0) {
    push_display p;
    p.title = in.str16();
    p.body = in.str16();
    p.action = in.str16();
    r.push = std::move(p);
  }
  if (!in.ok()) {
    return bad("truncated record");
  }
  if (!in.done()) {
    return bad("trailing bytes after record");
  }
  return r;
}

}  // namespace tidegate::storage
