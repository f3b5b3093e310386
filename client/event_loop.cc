#include "client/event_loop.h"

#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace tidegate::client {

namespace {

constexpr int max_events = 256;

uint64_t pack(int fd, uint32_t generation) {
  return (uint64_t{generation} << 32) | static_cast<uint32_t>(fd);
}

}  // namespace

event_loop::event_loop() : epoll_fd_(epoll_create1(EPOLL_CLOEXEC)) {
  if (epoll_fd_ < 0) {
    std::perror("tidegate: epoll_create1");
    std::abort();  // out of fds or memory at startup: nothing sensible to continue with
  }
}

event_loop::~event_loop() {
  ::close(epoll_fd_);
}

bool event_loop::add_fd(int fd, uint32_t events, fd_handler handler) {
  if (fd < 0) {
    return false;
  }
  if (static_cast<size_t>(fd) >= fds_.size()) {
    fds_.resize(static_cast<size_t>(fd) + 1);
  }
  auto& entry = fds_[static_cast<size_t>(fd)];
  if (entry.active) {
    return false;
  }
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = pack(fd, entry.generation + 1);
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
    return false;
  }
  ++entry.generation;
  entry.active = true;
  entry.handler = std::move(handler);
  ++fd_count_;
  return true;
}

bool event_loop::modify_fd(int fd, uint32_t events) {
  if (fd < 0 || static_cast<size_t>(fd) >= fds_.size() || !fds_[static_cast<size_t>(fd)].active) {
    return false;
  }
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = pack(fd, fds_[static_cast<size_t>(fd)].generation);
  return epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev) == 0;
}

void event_loop::remove_fd(int fd) {
  if (fd < 0 || static_cast<size_t>(fd) >= fds_.size() || !fds_[static_cast<size_t>(fd)].active) {
    return;
  }
  auto& entry = fds_[static_cast<size_t>(fd)];
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
  entry.active = false;
  entry.handler = nullptr;
  --fd_count_;
}

event_loop::timer_id event_loop::add_timer(clock::duration delay, std::function<void()> callback) {
  auto id = next_timer_++;
  heap_.push_back({clock::now() + std::max(delay, clock::duration::zero()), id});
  std::push_heap(heap_.begin(), heap_.end(), std::greater<>{});
  timers_.emplace(id, std::move(callback));
  return id;
}

bool event_loop::cancel_timer(timer_id id) {
  if (timers_.erase(id) == 0) {
    return false;
  }
  // Cancelled entries stay in the heap until popped; rebuild when they dominate it so a
  // connection that re-arms its timers on every frame does not grow the heap without bound.
  if (heap_.size() > 64 && heap_.size() > 4 * timers_.size()) {
    compact_heap();
  }
  return true;
}

void event_loop::compact_heap() {
  heap_.erase(std::remove_if(heap_.begin(), heap_.end(),
                             [this](const heap_item& item) { return timers_.count(item.id) == 0; }),
              heap_.end());
  std::make_heap(heap_.begin(), heap_.end(), std::greater<>{});
}

size_t event_loop::run_timers() {
  size_t ran = 0;
  auto now = clock::now();
  auto first_new = next_timer_;  // timers added by the callbacks below wait for the next call
  while (!heap_.empty() && heap_.front().when <= now) {
    auto item = heap_.front();
    if (timers_.count(item.id) != 0 && item.id >= first_new) {
      break;
    }
    std::pop_heap(heap_.begin(), heap_.end(), std::greater<>{});
    heap_.pop_back();
    auto it = timers_.find(item.id);
    if (it == timers_.end()) {
      continue;  // cancelled
    }
    auto callback = std::move(it->second);
    timers_.erase(it);
    callback();
    ++ran;
  }
  return ran;
}

size_t event_loop::run_once(clock::duration max_wait) {
  auto wait = std::max(max_wait, clock::duration::zero());
  while (!heap_.empty() && timers_.count(heap_.front().id) == 0) {
    std::pop_heap(heap_.begin(), heap_.end(), std::greater<>{});
    heap_.pop_back();
  }
  if (!heap_.empty()) {
    wait = std::min(wait, std::max(heap_.front().when - clock::now(), clock::duration::zero()));
  }
  // Round up: waking before the timer is due would spin until it is.
  auto ms = std::chrono::ceil<std::chrono::milliseconds>(wait).count();
  epoll_event events[max_events];
  int n =
      epoll_wait(epoll_fd_, events, max_events, static_cast<int>(std::min<int64_t>(ms, 1 << 30)));
  size_t ran = 0;
  for (int i = 0; i < n; ++i) {
    auto fd = static_cast<int>(events[i].data.u64 & 0xffffffffu);
    auto generation = static_cast<uint32_t>(events[i].data.u64 >> 32);
    if (static_cast<size_t>(fd) >= fds_.size()) {
      continue;
    }
    auto& entry = fds_[static_cast<size_t>(fd)];
    if (!entry.active || entry.generation != generation || !entry.handler) {
      continue;  // removed (maybe reused) by an earlier handler in this batch
    }
    // The handler may remove its own fd: keep it alive while it runs.
    auto handler = std::move(entry.handler);
    handler(events[i].events);
    auto& after = fds_[static_cast<size_t>(fd)];  // fds_ may have grown
    if (after.active && after.generation == generation && !after.handler) {
      after.handler = std::move(handler);
    }
    ++ran;
  }
  return ran + run_timers();
}

bool event_loop::run_until(const std::function<bool()>& done, clock::time_point deadline) {
  while (!done()) {
    auto now = clock::now();
    if (now >= deadline) {
      return false;
    }
    run_once(deadline - now);
  }
  return true;
}

}  // namespace tidegate::client
