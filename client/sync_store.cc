#include "client/sync_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

namespace tidegate::client {

// The file, one record a line, '\n'-terminated:
//   tidegate-sync-key 1
//   <bucket> <version>          one per bucket, bucket percent-encoded (bytes outside
//                               '!'..'~' and '%' become %XX), version in decimal
//   end <count> <checksum>      count of bucket lines; FNV-1a 64 of every byte before "end",
//                               16 lowercase hex digits
// A file without its end line (truncated), with a bad checksum, count or line is corrupt.

namespace {

constexpr const char* header_line = "tidegate-sync-key 1\n";

uint64_t fnv1a64(const char* data, size_t size) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (size_t i = 0; i < size; ++i) {
    h ^= static_cast<unsigned char>(data[i]);
    h *= 0x100000001b3ULL;
  }
  return h;
}

std::string encode_bucket(const std::string& bucket) {
  std::string out;
  for (unsigned char c : bucket) {
    if (c > ' ' && c <= '~' && c != '%') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof(buf), "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  return -1;
}

bool decode_bucket(const std::string& text, std::string& out) {
  out.clear();
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (i + 2 >= text.size()) {
      return false;
    }
    int hi = hex_digit(text[i + 1]);
    int lo = hex_digit(text[i + 2]);
    if (hi < 0 || lo < 0) {
      return false;
    }
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return true;
}

bool parse_u64(const std::string& text, uint64_t& out) {
  if (text.empty() || text.size() > 20) {
    return false;
  }
  uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') {
      return false;
    }
    auto d = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) {
      return false;
    }
    v = v * 10 + d;
  }
  out = v;
  return true;
}

bool write_all(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return false;
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

std::string directory_of(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) {
    return ".";
  }
  return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

std::string sync_store::serialize(const sync_cursors& cursors) {
  std::string out = header_line;
  for (const auto& [bucket, version] : cursors) {
    out += encode_bucket(bucket) + ' ' + std::to_string(version) + '\n';
  }
  char end[64];
  std::snprintf(end, sizeof(end), "end %zu %016" PRIx64 "\n", cursors.size(),
                fnv1a64(out.data(), out.size()));
  return out + end;
}

bool sync_store::parse(const std::string& text, sync_cursors& out, std::string& error) {
  out.clear();
  if (text.compare(0, std::strlen(header_line), header_line) != 0) {
    error = "no 'tidegate-sync-key 1' header";
    return false;
  }
  size_t pos = std::strlen(header_line);
  sync_cursors cursors;
  while (pos < text.size()) {
    auto nl = text.find('\n', pos);
    if (nl == std::string::npos) {
      error = "truncated (last line has no newline)";
      return false;
    }
    std::string line = text.substr(pos, nl - pos);
    if (line.compare(0, 4, "end ") == 0) {
      if (nl + 1 != text.size()) {
        error = "bytes after the end line";
        return false;
      }
      auto space = line.find(' ', 4);
      uint64_t count = 0;
      if (space == std::string::npos || !parse_u64(line.substr(4, space - 4), count)
          || line.size() != space + 17) {
        error = "malformed end line";
        return false;
      }
      char want[17];
      std::snprintf(want, sizeof(want), "%016" PRIx64, fnv1a64(text.data(), pos));
      if (line.compare(space + 1, 16, want) != 0) {
        error = "checksum mismatch";
        return false;
      }
      if (count != cursors.size()) {
        error = "bucket count mismatch";
        return false;
      }
      out = std::move(cursors);
      return true;
    }
    auto space = line.rfind(' ');
    std::string bucket;
    uint64_t version = 0;
    if (space == std::string::npos || !decode_bucket(line.substr(0, space), bucket)
        || !parse_u64(line.substr(space + 1), version)
        || !cursors.emplace(bucket, version).second) {
      error = "malformed line " + std::to_string(cursors.size() + 2);
      return false;
    }
    pos = nl + 1;
  }
  error = "truncated (no end line)";
  return false;
}

sync_load_status sync_store::load() {
  cursors_.clear();
  load_error_.clear();
  if (in_memory()) {
    return sync_load_status::missing;
  }
  std::ifstream in{path_, std::ios::binary};
  if (!in) {
    if (errno == ENOENT) {
      return sync_load_status::missing;
    }
    load_error_ = path_ + ": " + std::strerror(errno);
    return sync_load_status::corrupt;
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    load_error_ = path_ + ": read failed";
    return sync_load_status::corrupt;
  }
  std::string error;
  if (!parse(text.str(), cursors_, error)) {
    load_error_ = path_ + ": " + error;
    return sync_load_status::corrupt;
  }
  return sync_load_status::loaded;
}

bool sync_store::save(const sync_cursors& cursors) {
  if (&cursors != &cursors_) {
    cursors_ = cursors;
  }
  ++saves_;
  if (in_memory()) {
    return true;
  }
  auto fail = [this](const std::string& what, int fd) {
    last_error_ = what + ": " + std::strerror(errno);
    if (fd >= 0) {
      ::close(fd);
    }
    return false;
  };
  std::string temp = path_ + ".tmp";
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    return fail("open " + temp, -1);
  }
  if (!write_all(fd, serialize(cursors_))) {
    return fail("write " + temp, fd);
  }
  if (::fsync(fd) != 0) {
    return fail("fsync " + temp, fd);
  }
  if (::close(fd) != 0) {
    return fail("close " + temp, -1);
  }
  if (::rename(temp.c_str(), path_.c_str()) != 0) {
    return fail("rename " + temp + " to " + path_, -1);
  }
  // The rename is durable only once the directory entry is.
  std::string dir = directory_of(path_);
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) {
    return fail("open " + dir, -1);
  }
  if (::fsync(dfd) != 0) {
    return fail("fsync " + dir, dfd);
  }
  ::close(dfd);
  last_error_.clear();
  return true;
}

}  // namespace tidegate::client
