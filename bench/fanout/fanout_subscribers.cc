#include "bench/fanout/fanout_subscribers.h"

#include <sys/epoll.h>

#include <algorithm>
#include <array>
#include <utility>

#include "bench/fanout/fanout_socket.h"

namespace tidegate::bench {
namespace {

using steady = std::chrono::steady_clock;

constexpr size_t read_buffer_bytes = 64 * 1024;
constexpr int reads_per_event = 4;  // then the next connection's turn
constexpr int max_events = 256;
constexpr int epoll_wait_ms = 20;  // how often a thread looks at the clock and the stop flag

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(steady::now().time_since_epoch())
      .count();
}

/// One subscriber connection.
struct connection {
  unique_fd fd;
  std::unique_ptr<fanout_codec> codec;
  std::string out;  // owed to the server, not yet taken by the kernel
  bool connected = false;
  bool ready = false;
  bool want_write = false;  // EPOLLOUT is registered
  uint64_t next_seq = 0;    // the message expected next
};

}  // namespace

/// One thread's share: its connections, its epoll set and its counts. Only its thread touches
/// it until the thread is joined, except `deliveries_seen`.
struct subscriber_pool::worker final : fanout_sink {
  worker(subscriber_pool& pool, uint32_t first, uint32_t count)
      : pool(pool), first(first), conns(count), tally(pool.ring_.capacity(), count) {}

  void run();
  bool open_next();
  bool handle(uint32_t index, uint32_t events);
  bool update_interest(connection& c);
  void fail(std::string why);

  void on_ready() override {
    if (!current->ready) {
      current->ready = true;
      --handshaking;
      ++ready_here;
      pool.ready_.fetch_add(1);
    }
  }

  void on_message(uint64_t seq) override {
    ++deliveries;
    if (seq == current->next_seq) {
      ++current->next_seq;
    } else if (seq > current->next_seq) {
      gaps += seq - current->next_seq;
      current->next_seq = seq + 1;
    } else {
      ++out_of_order;
    }
    if (!tally.add(seq)) {
      return;
    }
    auto sent = pool.ring_.part_done(seq);
    if (sent && *sent >= pool.measure_from_.load(std::memory_order_relaxed)
        && *sent < pool.measure_to_.load(std::memory_order_relaxed)) {
      latencies_ns.push_back(now_ns() - *sent);
    }
  }

  void on_publish_reply(bool /*accepted*/, std::string_view /*error*/) override {
    fail("a subscriber connection got a publish reply");
  }

  subscriber_pool& pool;
  uint32_t first;  // the index of conns[0] among all subscribers
  std::vector<connection> conns;
  part_tally tally;
  unique_fd epoll;
  connection* current = nullptr;  // the connection whose bytes the codec is reading
  uint32_t opened = 0;
  uint32_t handshaking = 0;
  uint32_t ready_here = 0;
  uint64_t deliveries = 0;
  std::atomic<uint64_t> deliveries_seen{0};
  uint64_t out_of_order = 0;
  uint64_t gaps = 0;
  std::vector<int64_t> latencies_ns;
  std::string first_error;
};

void subscriber_pool::worker::fail(std::string why) {
  if (first_error.empty()) {
    first_error = std::move(why);
  }
  pool.failed_.store(true);
}

bool subscriber_pool::worker::open_next() {
  auto& c = conns[opened];
  auto index = first + opened;
  std::string error;
  c.fd = start_loopback_connect(pool.plan_.port, error);
  if (c.fd.get() < 0) {
    fail("subscriber " + std::to_string(index) + ": " + error);
    return false;
  }
  c.codec = pool.plan_.make_codec(index);
  c.codec->append_handshake(c.out);
  c.want_write = true;  // writable once connected
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT;
  ev.data.u32 = opened;
  if (::epoll_ctl(epoll.get(), EPOLL_CTL_ADD, c.fd.get(), &ev) != 0) {
    fail(errno_message("epoll_ctl"));
    return false;
  }
  ++opened;
  ++handshaking;
  return true;
}

bool subscriber_pool::worker::update_interest(connection& c) {
  bool want = !c.out.empty() || !c.connected;
  if (want == c.want_write) {
    return true;
  }
  epoll_event ev{};
  ev.events = EPOLLIN | (want ? EPOLLOUT : 0U);
  ev.data.u32 = static_cast<uint32_t>(&c - conns.data());
  if (::epoll_ctl(epoll.get(), EPOLL_CTL_MOD, c.fd.get(), &ev) != 0) {
    fail(errno_message("epoll_ctl"));
    return false;
  }
  c.want_write = want;
  return true;
}

bool subscriber_pool::worker::handle(uint32_t index, uint32_t events) {
  auto& c = conns[index];
  auto name = [this, index] { return "subscriber " + std::to_string(first + index) + ": "; };
  std::string error;
  if (!c.connected) {
    if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) == 0) {
      return true;
    }
    if (auto why = connect_error(c.fd.get()); !why.empty()) {
      fail(name() + why);
      return false;
    }
    c.connected = true;
  }
  if ((events & (EPOLLIN | EPOLLERR | EPOLLHUP)) != 0) {
    static thread_local std::array<char, read_buffer_bytes> buffer;
    for (int i = 0; i < reads_per_event; ++i) {
      size_t size = 0;
      auto status = recv_some(c.fd.get(), buffer.data(), buffer.size(), size, error);
      if (status == recv_status::again) {
        break;
      }
      if (status == recv_status::closed) {
        fail(name() + error);
        return false;
      }
      current = &c;
      if (!c.codec->consume(std::string_view{buffer.data(), size}, *this, c.out)) {
        fail(name() + c.codec->error());
        return false;
      }
      if (size < buffer.size()) {
        break;
      }
    }
  }
  if (!c.out.empty() && !send_some(c.fd.get(), c.out, error)) {
    fail(name() + error);
    return false;
  }
  return update_interest(c);
}

void subscriber_pool::worker::run() {
  epoll = unique_fd{::epoll_create1(EPOLL_CLOEXEC)};
  if (epoll.get() < 0) {
    fail(errno_message("epoll_create1"));
    return;
  }
  const auto& plan = pool.plan_;
  std::array<epoll_event, max_events> events{};
  while (!pool.stop_.load(std::memory_order_relaxed) && !pool.failed_.load()) {
    auto now = steady::now();
    if (now >= plan.hard_deadline) {
      return;
    }
    if (ready_here < conns.size()) {
      if (now >= plan.setup_deadline) {
        fail(std::to_string(conns.size() - ready_here) + " of " + std::to_string(conns.size())
             + " subscribers of a thread not ready by the setup deadline");
        return;
      }
      while (opened < conns.size() && handshaking < plan.connect_batch) {
        if (!open_next()) {
          return;
        }
      }
    }
    int n = ::epoll_wait(epoll.get(), events.data(), max_events, epoll_wait_ms);
    for (int i = 0; i < n; ++i) {
      if (!handle(events[i].data.u32, events[i].events)) {
        return;
      }
    }
    deliveries_seen.store(deliveries, std::memory_order_relaxed);
  }
}

subscriber_pool::subscriber_pool(subscriber_plan plan, completion_ring& ring)
    : plan_(std::move(plan)), ring_(ring) {
  auto threads = std::clamp<uint32_t>(plan_.threads, 1, std::max<uint32_t>(plan_.subscribers, 1));
  uint32_t first = 0;
  for (uint32_t t = 0; t < threads; ++t) {
    uint32_t count = plan_.subscribers / threads + (t < plan_.subscribers % threads ? 1 : 0);
    if (count > 0) {
      workers_.push_back(std::make_unique<worker>(*this, first, count));
    }
    first += count;
  }
  threads_.reserve(workers_.size());
  for (auto& w : workers_) {
    threads_.emplace_back([&w] { w->run(); });
  }
}

subscriber_pool::~subscriber_pool() {
  stop();
}

void subscriber_pool::measure(int64_t from_ns, int64_t to_ns) {
  measure_from_.store(from_ns, std::memory_order_relaxed);
  measure_to_.store(to_ns, std::memory_order_relaxed);
}

uint64_t subscriber_pool::deliveries() const {
  uint64_t sum = 0;
  for (const auto& w : workers_) {
    sum += w->deliveries_seen.load(std::memory_order_relaxed);
  }
  return sum;
}

subscriber_totals subscriber_pool::stop() {
  stop_.store(true);
  for (auto& t : threads_) {
    if (t.joinable()) {
      t.join();
    }
  }
  subscriber_totals totals;
  for (auto& w : workers_) {
    totals.deliveries += w->deliveries;
    totals.out_of_order += w->out_of_order;
    totals.gaps += w->gaps;
    totals.latencies_ns.insert(totals.latencies_ns.end(), w->latencies_ns.begin(),
                               w->latencies_ns.end());
    if (totals.first_error.empty()) {
      totals.first_error = w->first_error;
    }
    w->latencies_ns.clear();
  }
  return totals;
}

}  // namespace tidegate::bench
