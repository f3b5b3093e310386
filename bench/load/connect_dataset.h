#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

namespace tidegate::bench {

/// How a benchmark business is delivered: the name of the default bucket it maps to, and the
/// `kind` of the bucket of its own in the per-business baseline.
enum class business_kind : uint8_t { user, device, multi_device, once, global };

/// The bucket name and `kind` text of `kind` ("user", "device", ...).
const char* to_string(business_kind kind);

/// One business of `tidegate bench sync --scenario connect`.
struct bench_business {
  std::string name;  ///< b0, b1, ...
  business_kind kind;
};

/// One op to publish through the ingress.
struct bench_op {
  std::string business;
  business_kind kind;
  std::string owner;
  std::string msg_id;
};

/// The buckets every node has: user, device, multi_device, once, once_device, global.
constexpr uint32_t default_bucket_count = 6;
/// Ops per user, each in another business; global businesses get `global_ops` each instead.
constexpr uint32_t ops_per_user = 10;
constexpr uint32_t global_ops = 2;
/// The first bucket id of the per-business baseline's own buckets.
constexpr uint32_t first_own_bucket_id = 10;

/// Businesses b0..b(n-1), most on `user`: of every 40, 26 user, 5 multi_device, 4 device,
/// 3 once and 2 global, interleaved; at least one global and one user business when n >= 2.
std::vector<bench_business> make_businesses(uint32_t n);

/// The node config's [[buckets]] and [[businesses]]: each business on the default bucket of
/// its kind (bucketed), or on a bucket of its own, named after it, of the same kind, with ids
/// from first_own_bucket_id (the per-business baseline).
std::string businesses_toml(const std::vector<bench_business>& businesses, bool per_business);

/// The buckets a node configured by businesses_toml() has.
uint32_t bucket_count(size_t businesses, bool per_business);

/// The buckets of a node configured by businesses_toml() that delete acked ops: `once` and
/// `once_device`, and in the per-business baseline the own buckets of `once` businesses.
std::set<std::string> once_buckets(const std::vector<bench_business>& businesses,
                                   bool per_business);

/// The user id and device id of client `i` (what ops of each kind are owned by).
std::string user_of(uint32_t i);
std::string device_of(uint32_t i);

/// The same data for every run: for each of `users` users, one op in each of ops_per_user
/// distinct businesses drawn from the non-global ones (seeded), owned by the user or, for
/// `device`, the device; and global_ops ops per global business, owned by `app_id`.
std::vector<bench_op> make_ops(const std::vector<bench_business>& businesses, uint32_t users,
                               const std::string& app_id, uint64_t seed);

}  // namespace tidegate::bench
