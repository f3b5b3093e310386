#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <unordered_map>
#include <vector>

namespace tidegate::client {

/// A single-threaded epoll loop with a timer heap. Handlers and timer callbacks run on the
/// thread that calls run_once/run_until and may add or remove fds and timers, including their
/// own. Not thread-safe: one thread owns the loop and everything registered on it.
class event_loop {
 public:
  using clock = std::chrono::steady_clock;
  using timer_id = uint64_t;
  /// Called with the ready epoll events (EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP...).
  using fd_handler = std::function<void(uint32_t events)>;

  event_loop();
  ~event_loop();
  event_loop(const event_loop&) = delete;
  event_loop& operator=(const event_loop&) = delete;

  /// Watches `fd` (which the caller owns and keeps open until remove_fd) for `events`.
  /// Returns false with errno set if epoll refused it.
  bool add_fd(int fd, uint32_t events, fd_handler handler);
  /// Changes the events watched on a registered `fd`.
  bool modify_fd(int fd, uint32_t events);
  /// Stops watching `fd`; its handler is not called again, even for events already polled.
  void remove_fd(int fd);

  /// Runs `callback` once, at the earliest `delay` from now. Returns an id for cancel_timer.
  timer_id add_timer(clock::duration delay, std::function<void()> callback);
  /// Drops a pending timer; false if it already ran or was cancelled. Id 0 is never used.
  bool cancel_timer(timer_id id);

  /// Waits up to `max_wait` for events or the next timer, then runs what is ready. Timers
  /// added by callbacks during this call run in a later call. Returns how many ran.
  size_t run_once(clock::duration max_wait);
  /// Runs until `done()` is true (checked after every run_once) or `deadline` passes.
  /// Returns done().
  bool run_until(const std::function<bool()>& done, clock::time_point deadline);

  clock::time_point now() const { return clock::now(); }
  size_t fd_count() const { return fd_count_; }
  size_t timer_count() const { return timers_.size(); }

 private:
  struct fd_entry {
    uint32_t generation = 0;
    bool active = false;
    fd_handler handler;
  };
  struct heap_item {
    clock::time_point when;
    timer_id id;
    bool operator>(const heap_item& other) const {
      return when != other.when ? when > other.when : id > other.id;
    }
  };

  size_t run_timers();
  void compact_heap();

  int epoll_fd_ = -1;
  std::vector<fd_entry> fds_;  // indexed by fd
  size_t fd_count_ = 0;
  std::vector<heap_item> heap_;  // min-heap by (when, id); cancelled ids are skipped lazily
  std::unordered_map<timer_id, std::function<void()>> timers_;
  timer_id next_timer_ = 1;
};

}  // namespace tidegate::client
