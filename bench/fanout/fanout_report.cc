#include "bench/fanout/fanout_report.h"

#include <iomanip>

namespace tidegate::bench {

nlohmann::json fanout_json(const fanout_result& r) {
  const auto& o = r.options;
  nlohmann::json j{{"system", r.system}, {"ok", r.ok()}};
  if (!r.skipped.empty()) {
    j["skipped"] = r.skipped;
    return j;
  }
  j.update({{"version", r.version},
            {"subscribers", o.subscribers},
            {"threads", o.threads},
            {"window", o.window},
            {"rate", o.rate},
            {"payload_bytes", o.payload_bytes},
            {"warmup_s", o.warmup_s},
            {"duration_s", o.duration_s},
            {"subscribers_ready", r.subscribers_ready},
            {"seconds", r.seconds},
            {"published", r.published},
            {"completed", r.completed},
            {"abandoned", r.abandoned},
            {"deliveries", r.deliveries},
            {"lost", r.lost},
            {"out_of_order", r.out_of_order},
            {"gaps", r.gaps},
            {"publish_accepted", r.publish_accepted},
            {"publish_refused", r.publish_refused},
            {"measured_deliveries", r.measured_deliveries},
            {"measured_completed", r.measured_completed},
            {"deliveries_per_s", r.deliveries_per_s},
            {"messages_per_s", r.messages_per_s},
            {"latency_samples", r.latency_samples},
            {"latency_p50_ms", r.latency_p50_ms},
            {"latency_p99_ms", r.latency_p99_ms},
            {"latency_max_ms", r.latency_max_ms},
            {"server_cpu_s", r.server_cpu_s},
            {"server_cpu_s_per_million", r.server_cpu_s_per_million},
            {"harness_cpu_s", r.harness_cpu_s}});
  if (!r.first_error.empty()) {
    j["error"] = r.first_error;
  }
  return j;
}

void print_fanout_result(const fanout_result& r, std::ostream& out) {
  const auto& o = r.options;
  out << r.system;
  if (!r.version.empty()) {
    out << " (" << r.version << ")";
  }
  out << "\n";
  if (!r.skipped.empty()) {
    out << "  skipped: " << r.skipped << "\n";
    return;
  }
  auto flags = out.flags();
  out << std::fixed << std::setprecision(2);
  out << "  " << r.subscribers_ready << "/" << o.subscribers << " subscribers, window " << o.window;
  if (o.rate > 0) {
    out << ", " << o.rate << " messages/s";
  }
  out << ", " << o.payload_bytes << " B, " << r.seconds << " s measured\n";
  out << "  " << std::setprecision(0) << r.deliveries_per_s << " deliveries/s (" << r.messages_per_s
      << " messages/s)\n";
  out << "  latency p50 " << std::setprecision(2) << r.latency_p50_ms << " ms, p99 "
      << r.latency_p99_ms << " ms, max " << r.latency_max_ms << " ms (" << r.latency_samples
      << " messages)\n";
  out << "  server CPU " << r.server_cpu_s << " s = " << r.server_cpu_s_per_million
      << " s per million deliveries; harness CPU " << r.harness_cpu_s << " s\n";
  out << "  published " << r.published << ", completed " << r.completed << ", lost " << r.lost
      << ", abandoned " << r.abandoned << ", out of order " << r.out_of_order << "\n";
  if (!r.first_error.empty()) {
    out << "  FAILED: " << r.first_error << "\n";
  }
  out.flags(flags);
}

}  // namespace tidegate::bench
