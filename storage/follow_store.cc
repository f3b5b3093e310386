#include "storage/follow_store.h"

#include "storage/byte_io.h"
#include "storage/lmdb_scan.h"

namespace tidegate::storage {

using detail::get_one;
using detail::scan;

storage_result<std::vector<std::pair<std::string, follow>>> follow_store::topics_of(
    uint16_t user_shard, const std::string& user, size_t limit) const {
  auto txn = env_.begin_read();
  if (!txn) {
    return txn.error();
  }
  auto prefix = follow_user_prefix(user_shard, user);
  std::vector<std::pair<std::string, follow>> out;
  bool corrupt = false;
  auto status = scan(txn->get(), env_.handles().follows, prefix, prefix, false,
                     [&](std::string_view k, std::string_view v) {
                       if (out.size() >= limit) {
                         return false;
                       }
                       auto topic = topic_after(k, prefix);
                       auto value = decode_follow(v);
                       if (!topic || !value) {
                         corrupt = true;
                         return false;
                       }
                       out.emplace_back(std::move(*topic), *value);
                       return true;
                     });
  if (status) {
    return *status;
  }
  if (corrupt) {
    return storage_error{storage_errc::corrupt, "malformed follow of " + user};
  }
  return out;
}

storage_result<std::optional<follow>> follow_store::follow_of(uint16_t user_shard,
                                                              const std::string& user,
                                                              const std::string& topic) const {
  return get_one<follow>(env_, env_.handles().follows, encode_follow_key(user_shard, user, topic),
                         decode_follow, "follow");
}

storage_result<topic_meta> follow_store::meta_of(uint16_t topic_shard,
                                                 const std::string& topic) const {
  auto meta = get_one<topic_meta>(env_, env_.handles().topic_meta,
                                  encode_topic_meta_key(topic_shard, topic), decode_topic_meta,
                                  "topic meta");
  if (!meta) {
    return meta.error();
  }
  return meta->value_or(topic_meta{});
}

storage_result<std::vector<table_put>> follow_store::shard_entries(delivery_table table,
                                                                   uint16_t shard) const {
  if (table != delivery_table::follows && table != delivery_table::topic_meta) {
    return storage_error{storage_errc::other, "not a table of the follow index"};
  }
  auto txn = env_.begin_read();
  if (!txn) {
    return txn.error();
  }
  std::string prefix;
  put_u16(shard, prefix);  // both tables' keys start with the shard
  auto dbi = table == delivery_table::follows ? env_.handles().follows : env_.handles().topic_meta;
  std::vector<table_put> out;
  auto status =
      scan(txn->get(), dbi, prefix, prefix, false, [&](std::string_view k, std::string_view v) {
        out.push_back({table, std::string{k}, std::string{v}});
        return true;
      });
  if (status) {
    return *status;
  }
  return out;
}

}  // namespace tidegate::storage
