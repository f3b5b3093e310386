#include "actors/admin/metrics.h"

#include <cstddef>
#include <string>
#include <string_view>

namespace tidegate::actors {
namespace {

// Label values escape backslash, double quote and newline (text format 0.0.4).
std::string escape_label(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

// Appends one metric family at a time; every sample carries the node label first.
class exposition {
 public:
  explicit exposition(const std::string& node)
      : node_label_("node=\"" + escape_label(node) + "\"") {}

  void family(std::string_view name, std::string_view type, std::string_view help) {
    name_ = name;
    out_.append("# HELP ").append(name).append(" ").append(help).append("\n");
    out_.append("# TYPE ").append(name).append(" ").append(type).append("\n");
  }

  /// A sample of the current family; `labels` is empty or `a="x",b="y"`, already escaped.
  template <class T>
  void sample(T value, std::string_view labels = {}) {
    out_.append(name_).append("{").append(node_label_);
    if (!labels.empty()) {
      out_.append(",").append(labels);
    }
    out_.append("} ").append(std::to_string(value)).append("\n");
  }

  std::string take() { return std::move(out_); }

 private:
  std::string node_label_;
  std::string name_;
  std::string out_;
};

uint64_t load(const gateway_metrics::counter& c) {
  return c.load(gateway_metrics::relaxed);
}

int64_t load(const gateway_metrics::gauge& g) {
  return g.load(gateway_metrics::relaxed);
}

}  // namespace

const char* to_string(reject_reason r) {
  switch (r) {
    case reject_reason::max_connections:
      return "max_connections";
    case reject_reason::accept_rate:
      return "accept_rate";
    case reject_reason::draining:
      return "draining";
    case reject_reason::count_:
      break;
  }
  return "unknown";
}

const char* to_string(close_reason r) {
  switch (r) {
    case close_reason::peer_closed:
      return "peer_closed";
    case close_reason::protocol_error:
      return "protocol_error";
    case close_reason::auth_failed:
      return "auth_failed";
    case close_reason::idle_timeout:
      return "idle_timeout";
    case close_reason::handshake_timeout:
      return "handshake_timeout";
    case close_reason::dead_connection:
      return "dead_connection";
    case close_reason::slow_reader:
      return "slow_reader";
    case close_reason::replaced:
      return "replaced";
    case close_reason::drained:
      return "drained";
    case close_reason::redirected:
      return "redirected";
    case close_reason::crashed:
      return "crashed";
    case close_reason::count_:
      break;
  }
  return "unknown";
}

std::string render_prometheus(const gateway_metrics& m, const std::string& node) {
  return render_prometheus(m, node, read_process_stats());
}

std::string render_prometheus(const gateway_metrics& m, const std::string& node,
                              const process_stats& process) {
  exposition out{node};
  out.family("tidegate_connections", "gauge", "Open client connections.");
  out.sample(load(m.connections));
  out.family("tidegate_authenticated_connections", "gauge", "Open client connections past AUTH.");
  out.sample(load(m.authenticated));
  out.family("tidegate_accepts_total", "counter", "Client connections accepted.");
  out.sample(load(m.accepts));
  out.family("tidegate_handshakes_total", "counter", "HELLO and AUTH handshakes completed.");
  out.sample(load(m.handshakes));
  out.family("tidegate_frames_in_total", "counter", "Frames received from clients.");
  out.sample(load(m.frames_in));
  out.family("tidegate_frames_out_total", "counter", "Frames sent to clients.");
  out.sample(load(m.frames_out));
  out.family("tidegate_bytes_in_total", "counter", "Bytes received from clients.");
  out.sample(load(m.bytes_in));
  out.family("tidegate_bytes_out_total", "counter", "Bytes sent to clients.");
  out.sample(load(m.bytes_out));
  out.family("tidegate_supervisor_restarts_total", "counter",
             "Supervised children restarted after a failure.");
  out.sample(load(m.session_restarts));
  out.family("tidegate_rejects_total", "counter",
             "Connections refused by the acceptor, by reason.");
  for (size_t i = 0; i < m.rejects.size(); ++i) {
    out.sample(load(m.rejects[i]),
               std::string{"reason=\""} + to_string(static_cast<reject_reason>(i)) + "\"");
  }
  out.family("tidegate_closes_total", "counter",
             "Client connections ended, by reason (dead_connection: unacked past the deadline).");
  for (size_t i = 0; i < m.closes.size(); ++i) {
    out.sample(load(m.closes[i]),
               std::string{"reason=\""} + to_string(static_cast<close_reason>(i)) + "\"");
  }
  out.family("tidegate_protocol_errors_total", "counter",
             "ERROR frames sent to clients, by wire code.");
  for (auto code = static_cast<size_t>(protocol::protocol_errc::frame_too_large);
       code <= static_cast<size_t>(protocol::protocol_errc::bad_hello); ++code) {
    auto errc = static_cast<protocol::protocol_errc>(code);
    out.sample(load(m.protocol_errors[code % m.protocol_errors.size()]),
               "code=\"" + std::to_string(static_cast<int>(protocol::to_wire(errc))) + "\",name=\""
                   + protocol::to_string(errc) + "\"");
  }
  if (process.resident_bytes >= 0) {
    out.family("tidegate_process_resident_bytes", "gauge", "Resident memory (VmRSS) in bytes.");
    out.sample(process.resident_bytes);
  }
  if (process.open_fds >= 0) {
    out.family("tidegate_process_open_fds", "gauge", "Open file descriptors.");
    out.sample(process.open_fds);
  }
  if (process.max_fds >= 0) {
    out.family("tidegate_process_max_fds", "gauge",
               "File descriptor limit (RLIMIT_NOFILE soft limit).");
    out.sample(process.max_fds);
  }
  return out.take();
}

}  // namespace tidegate::actors
