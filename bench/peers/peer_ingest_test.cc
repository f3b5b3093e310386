// Integration: a 1-second ingest against the real servers, when their Debian packages are
// installed (`./dev peers`); skipped otherwise.
#include "bench/peers/peer_ingest.h"

#include <gtest/gtest.h>

namespace tidegate::bench {
namespace {

void expect_a_clean_run(peer_kind kind) {
  const auto& spec = spec_of(kind);
  if (find_program(spec.program).empty()) {
    GTEST_SKIP() << spec.program << " is not installed (apt-get install -y " << spec.package << ")";
  }
  peer_ingest_options opts{/*duration_s=*/1, /*publishers=*/2, /*window=*/10,
                           /*payload_bytes=*/100, /*owners=*/10};
  auto r = run_peer_ingest(kind, opts);
  EXPECT_TRUE(r.skipped.empty());
  EXPECT_EQ(r.error, "");
  EXPECT_GT(r.acked_ops, 0u);
  EXPECT_EQ(r.failed_ops, 0u);
  EXPECT_EQ(r.unanswered_ops, 0u);
  EXPECT_GT(r.seconds, 0.9);
  EXPECT_GT(r.node_cpu_us_per_op(), 0.0);
  EXPECT_FALSE(r.version.empty());
  EXPECT_TRUE(r.ok());
}

TEST(PeerIngestTest, NatsJetStreamAcksPublishes) {
  expect_a_clean_run(peer_kind::nats);
}

TEST(PeerIngestTest, RedisAcksXadds) {
  expect_a_clean_run(peer_kind::redis);
}

}  // namespace
}  // namespace tidegate::bench
