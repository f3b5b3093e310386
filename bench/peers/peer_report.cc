#include "bench/peers/peer_report.h"

#include <iomanip>
#include <sstream>
#include <string>

namespace tidegate::bench {
namespace {

using json = nlohmann::json;

json ratio(double ours, double theirs) {
  return theirs > 0 ? json(ours / theirs) : json(nullptr);
}

std::string num(const json& v, int precision) {
  if (!v.is_number()) {
    return "-";
  }
  std::ostringstream s;
  s << std::fixed << std::setprecision(precision) << v.get<double>();
  return s.str();
}

}  // namespace

json peers_json(const std::vector<peer_result>& peers, const peer_ingest_options& opts,
                double our_ops_per_s, double our_cpu_us_per_op) {
  auto list = json::array();
  for (const auto& p : peers) {
    const auto& spec = spec_of(p.kind);
    json r{{"name", spec.name}, {"title", spec.title}, {"ok", p.ok()}};
    if (!p.skipped.empty()) {
      r["skipped"] = p.skipped + ": apt-get install -y " + spec.package;
      list.push_back(std::move(r));
      continue;
    }
    auto per_core = [&p](double cpu) { return p.seconds > 0 ? cpu / p.seconds * 100 : 0.0; };
    r.update({{"version", p.version},
              {"publishers", opts.publishers},
              {"window", opts.window},
              {"payload_bytes", opts.payload_bytes},
              {"owners", opts.owners},
              {"seconds", p.seconds},
              {"acked_ops", p.acked_ops},
              {"failed_ops", p.failed_ops},
              {"unanswered_ops", p.unanswered_ops},
              {"acked_ops_per_s", p.acked_ops_per_s()},
              {"node_cpu_s", p.node_cpu_s},
              {"node_cpu_pct_of_one_core", per_core(p.node_cpu_s)},
              {"node_cpu_us_per_op", p.node_cpu_us_per_op()},
              {"bench_cpu_pct_of_one_core", per_core(p.bench_cpu_s)},
              {"ratio", ratio(our_ops_per_s, p.acked_ops_per_s())},
              {"cpu_per_op_ratio", ratio(our_cpu_us_per_op, p.node_cpu_us_per_op())}});
    if (!p.error.empty()) {
      r["error"] = p.error;
    }
    list.push_back(std::move(r));
  }
  return list;
}

void print_peers_table(const json& peers, const json& ours, std::ostream& out) {
  auto row = [&out](const std::string& who, const std::string& ops, const std::string& us,
                    const std::string& node, const std::string& bench, const std::string& ratio,
                    const std::string& cpu_ratio) {
    out << "  " << std::left << std::setw(24) << who << std::right << std::setw(12) << ops
        << std::setw(12) << us << std::setw(10) << node << std::setw(10) << bench << std::setw(11)
        << ratio << std::setw(11) << cpu_ratio << "\n";
  };
  auto figures = [&row](const std::string& who, const json& r) {
    row(who, num(r["acked_ops_per_s"], 0), num(r["node_cpu_us_per_op"], 1),
        num(r["node_cpu_pct_of_one_core"], 0), num(r["bench_cpu_pct_of_one_core"], 0),
        num(r.value("ratio", json{}), 3), num(r.value("cpu_per_op_ratio", json{}), 2));
  };
  out << "\npeers: the same load (publishers, window = batch, payload, owners); ours / theirs\n";
  row("", "acked ops/s", "node us/op", "node %", "bench %", "ops/s", "us/op");
  for (const auto& p : peers) {
    auto title = p["title"].get<std::string>();
    if (p.contains("skipped")) {
      out << "  " << std::left << std::setw(24) << title << p["skipped"].get<std::string>() << "\n";
      continue;
    }
    auto version = p["version"].get<std::string>();
    if (auto eq = version.find("v="); eq != std::string::npos) {  // "Redis server v=7.0.15"
      title += " " + version.substr(eq + 2);
    } else if (auto v = version.find(" v"); v != std::string::npos) {  // "nats-server: v2.9.10"
      title += " " + version.substr(v + 2);
    }
    if (p["seconds"].get<double>() > 0) {
      figures(title, p);
    } else {
      out << "  " << title << "\n";  // failed before it measured anything
    }
    if (p.contains("error")) {
      out << "    FAILED: " << p["error"].get<std::string>() << "\n";
    } else if (!p["ok"].get<bool>()) {
      out << "    FAILED: " << p["failed_ops"].get<uint64_t>() << " failed, "
          << p["unanswered_ops"].get<uint64_t>() << " unanswered\n";
    }
  }
  figures("ours (ingest above)", ours);
  out << "  (% = CPU of one core: the peer's or our node's process, and this bench process)\n";
}

}  // namespace tidegate::bench
