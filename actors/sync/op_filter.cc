#include "actors/sync/op_filter.h"

#include <algorithm>
#include <cstddef>
#include <string>

namespace tidegate::actors {
namespace {

bool is_decimal(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Compares two decimal strings of any length as numbers.
int compare_decimal(std::string_view a, std::string_view b) {
  auto strip = [](std::string_view s) {
    auto nonzero = s.find_first_not_of('0');
    return nonzero == std::string_view::npos ? std::string_view{} : s.substr(nonzero);
  };
  a = strip(a);
  b = strip(b);
  if (a.size() != b.size()) {
    return a.size() < b.size() ? -1 : 1;
  }
  int c = a.compare(b);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

// The part of `s` before the next '.', and `s` moved past it (and the dot).
std::string_view next_part(std::string_view& s) {
  auto dot = s.find('.');
  auto part = s.substr(0, dot);
  s = dot == std::string_view::npos ? std::string_view{} : s.substr(dot + 1);
  return part;
}

bool equal_ignoring_case(std::string_view a, std::string_view b) {
  auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [&](char x, char y) {
           return lower(x) == lower(y);
         });
}

}  // namespace

std::string_view app_version_of(std::string_view client_version) {
  auto slash = client_version.rfind('/');
  return slash == std::string_view::npos ? client_version : client_version.substr(slash + 1);
}

int compare_versions(std::string_view a, std::string_view b) {
  while (!a.empty() || !b.empty()) {
    auto pa = next_part(a);
    auto pb = next_part(b);
    if (pa.empty()) {
      pa = "0";
    }
    if (pb.empty()) {
      pb = "0";
    }
    int c = 0;
    if (is_decimal(pa) && is_decimal(pb)) {
      c = compare_decimal(pa, pb);
    } else {
      int t = pa.compare(pb);
      c = t < 0 ? -1 : (t > 0 ? 1 : 0);
    }
    if (c != 0) {
      return c;
    }
  }
  return 0;
}

bool op_matches(const storage::op_filters& filters, const client_facts& facts, uint64_t now_ms) {
  if (filters.valid_from_ms != 0 && now_ms < filters.valid_from_ms) {
    return false;
  }
  if (filters.valid_to_ms != 0 && now_ms > filters.valid_to_ms) {
    return false;
  }
  if (!filters.os.empty()
      && std::none_of(filters.os.begin(), filters.os.end(),
                      [&](const std::string& os) { return equal_ignoring_case(os, facts.os); })) {
    return false;
  }
  bool bounded = !filters.app_version_min.empty() || !filters.app_version_max.empty();
  if (bounded && facts.app_version.empty()) {
    return false;
  }
  if (!filters.app_version_min.empty()
      && compare_versions(facts.app_version, filters.app_version_min) < 0) {
    return false;
  }
  if (!filters.app_version_max.empty()
      && compare_versions(facts.app_version, filters.app_version_max) > 0) {
    return false;
  }
  if (!filters.uids.empty()
      && std::find(filters.uids.begin(), filters.uids.end(), facts.user_id) == filters.uids.end()) {
    return false;
  }
  // As decimal strings, so a uid past 64 bits is above any uid_max instead of unfiltered.
  if ((filters.uid_min != 0 || filters.uid_max != 0) && is_decimal(facts.user_id)) {
    if (compare_decimal(facts.user_id, std::to_string(filters.uid_min)) < 0) {
      return false;
    }
    if (filters.uid_max != 0
        && compare_decimal(facts.user_id, std::to_string(filters.uid_max)) > 0) {
      return false;
    }
  }
  return true;
}

bool op_deliverable(const storage::oplog_record& record, const client_facts& facts,
                    uint64_t now_ms) {
  if (record.expires_at_ms != 0 && now_ms >= record.expires_at_ms) {
    return false;
  }
  return !record.filters || op_matches(*record.filters, facts, now_ms);
}

}  // namespace tidegate::actors
