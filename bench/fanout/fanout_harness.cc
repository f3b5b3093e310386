#include "bench/fanout/fanout_harness.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "bench/fanout/completion_ring.h"
#include "bench/fanout/fanout_payload.h"
#include "bench/fanout/fanout_subscribers.h"
#include "bench/load/proc_stats.h"

namespace tidegate::bench {
namespace {

using steady = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr uint32_t max_threads = 64;
constexpr uint32_t max_window = 1 << 20;
constexpr uint32_t max_payload = 1 << 20;
constexpr uint32_t reserved_files = 64;      // the publisher, epoll sets, pipes to the server
constexpr auto max_wait = milliseconds{10};  // the publisher looks at the clock at least this often

steady::duration seconds_of(double s) {
  return std::chrono::duration_cast<steady::duration>(std::chrono::duration<double>{s});
}

int64_t ns_of(steady::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

}  // namespace

std::string check_fanout_options(const fanout_options& o) {
  if (o.subscribers == 0 || o.subscribers > max_fanout_subscribers) {
    return "subscribers must be 1.." + std::to_string(max_fanout_subscribers)
           + " (the open-files limit is 20,000 per process; run more processes for more)";
  }
  if (o.threads == 0 || o.threads > max_threads) {
    return "threads must be 1.." + std::to_string(max_threads);
  }
  if (o.window == 0 || o.window > max_window) {
    return "window must be 1.." + std::to_string(max_window);
  }
  if (o.payload_bytes < fanout_seq_digits || o.payload_bytes > max_payload) {
    return "payload_bytes must be " + std::to_string(fanout_seq_digits) + ".."
           + std::to_string(max_payload);
  }
  if (!(o.warmup_s >= 0) || !(o.duration_s > 0) || !(o.setup_timeout_s > 0)
      || !(o.drain_timeout_s >= 0) || !(o.message_timeout_s > 0) || o.connect_batch == 0) {
    return "durations must be positive (warmup and drain may be 0), connect_batch at least 1";
  }
  if (!(o.rate >= 0) || o.rate > 1e7) {
    return "rate must be 0 (unpaced) to 10,000,000 messages per second";
  }
  return {};
}

namespace {

double cpu_of(const std::vector<pid_t>& pids) {
  double sum = 0;
  for (auto pid : pids) {
    sum += cpu_seconds(pid).value_or(0);
  }
  return sum;
}

/// The counters at one instant of the run: the start and the end of the measured window.
struct sample {
  steady::time_point at;
  uint64_t deliveries = 0;
  uint64_t completed = 0;
  double server_cpu = 0;
  double harness_cpu = 0;
};

double percentile_ms(std::vector<int64_t>& ns, double q) {
  if (ns.empty()) {
    return 0;
  }
  auto k = static_cast<size_t>(q * static_cast<double>(ns.size() - 1));
  std::nth_element(ns.begin(), ns.begin() + static_cast<std::ptrdiff_t>(k), ns.end());
  return static_cast<double>(ns[k]) / 1e6;
}

/// The publishing loop of one run: owns the window, the clock and the samples.
class publish_loop {
 public:
  publish_loop(const fanout_options& o, const fanout_target& t, fanout_publisher& pub,
               completion_ring& ring, subscriber_pool& pool, fanout_result& r)
      : o_(o), target_(t), pub_(pub), ring_(ring), pool_(pool), r_(r) {}

  void run();
  const sample& first() const { return first_; }
  const sample& last() const { return last_; }
  bool measured() const { return sampled_last_; }

 private:
  sample take() const;
  bool step(steady::time_point now);
  void fail(std::string why) {
    if (r_.first_error.empty()) {
      r_.first_error = std::move(why);
    }
  }

  const fanout_options& o_;
  const fanout_target& target_;
  fanout_publisher& pub_;
  completion_ring& ring_;
  subscriber_pool& pool_;
  fanout_result& r_;
  steady::time_point start_;
  steady::time_point warm_end_;
  steady::time_point end_;
  steady::time_point drain_end_;
  uint64_t oldest_ = 0;  // every message before it is resolved
  std::string payload_;
  sample first_;
  sample last_;
  bool sampled_first_ = false;
  bool sampled_last_ = false;
};

sample publish_loop::take() const {
  return {steady::now(), pool_.deliveries(), ring_.completed(), cpu_of(target_.server_pids),
          cpu_seconds(::getpid()).value_or(0)};
}

void publish_loop::run() {
  auto start = steady::now();
  start_ = start;
  warm_end_ = start + seconds_of(o_.warmup_s);
  end_ = warm_end_ + seconds_of(o_.duration_s);
  drain_end_ = end_ + seconds_of(o_.drain_timeout_s);
  pool_.measure(ns_of(warm_end_), ns_of(end_));
  // Bounded: each step publishes or waits up to max_wait, and the loop ends at drain_end_.
  while (step(steady::now())) {
  }
  if (!sampled_last_ && sampled_first_) {  // stopped early: measure up to now
    last_ = take();
    sampled_last_ = true;
  }
}

bool publish_loop::step(steady::time_point now) {
  if (!sampled_first_ && now >= warm_end_) {
    first_ = take();
    sampled_first_ = true;
  }
  if (!sampled_last_ && now >= end_) {
    last_ = take();
    sampled_last_ = true;
  }
  if (pool_.failed()) {
    fail("a subscriber failed");  // its reason replaces this in run_fanout
    return false;
  }
  while (oldest_ < r_.published && ring_.resolved(oldest_)) {
    ++oldest_;
  }
  auto now_ns = ns_of(now);
  auto capacity = ring_.capacity();
  auto limit = pub_.max_unanswered();
  bool sending = now < end_ && r_.published < o_.max_messages;
  auto incomplete = [this] { return r_.published - ring_.completed() - r_.abandoned; };
  auto unanswered = [this] { return r_.published - pub_.accepted() - pub_.refused(); };
  // A message stuck longer than message_timeout_s is given up, so a loss cannot stall the run.
  if (oldest_ < r_.published
      && now_ns - ring_.sent_ns(oldest_)
             > std::chrono::nanoseconds{seconds_of(o_.message_timeout_s)}.count()
      && (!sending || incomplete() >= o_.window || r_.published - oldest_ >= capacity)) {
    if (ring_.abandon(oldest_)) {
      ++r_.abandoned;
    }
    ++oldest_;
    return true;
  }
  // With a rate, message n is due at start + n / rate.
  auto due = [this](uint64_t n) {
    return start_
           + std::chrono::duration_cast<steady::duration>(
               std::chrono::duration<double>(static_cast<double>(n) / o_.rate));
  };
  while (sending && incomplete() < o_.window && r_.published - oldest_ < capacity
         && (limit == 0 || unanswered() < limit) && (o_.rate <= 0 || due(r_.published) <= now)) {
    auto seq = r_.published;
    make_fanout_payload(seq, o_.payload_bytes, payload_);
    ring_.begin(seq, now_ns);
    if (!pub_.publish(seq, payload_)) {
      fail("publisher: " + pub_.error());
      return false;
    }
    ++r_.published;
  }
  bool answered = !pub_.answers_publishes() || unanswered() == 0;
  if (!sending && incomplete() == 0 && answered) {
    return false;
  }
  if (now >= drain_end_) {
    fail("drain timed out: " + std::to_string(incomplete()) + " messages incomplete, "
         + std::to_string(unanswered()) + " publishes unanswered");
    return false;
  }
  auto until = std::min(now + max_wait, drain_end_);
  if (sending && o_.rate > 0) {
    until = std::min(until, std::max(now, due(r_.published)));
  }
  for (auto t : {warm_end_, end_}) {
    if (t > now) {
      until = std::min(until, t);
    }
  }
  // Blocked on completions (a full window or ring, or the drain): wake once 1/8 of a full
  // window is free again, or the next message completed, or all did while draining. Else
  // blocked on the publisher's answers only: its socket wakes it. At the latest at `until`.
  bool on_completions =
      sending ? incomplete() >= o_.window || r_.published - oldest_ >= capacity : incomplete() > 0;
  if (!on_completions) {
    if (!pub_.pump(until, -1)) {
      fail("publisher: " + pub_.error());
      return false;
    }
    return true;
  }
  auto wake_at = ring_.completed() + 1;
  if (!sending) {
    wake_at = r_.published - r_.abandoned;
  } else if (incomplete() >= o_.window) {
    wake_at = r_.published - r_.abandoned - o_.window + std::max<uint64_t>(1, o_.window / 8);
  }
  ring_.arm(wake_at);
  bool ok = ring_.completed() >= wake_at ? pub_.pump(now, -1) : pub_.pump(until, ring_.wake_fd());
  ring_.disarm();
  ring_.clear_wake();
  if (!ok) {
    fail("publisher: " + pub_.error());
    return false;
  }
  return true;
}

}  // namespace

bool fanout_result::ok() const {
  return !skipped.empty()
         || (first_error.empty() && subscribers_ready == options.subscribers && published > 0
             && completed == published && lost == 0 && publish_refused == 0);
}

fanout_result run_fanout(const fanout_target& target, fanout_publisher& publisher,
                         const fanout_options& options) {
  fanout_result r;
  r.options = options;
  if (auto why = check_fanout_options(options); !why.empty()) {
    r.first_error = why;
    return r;
  }
  if (!target.make_codec || target.port == 0) {
    r.first_error = "no target: a port and a codec factory are needed";
    return r;
  }
  auto files = raise_open_files_limit();
  if (files < uint64_t{options.subscribers} + reserved_files) {
    r.first_error = "the open-files limit (" + std::to_string(files) + ") is too low for "
                    + std::to_string(options.subscribers) + " subscribers";
    return r;
  }
  auto threads = std::min(options.threads, options.subscribers);
  completion_ring ring{std::max<uint64_t>(uint64_t{4} * options.window, 1024), threads};
  auto setup_deadline = steady::now() + seconds_of(options.setup_timeout_s);
  auto hard_deadline =
      setup_deadline
      + seconds_of(options.warmup_s + options.duration_s + options.drain_timeout_s + 10);
  subscriber_pool pool{{target.port, target.make_codec, options.subscribers, threads,
                        options.connect_batch, setup_deadline, hard_deadline},
                       ring};
  while (pool.ready() < options.subscribers && !pool.failed() && steady::now() < setup_deadline) {
    std::this_thread::sleep_for(milliseconds{10});  // setup only; nothing is measured yet
  }
  r.subscribers_ready = pool.ready();
  if (r.subscribers_ready < options.subscribers && !pool.failed()) {
    r.first_error = std::to_string(r.subscribers_ready) + " of "
                    + std::to_string(options.subscribers) + " subscribers ready after "
                    + std::to_string(options.setup_timeout_s) + " s";
  }
  if (r.first_error.empty() && !pool.failed()) {
    if (auto why = publisher.start(setup_deadline); !why.empty()) {
      r.first_error = "publisher: " + why;
    }
  }
  publish_loop loop{options, target, publisher, ring, pool, r};
  if (r.first_error.empty() && !pool.failed()) {
    loop.run();
  }
  auto totals = pool.stop();
  if (!totals.first_error.empty()) {
    r.first_error = totals.first_error;  // the subscribers' own reason comes first
  }
  r.completed = ring.completed();
  r.deliveries = totals.deliveries;
  r.out_of_order = totals.out_of_order;
  r.gaps = totals.gaps;
  r.publish_accepted = publisher.accepted();
  r.publish_refused = publisher.refused();
  if (r.publish_refused > 0 && r.first_error.empty()) {
    r.first_error = "publisher: " + publisher.error();
  }
  auto expected = r.published * r.subscribers_ready;
  r.lost = expected > r.deliveries ? expected - r.deliveries : 0;
  if (loop.measured()) {
    const auto& a = loop.first();
    const auto& b = loop.last();
    r.seconds = std::chrono::duration<double>(b.at - a.at).count();
    r.measured_deliveries = b.deliveries - a.deliveries;
    r.measured_completed = b.completed - a.completed;
    r.server_cpu_s = std::max(0.0, b.server_cpu - a.server_cpu);  // 0 if the server died
    r.harness_cpu_s = b.harness_cpu - a.harness_cpu;
  }
  if (r.seconds > 0) {
    r.deliveries_per_s = static_cast<double>(r.measured_deliveries) / r.seconds;
    r.messages_per_s = static_cast<double>(r.measured_completed) / r.seconds;
  }
  if (r.measured_deliveries > 0) {
    r.server_cpu_s_per_million = r.server_cpu_s * 1e6 / static_cast<double>(r.measured_deliveries);
  }
  auto& lat = totals.latencies_ns;
  r.latency_samples = lat.size();
  r.latency_p50_ms = percentile_ms(lat, 0.50);
  r.latency_p99_ms = percentile_ms(lat, 0.99);
  r.latency_max_ms =
      lat.empty() ? 0 : static_cast<double>(*std::max_element(lat.begin(), lat.end())) / 1e6;
  return r;
}

}  // namespace tidegate::bench
