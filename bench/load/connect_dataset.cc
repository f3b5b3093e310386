#include "bench/load/connect_dataset.h"

#include <algorithm>
#include <array>
#include <random>
#include <utility>

namespace tidegate::bench {
namespace {

constexpr auto u = business_kind::user;
constexpr auto m = business_kind::multi_device;
constexpr auto d = business_kind::device;
constexpr auto o = business_kind::once;
constexpr auto g = business_kind::global;
// 26 user, 5 multi_device, 4 device, 3 once, 2 global; b0 is user, b1 global.
constexpr std::array<business_kind, 40> pattern{
    u, g, u, m, u, d, u, o, u, u, m, u, d, u, u, o, u, m, u, u,
    d, u, g, u, m, u, u, o, u, d, u, u, m, u, u, u, u, u, u, u,
};

}  // namespace

const char* to_string(business_kind kind) {
  switch (kind) {
    case business_kind::user:
      return "user";
    case business_kind::device:
      return "device";
    case business_kind::multi_device:
      return "multi_device";
    case business_kind::once:
      return "once";
    case business_kind::global:
      return "global";
  }
  return "user";
}

std::vector<bench_business> make_businesses(uint32_t n) {
  std::vector<bench_business> out;
  out.reserve(n);
  for (uint32_t i = 0; i < n; ++i) {
    out.push_back({"b" + std::to_string(i), pattern[i % pattern.size()]});
  }
  return out;
}

std::string businesses_toml(const std::vector<bench_business>& businesses, bool per_business) {
  std::string out;
  uint32_t id = first_own_bucket_id;
  for (const auto& b : businesses) {
    if (per_business) {
      out += "[[buckets]]\nname = \"" + b.name + "\"\nkind = \"" + to_string(b.kind)
             + "\"\nid = " + std::to_string(id++) + "\n\n";
    }
    out += "[[businesses]]\nname = \"" + b.name + "\"\nbucket = \""
           + (per_business ? b.name : std::string{to_string(b.kind)}) + "\"\n\n";
  }
  return out;
}

uint32_t bucket_count(size_t businesses, bool per_business) {
  return default_bucket_count + (per_business ? static_cast<uint32_t>(businesses) : 0);
}

std::set<std::string> once_buckets(const std::vector<bench_business>& businesses,
                                   bool per_business) {
  std::set<std::string> out{"once", "once_device"};
  for (const auto& b : businesses) {
    if (per_business && b.kind == business_kind::once) {
      out.insert(b.name);
    }
  }
  return out;
}

std::string user_of(uint32_t i) {
  return "u" + std::to_string(i);
}

std::string device_of(uint32_t i) {
  return "bench-connect-u" + std::to_string(i);
}

std::vector<bench_op> make_ops(const std::vector<bench_business>& businesses, uint32_t users,
                               const std::string& app_id, uint64_t seed) {
  std::vector<const bench_business*> pool;  // where user ops go
  std::vector<bench_op> out;
  for (const auto& b : businesses) {
    if (b.kind != business_kind::global) {
      pool.push_back(&b);
      continue;
    }
    for (uint32_t k = 0; k < global_ops; ++k) {
      out.push_back({b.name, b.kind, app_id, "g" + std::to_string(k)});
    }
  }
  auto per_user = std::min<size_t>(ops_per_user, pool.size());
  std::mt19937_64 random{seed};
  for (uint32_t i = 0; i < users; ++i) {
    // The first per_user entries of a partial Fisher-Yates shuffle: distinct businesses.
    for (size_t k = 0; k < per_user; ++k) {
      std::uniform_int_distribution<size_t> pick{k, pool.size() - 1};
      std::swap(pool[k], pool[pick(random)]);
      const auto& b = *pool[k];
      auto owner = b.kind == business_kind::device ? device_of(i) : user_of(i);
      out.push_back({b.name, b.kind, std::move(owner), user_of(i)});
    }
  }
  return out;
}

}  // namespace tidegate::bench
