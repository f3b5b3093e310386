#include "bench/load/connections_report.h"

#include <cstdint>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <thread>

namespace tidegate::bench {

using json = nlohmann::json;

std::string machine_line() {
  std::ifstream in{"/proc/cpuinfo"};
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      auto colon = line.find(':');
      return line.substr(colon + 2) + ", " + std::to_string(std::thread::hardware_concurrency())
             + " CPUs";
    }
  }
  return std::to_string(std::thread::hardware_concurrency()) + " CPUs";
}

void print_table(const json& r) {
  auto& out = std::cout;
  auto kib = [](double bytes) { return bytes / 1024.0; };
  out << std::fixed << std::setprecision(1);
  out << "tidegate bench connections: " << r["n"].get<uint32_t>() << " connections, "
      << r["workers"].get<uint32_t>() << " workers, hold " << r["hold_s"].get<uint32_t>()
      << " s, server pid " << r["server"]["pid"].get<int64_t>() << " at "
      << r["server"]["address"].get<std::string>() << "\n";
  out << "machine: " << r["machine"].get<std::string>() << "\n\n";
  out << std::left << std::setw(8) << "phase" << std::right << std::setw(9) << "ready"
      << std::setw(8) << "failed" << std::setw(9) << "timeouts" << std::setw(10) << "seconds"
      << std::setw(14) << "handshakes/s" << std::setw(12) << "p50 ms" << std::setw(12) << "p99 ms"
      << "\n";
  for (const auto& p : r["phases"]) {
    out << std::left << std::setw(8) << p["name"].get<std::string>() << std::right << std::setw(9)
        << p["ready"].get<int64_t>() << std::setw(8) << p["failed"].get<int64_t>() << std::setw(9)
        << p["timeouts"].get<int64_t>() << std::setw(10) << std::setprecision(3)
        << p["seconds"].get<double>() << std::setprecision(1) << std::setw(14)
        << p["handshakes_per_s"].get<double>() << std::setw(12)
        << p["latency_us"]["p50_worst_worker"].get<double>() / 1000.0 << std::setw(12)
        << p["latency_us"]["p99_worst_worker"].get<double>() / 1000.0 << "\n";
    for (const auto& w : p["workers"]) {
      if (w.contains("handshakes_per_s")) {
        out << "  worker " << w["index"].get<uint32_t>() << ": " << w["ready"].get<int64_t>() << "/"
            << w["connections"].get<uint32_t>() << " ready, " << w["handshakes_per_s"].get<double>()
            << " handshakes/s\n";
      }
    }
    if (p.contains("server_cpu_us_per_handshake")) {
      double us = p["server_cpu_us_per_handshake"].get<double>();
      out << "  server CPU " << std::setprecision(3) << p["server_cpu_s"].get<double>()
          << " s: " << std::setprecision(1) << us
          << " us per handshake (one core: " << (us > 0 ? 1e6 / us : 0.0) << " handshakes/s)\n";
    }
    if (!p["failure_reasons"].empty()) {
      out << "  failures: " << p["failure_reasons"].dump() << "\n";
    }
  }
  const auto& m = r["server_rss"];
  out << "\nserver RSS: before " << kib(m["before_bytes"].get<double>()) << " KiB, all ready "
      << kib(m["ready_bytes"].get<double>()) << " KiB, after the hold "
      << kib(m["idle_bytes"].get<double>()) << " KiB\n";
  out << "server RSS per connection: " << std::setprecision(0)
      << m["per_connection_bytes"].get<double>() << " bytes (" << std::setprecision(2)
      << m["per_connection_kib"].get<double>() << " KiB)\n";
  const auto& h = r["hold"];
  out << std::setprecision(3) << "server CPU over the " << h["seconds"].get<double>()
      << " s hold (after a " << h["settle_s"].get<double>()
      << " s settle): " << h["server_cpu_s"].get<double>()
      << " s = " << h["cpu_pct_of_one_core"].get<double>() << " % of one core, "
      << h["cpu_pct_per_1k_connections"].get<double>() << " % per 1k idle connections\n"
      << "  (node before any connection: " << h["baseline_cpu_pct_of_one_core"].get<double>()
      << " % of one core; net of that: " << h["cpu_pct_per_1k_connections_net"].get<double>()
      << " % per 1k)\n";
  out << "held: " << h["ready_at_start"].get<int64_t>() << " ready at the start of the hold, "
      << h["ready_at_end"].get<int64_t>() << " at the end\n";
  out << "client RSS: " << std::setprecision(0) << kib(r["client_rss_bytes"].get<double>())
      << " KiB over all workers\n";
  out << "result: " << (r["ok"].get<bool>() ? "ok" : "FAILED") << "\n";
}

}  // namespace tidegate::bench
