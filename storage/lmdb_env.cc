#include "storage/lmdb_env.h"

#include <algorithm>
#include <filesystem>
#include <system_error>

#include "storage/keys.h"

namespace tidegate::storage {
namespace {

constexpr uint8_t layout_version = 1;

MDB_val as_val(const std::string& s) {
  return MDB_val{s.size(), const_cast<char*>(s.data())};  // LMDB's API is not const-correct
}

}  // namespace

storage_status lmdb_txn::commit() {
  int rc = mdb_txn_commit(txn_.release());  // commit frees the txn, on failure too
  if (rc != MDB_SUCCESS) {
    return from_mdb(rc, "mdb_txn_commit");
  }
  return std::nullopt;
}

storage_result<std::unique_ptr<lmdb_env>> lmdb_env::open(const std::string& dir,
                                                         const env_options& options) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return storage_error{storage_errc::io, "create_directories " + dir + ": " + ec.message()};
  }
  MDB_env* raw = nullptr;
  if (int rc = mdb_env_create(&raw); rc != MDB_SUCCESS) {
    return from_mdb(rc, "mdb_env_create");
  }
  env_ptr env{raw};
  if (int rc = mdb_env_set_maxdbs(env.get(), options.max_dbs); rc != MDB_SUCCESS) {
    return from_mdb(rc, "mdb_env_set_maxdbs");
  }
  if (int rc = mdb_env_set_mapsize(env.get(), options.map_size); rc != MDB_SUCCESS) {
    return from_mdb(rc, "mdb_env_set_mapsize");
  }
  unsigned flags = MDB_NOTLS;
  if (options.mode == durability::periodic) {
    // MDB_WRITEMAP: a commit writes its pages into the map instead of pwrite()-copying them
    // into the file, half the writer's cost per op; copy-on-write and the meta-page switch
    // still make a commit atomic, and we never nest write transactions. Not with fsync: an
    // msync() of the map per commit is slower than fdatasync() (decision 0009).
    flags |= MDB_NOSYNC | MDB_WRITEMAP;
  }
  if (int rc = mdb_env_open(env.get(), dir.c_str(), flags, 0644); rc != MDB_SUCCESS) {
    return from_mdb(rc, "mdb_env_open " + dir);
  }
  int dead = 0;
  mdb_reader_check(env.get(), &dead);  // clears reader slots of crashed processes
  std::unique_ptr<lmdb_env> out{new lmdb_env(std::move(env), options)};
  if (auto err = out->init_dbis()) {
    return std::move(*err);
  }
  return out;
}

storage_status lmdb_env::init_dbis() {
  auto txn = begin_write();
  if (!txn) {
    return txn.error();
  }
  struct named {
    const char* name;
    MDB_dbi* dbi;
  };
  // DBIs added by later versions are created in an existing environment on first open.
  for (auto [name, dbi] :
       {named{"oplog", &dbis_.oplog}, named{"dedupe", &dbis_.dedupe},
        named{"dedupe_exp", &dbis_.dedupe_exp}, named{"meta", &dbis_.meta},
        named{"cursors", &dbis_.cursors}, named{"receipts", &dbis_.receipts},
        named{"dead_letters", &dbis_.dead_letters}, named{"follows", &dbis_.follows},
        named{"topic_meta", &dbis_.topic_meta}}) {
    if (int rc = mdb_dbi_open(txn->get(), name, MDB_CREATE, dbi); rc != MDB_SUCCESS) {
      return from_mdb(rc, std::string("mdb_dbi_open ") + name);
    }
  }
  auto key = layout_meta_key();
  MDB_val k = as_val(key);
  MDB_val v{};
  int rc = mdb_get(txn->get(), dbis_.meta, &k, &v);
  if (rc == MDB_NOTFOUND) {
    std::string value(1, static_cast<char>(layout_version));
    MDB_val nv = as_val(value);
    if (rc = mdb_put(txn->get(), dbis_.meta, &k, &nv, 0); rc != MDB_SUCCESS) {
      return from_mdb(rc, "mdb_put layout");
    }
  } else if (rc != MDB_SUCCESS) {
    return from_mdb(rc, "mdb_get layout");
  } else if (v.mv_size != 1 || *static_cast<const uint8_t*>(v.mv_data) != layout_version) {
    return storage_error{storage_errc::corrupt, "unknown storage layout version"};
  }
  return txn->commit();
}

lmdb_env::~lmdb_env() {
  if (env_ && options_.mode == durability::periodic) {
    mdb_env_sync(env_.get(), 1);  // a clean shutdown loses nothing in periodic mode either
  }
}

storage_result<lmdb_txn> lmdb_env::begin(unsigned flags) const {
  std::shared_lock lock(resize_);
  MDB_txn* raw = nullptr;
  int rc = mdb_txn_begin(env_.get(), nullptr, flags, &raw);
  if (rc != MDB_SUCCESS) {
    return from_mdb(rc, "mdb_txn_begin");
  }
  return lmdb_txn(std::move(lock), txn_ptr{raw});
}

storage_result<lmdb_txn> lmdb_env::begin_read() const {
  return begin(MDB_RDONLY);
}

storage_result<lmdb_txn> lmdb_env::begin_write() const {
  return begin(0);
}

storage_status lmdb_env::sync() const {
  if (int rc = mdb_env_sync(env_.get(), 1); rc != MDB_SUCCESS) {
    return from_mdb(rc, "mdb_env_sync");
  }
  return std::nullopt;
}

size_t lmdb_env::map_size() const {
  MDB_envinfo info{};
  mdb_env_info(env_.get(), &info);
  return info.me_mapsize;
}

size_t lmdb_env::next_map_size() const {
  auto current = map_size();
  if (current >= options_.max_map_size) {
    return 0;
  }
  return std::min(options_.max_map_size, current * 2);
}

storage_status lmdb_env::grow(size_t new_size) {
  if (new_size > options_.max_map_size) {
    return storage_error{storage_errc::map_full,
                         "map size " + std::to_string(new_size) + " over max_map_size"};
  }
  std::unique_lock lock(resize_);  // no transaction of this environment is open
  if (int rc = mdb_env_set_mapsize(env_.get(), new_size); rc != MDB_SUCCESS) {
    return from_mdb(rc, "mdb_env_set_mapsize");
  }
  return std::nullopt;
}

}  // namespace tidegate::storage
