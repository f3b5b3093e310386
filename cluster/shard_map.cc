#include "cluster/shard_map.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>
#include <caf/sec.hpp>

namespace tidegate::cluster {
namespace {

constexpr char magic_prefix[] = {'T', 'G', 'S', 'M'};
// Format 3 adds shard_owner::learner (decision 0020). Formats 1 (before moves, draining and
// zone rules) and 2 (before learners) are still read, so a data directory of an older
// version starts.
constexpr char current_format = 3;

// An older format, read field by field into the current structures.
struct owner_old {
  shard_owner& o;
  char format;
};
struct map_old {
  shard_map& m;
  char format;
};
struct state_old {
  map_state& s;
  char format;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, owner_old& x) {
  if (auto err =
          f(x.o.primary, x.o.replica, x.o.epoch, x.o.replica_in_sync, x.o.replica_incarnation)) {
    return err;
  }
  return x.format >= 2 ? f(x.o.moving_to) : typename Inspector::result_type{};
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, map_old& x) {
  size_t count = 0;
  if (auto err = f(x.m.term, x.m.version, x.m.issued_by)) {
    return err;
  }
  if (auto err = f.begin_sequence(count)) {
    return err;
  }
  if (count > (size_t{1} << 20)) {
    return caf::sec::invalid_argument;  // no map has a million shards: corrupt
  }
  x.m.shards.resize(count);
  for (auto& o : x.m.shards) {
    owner_old old{o, x.format};
    if (auto err = f(old)) {
      return err;
    }
  }
  if (auto err = f.end_sequence()) {
    return err;
  }
  return x.format >= 2 ? f(x.m.draining, x.m.zone_rules, x.m.zone_rules_pushed)
                       : typename Inspector::result_type{};
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, state_old& x) {
  map_old accepted{x.s.accepted, x.format};
  map_old committed{x.s.committed, x.format};
  return f(x.s.promised_term, accepted, committed);
}

std::string errno_text(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + std::strerror(errno);
}

bool write_all(int fd, const std::string& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return false;
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

std::string encode_map_state(const map_state& state) {
  std::vector<char> buf;
  caf::binary_serializer sink{nullptr, buf};
  auto copy = state;
  if (auto err = sink(copy)) {
    return {};  // in-memory serialization of strings and integers cannot fail
  }
  std::string out{magic_prefix, sizeof magic_prefix};
  out.push_back(current_format);
  out.append(buf.data(), buf.size());
  return out;
}

std::optional<map_state> decode_map_state(const std::string& bytes, std::string& error) {
  constexpr size_t header = sizeof magic_prefix + 1;
  if (bytes.size() < header || std::memcmp(bytes.data(), magic_prefix, sizeof magic_prefix) != 0
      || bytes[sizeof magic_prefix] < 1 || bytes[sizeof magic_prefix] > current_format) {
    error = "not a shard map state (bad magic or format version)";
    return std::nullopt;
  }
  auto format = bytes[sizeof magic_prefix];
  caf::binary_deserializer source{nullptr, bytes.data() + header, bytes.size() - header};
  map_state state;
  state_old old{state, format};
  if (auto err = format == current_format ? source(state) : source(old)) {
    error = "truncated or corrupt shard map state";
    return std::nullopt;
  }
  if (source.remaining() != 0) {
    error = "trailing bytes after the shard map state";
    return std::nullopt;
  }
  return state;
}

std::string save_map_state(const std::string& path, const map_state& state) {
  const std::string temp = path + ".tmp";
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return errno_text("cannot create", temp);
  }
  bool ok = write_all(fd, encode_map_state(state)) && ::fsync(fd) == 0;
  std::string error = ok ? "" : errno_text("cannot write", temp);
  ::close(fd);
  if (!ok) {
    return error;
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    return errno_text("cannot rename to", path);
  }
  auto slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : path.substr(0, slash == 0 ? 1 : slash);
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) {
    return errno_text("cannot open", dir);
  }
  ok = ::fsync(dfd) == 0;
  ::close(dfd);
  return ok ? "" : errno_text("cannot sync", dir);
}

std::optional<map_state> load_map_state(const std::string& path, std::string& error) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) {
      return map_state{};
    }
    error = errno_text("cannot open", path);
    return std::nullopt;
  }
  std::string bytes;
  char buf[64 * 1024];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      error = errno_text("cannot read", path);
      ::close(fd);
      return std::nullopt;
    }
    if (n == 0) {
      break;
    }
    bytes.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  auto state = decode_map_state(bytes, error);
  if (!state) {
    error = path + ": " + error;
  }
  return state;
}

}  // namespace tidegate::cluster
