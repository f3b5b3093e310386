#include "actors/admin/metrics.h"

#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

namespace tidegate::actors {
namespace {

bool contains_line(const std::string& text, const std::string& line) {
  return ("\n" + text).find("\n" + line + "\n") != std::string::npos;
}

TEST(MetricsTest, ReasonsHaveLowerCaseNames) {
  EXPECT_STREQ(to_string(reject_reason::max_connections), "max_connections");
  EXPECT_STREQ(to_string(reject_reason::accept_rate), "accept_rate");
  EXPECT_STREQ(to_string(reject_reason::draining), "draining");
  EXPECT_STREQ(to_string(close_reason::peer_closed), "peer_closed");
  EXPECT_STREQ(to_string(close_reason::dead_connection), "dead_connection");
  EXPECT_STREQ(to_string(close_reason::crashed), "crashed");
  std::set<std::string> names;
  for (size_t i = 0; i < static_cast<size_t>(close_reason::count_); ++i) {
    names.insert(to_string(static_cast<close_reason>(i)));
  }
  EXPECT_EQ(names.size(), static_cast<size_t>(close_reason::count_));
  EXPECT_EQ(names.count("unknown"), 0u);
}

TEST(MetricsTest, RendersEveryCounterAndGaugeWithTheNodeLabel) {
  gateway_metrics m;
  m.connections = 3;
  m.authenticated = 2;
  m.accepts = 10;
  m.handshakes = 7;
  m.frames_in = 100;
  m.frames_out = 120;
  m.bytes_in = 4096;
  m.bytes_out = 8192;
  m.session_restarts = 1;
  m.reject(reject_reason::accept_rate);
  m.close(close_reason::dead_connection);
  m.close(close_reason::dead_connection);
  m.protocol_error(protocol::protocol_errc::frame_too_large);
  auto text = render_prometheus(m, "node-a", process_stats{1 << 20, 12, 1024});
  for (const char* line : {
           "# TYPE tidegate_connections gauge",
           R"(tidegate_connections{node="node-a"} 3)",
           R"(tidegate_authenticated_connections{node="node-a"} 2)",
           "# TYPE tidegate_accepts_total counter",
           R"(tidegate_accepts_total{node="node-a"} 10)",
           R"(tidegate_handshakes_total{node="node-a"} 7)",
           R"(tidegate_frames_in_total{node="node-a"} 100)",
           R"(tidegate_frames_out_total{node="node-a"} 120)",
           R"(tidegate_bytes_in_total{node="node-a"} 4096)",
           R"(tidegate_bytes_out_total{node="node-a"} 8192)",
           R"(tidegate_supervisor_restarts_total{node="node-a"} 1)",
           R"(tidegate_rejects_total{node="node-a",reason="accept_rate"} 1)",
           R"(tidegate_rejects_total{node="node-a",reason="max_connections"} 0)",
           R"(tidegate_closes_total{node="node-a",reason="dead_connection"} 2)",
           R"(tidegate_closes_total{node="node-a",reason="peer_closed"} 0)",
           R"(tidegate_protocol_errors_total{node="node-a",code="8001",name="frame_too_large"} 1)",
           R"(tidegate_protocol_errors_total{node="node-a",code="8011",name="bad_hello"} 0)",
           "# TYPE tidegate_process_resident_bytes gauge",
           R"(tidegate_process_resident_bytes{node="node-a"} 1048576)",
           R"(tidegate_process_open_fds{node="node-a"} 12)",
           R"(tidegate_process_max_fds{node="node-a"} 1024)",
       }) {
    EXPECT_TRUE(contains_line(text, line)) << line << "\nnot in:\n" << text;
  }
}

TEST(MetricsTest, OutputIsWellFormedTextFormat) {
  gateway_metrics m;
  auto text = render_prometheus(m, "node-a", process_stats{1, 2, 3});
  ASSERT_FALSE(text.empty());
  ASSERT_EQ(text.back(), '\n');
  const std::regex help{R"(# HELP (tidegate_[a-z_]+) [^\n]+)"};
  const std::regex type{R"(# TYPE (tidegate_[a-z_]+) (counter|gauge))"};
  const std::regex sample{
      R"((tidegate_[a-z_]+)\{node="node-a"(,[a-z_]+="[a-z0-9_]+")*\} -?[0-9]+)"};
  std::map<std::string, std::string> types;  // family -> type
  std::string current;
  std::istringstream lines{text};
  size_t samples = 0;
  for (std::string line; std::getline(lines, line);) {
    std::smatch match;
    if (std::regex_match(line, match, help)) {
      current = match[1];
      EXPECT_EQ(types.count(current), 0u) << "family twice: " << current;
    } else if (std::regex_match(line, match, type)) {
      EXPECT_EQ(match[1], current) << line;
      types[current] = match[2];
      EXPECT_EQ(match[2] == "counter",
                current.size() > 6 && current.compare(current.size() - 6, 6, "_total") == 0)
          << line;
    } else {
      ASSERT_TRUE(std::regex_match(line, match, sample)) << line;
      EXPECT_EQ(match[1], current) << line;
      ++samples;
    }
  }
  EXPECT_EQ(types.size(), 15u);
  // 9 single samples, 3 rejects, 11 closes, 8 protocol errors, 3 process gauges.
  EXPECT_EQ(samples, 9u + 3 + 11 + 8 + 3);
}

TEST(MetricsTest, NodeLabelIsEscaped) {
  gateway_metrics m;
  auto text = render_prometheus(m, "a\"b\\c\nd", process_stats{});
  EXPECT_TRUE(contains_line(text, R"(tidegate_connections{node="a\"b\\c\nd"} 0)")) << text;
}

TEST(MetricsTest, UnknownProcessValuesAreLeftOut) {
  gateway_metrics m;
  auto text = render_prometheus(m, "n", process_stats{});
  EXPECT_EQ(text.find("tidegate_process_"), std::string::npos);
}

TEST(MetricsTest, LiveProcessValuesAreRendered) {
  gateway_metrics m;
  auto text = render_prometheus(m, "n");
  EXPECT_NE(text.find("\ntidegate_process_resident_bytes{node=\"n\"} "), std::string::npos);
  EXPECT_NE(text.find("\ntidegate_process_open_fds{node=\"n\"} "), std::string::npos);
}

}  // namespace
}  // namespace tidegate::actors
