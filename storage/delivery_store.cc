#include "storage/delivery_store.h"

#include "storage/lmdb_scan.h"

namespace tidegate::storage {

using detail::as_view;
using detail::get_one;
using detail::scan;

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
