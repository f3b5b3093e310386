#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace tidegate::client {

/// A sync key: bucket -> the highest version delivered to the app (SyncRequest.cursors).
using sync_cursors = std::map<std::string, uint64_t>;

/// What load() found.
enum class sync_load_status : uint8_t {
  loaded,   ///< The file was read whole and its checksum matched.
  missing,  ///< No file (first run) or in-memory mode: the key is empty.
  corrupt,  ///< Unreadable, truncated or a bad checksum: the key is empty; see load_error().
};

/// The persistent sync key of one client: a text file (docs in sync_store.cc) saved
/// atomically (temp file in the same directory, fsync, rename, fsync of the directory), so a
/// crash leaves the old key or the new one, never a mix. A damaged file is reported and
/// ignored as a whole, never half-read. Without a path it lives in memory only (tests,
/// benchmarks). Not thread-safe; one connection (or app thread) owns it.
class sync_store {
 public:
  /// An in-memory store: load() finds nothing, save() only keeps the cursors.
  sync_store() = default;
  /// A store backed by the file at `path`; nothing is read before load().
  explicit sync_store(std::string path) : path_(std::move(path)) {}

  /// Reads the file into cursors(). On `corrupt` the cursors are empty and load_error() says
  /// why; the file is left as is until the next save() replaces it.
  sync_load_status load();
  /// Replaces the key with `cursors` and makes it durable before returning. False with
  /// last_error() set if the file could not be written (the in-memory key is updated anyway).
  bool save(const sync_cursors& cursors);

  const sync_cursors& cursors() const { return cursors_; }
  const std::string& path() const { return path_; }
  bool in_memory() const { return path_.empty(); }
  const std::string& load_error() const { return load_error_; }
  const std::string& last_error() const { return last_error_; }
  uint64_t saves() const { return saves_; }

  /// The file's bytes for `cursors` (exposed for tests).
  static std::string serialize(const sync_cursors& cursors);
  /// Parses a file's bytes into `out`; false with `error` set if they are not a whole key.
  static bool parse(const std::string& text, sync_cursors& out, std::string& error);

 private:
  std::string path_;
  sync_cursors cursors_;
  std::string load_error_;
  std::string last_error_;
  uint64_t saves_ = 0;
};

}  // namespace tidegate::client
