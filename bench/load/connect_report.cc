#include "bench/load/connect_report.h"

#include <iomanip>
#include <iostream>
#include <sstream>
#include <string>

namespace tidegate::bench {
namespace {

using json = nlohmann::json;

std::string num(double v, int precision) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(precision) << v;
  return s.str();
}

std::string pct(const json& ratio) {
  return ratio.is_number() ? num(ratio.get<double>() * 100, 1) + " %" : "n/a";
}

}  // namespace

void print_connect_table(const json& report) {
  auto& out = std::cout;
  out << "tidegate bench sync: machine " << report["machine"].get<std::string>() << "\n";
  const auto& s = report["scenarios"][0];
  out << "\nconnect: " << s["clients"].get<uint32_t>() << " clients x "
      << s["rounds"].get<uint32_t>() << " rounds (after a warm-up round), "
      << s["businesses"].get<uint32_t>() << " businesses, " << s["ops_per_user"].get<uint32_t>()
      << " ops per user + " << s["ops_per_global_business"].get<uint32_t>()
      << " per global business, " << s["payload_bytes"].get<uint32_t>()
      << " B payloads, durability " << s["durability"].get<std::string>() << ", "
      << s["in_flight"].get<uint32_t>() << " clients in flight, sync key "
      << s["sync_key"].get<std::string>() << "\n";
  const auto& runs = s["runs"];
  auto row = [&runs](const std::string& what, const auto& cell) {
    std::cout << "  " << std::left << std::setw(36) << what << std::right;
    for (const auto& r : runs) {
      std::cout << std::setw(14) << cell(r);
    }
    std::cout << "\n";
  };
  out << "  " << std::setw(36) << "";
  for (const auto& r : runs) {
    out << std::setw(14) << r["name"].get<std::string>();
  }
  out << "\n";
  row("buckets (reads per SYNC_REQ)",
      [](const json& r) { return std::to_string(r["buckets"].get<uint32_t>()); });
  row("ops published", [](const json& r) {
    return std::to_string(r["acked_ops"].get<uint64_t>()) + "/"
           + std::to_string(r["published_ops"].get<uint64_t>());
  });
  row("connects/s (sync on)",
      [](const json& r) { return num(r["sync"]["connects_per_s"].get<double>(), 0); });
  row("SYNC_DATA frames per connect",
      [](const json& r) { return num(r["sync_data_frames_per_connect"].get<double>(), 1); });
  row("ops per connect",
      [](const json& r) { return num(r["sync"]["ops_per_connect"].get<double>(), 1); });
  row("node CPU us per connect",
      [](const json& r) { return num(r["node_cpu_us_per_connect"].get<double>(), 0); });
  row("  handshake only (sync off)",
      [](const json& r) { return num(r["handshake_node_cpu_us_per_connect"].get<double>(), 0); });
  row("  sync only",
      [](const json& r) { return num(r["sync_node_cpu_us_per_connect"].get<double>(), 0); });
  row("warm-up round: node CPU us/connect", [](const json& r) {
    return num(r["sync"]["warm_up_node_cpu_us_per_connect"].get<double>(), 0);
  });
  row("bench CPU us per connect", [](const json& r) {
    const auto& p = r["sync"];
    auto connects = p["connects"].get<double>();
    return num(connects > 0 ? p["bench_cpu_s"].get<double>() * 1e6 / connects : 0.0, 0);
  });
  row("failed connects (sync on / off)", [](const json& r) {
    return std::to_string(r["sync"]["failed"].get<uint32_t>()) + " / "
           + std::to_string(r["handshake"]["failed"].get<uint32_t>());
  });
  for (const auto& r : runs) {
    if (r.contains("first_error")) {
      out << "  first error (" << r["name"].get<std::string>()
          << "): " << r["first_error"].get<std::string>() << "\n";
    }
  }
  out << "  ratio bucketed / per-business: sync only " << pct(s["ratio_sync_only"])
      << " (target <= " << pct(s["target_ratio"]) << ": "
      << (s["target_met"].get<bool>() ? "met" : "NOT met") << "), total " << pct(s["ratio_total"])
      << ", SYNC_DATA frames " << pct(s["ratio_sync_data_frames"]) << "\n";
  auto tick = s["cpu_tick_s"].get<double>();
  for (const auto& r : runs) {
    if (r["sync"]["node_cpu_s"].get<double>() < 100 * tick
        || r["handshake"]["node_cpu_s"].get<double>() < 10 * tick) {
      out << "  note: the " << r["name"].get<std::string>() << " node used only "
          << num(r["handshake"]["node_cpu_s"].get<double>() / tick, 0) << " / "
          << num(r["sync"]["node_cpu_s"].get<double>() / tick, 0)
          << " CPU ticks (sync off / on): raise --clients or --rounds for a stable figure\n";
    }
  }
  out << "  result: " << (s["ok"].get<bool>() ? "ok" : "FAILED") << "\n";
}

}  // namespace tidegate::bench
