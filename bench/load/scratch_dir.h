#pragma once

#include <stdlib.h>

#include <filesystem>
#include <iomanip>
#include <random>
#include <sstream>
#include <string>
#include <system_error>

namespace tidegate::bench {

/// A temp directory for one benchmark run (configs, LMDB, logs), removed with its files when
/// this goes. `path` is empty if it could not be made.
struct scratch_dir {
  std::filesystem::path path;
  scratch_dir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "tidegate-bench-XXXXXX").string();
    if (mkdtemp(tmpl.data()) != nullptr) {
      path = tmpl;
    }
  }
  ~scratch_dir() {
    std::error_code ec;
    if (!path.empty()) {
      std::filesystem::remove_all(path, ec);
    }
  }
  scratch_dir(const scratch_dir&) = delete;
  scratch_dir& operator=(const scratch_dir&) = delete;
};

/// A fresh random app secret (64 hex digits) for a benchmark's node.
inline std::string random_secret() {
  std::random_device rd;
  std::ostringstream out;
  for (int i = 0; i < 8; ++i) {
    out << std::hex << std::setw(8) << std::setfill('0') << rd();
  }
  return out.str();
}

}  // namespace tidegate::bench
