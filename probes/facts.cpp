#include "probes/facts.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "probes/policy.hpp"

namespace deploycheck {
namespace {

// An flock(2) held for the lifetime of this object.
class FileLock {
 public:
  explicit FileLock(const std::filesystem::path& path)
      : fd_(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600)) {
    if (fd_ < 0) throw std::runtime_error("cannot open lock file " + path.string());
    while (::flock(fd_, LOCK_EX) != 0) {
      if (errno != EINTR) throw std::runtime_error("cannot lock " + path.string());
    }
  }
  ~FileLock() { ::close(fd_); }  // closing releases the lock
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_;
};

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

nlohmann::json to_json(const Fact& f) {
  nlohmann::json j{{"data", f.data},
                   {"attempts", f.attempts},
                   {"run_id", f.run_id},
                   {"gathered_at", f.gathered_at}};
  if (f.error) j["error"] = *f.error;
  return j;
}

Fact from_json(const nlohmann::json& j) {
  Fact f;
  f.data = j.at("data");
  f.attempts = j.at("attempts").get<int>();
  f.run_id = j.at("run_id").get<std::string>();
  f.gathered_at = j.at("gathered_at").get<std::string>();
  if (j.contains("error")) f.error = j.at("error").get<std::string>();
  return f;
}

}  // namespace

std::string utc_now_iso8601() {
  const auto now = std::chrono::system_clock::now();
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) % 1000;
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[48];
  std::snprintf(out, sizeof out, "%s.%03dZ", buf, static_cast<int>(ms.count()));
  return out;
}

FactStore& FactStore::instance() {
  static FactStore store;
  return store;
}

void FactStore::open(std::optional<std::filesystem::path> run_dir) {
  run_dir_ = std::move(run_dir);
  run_id_.clear();
}

const std::string& FactStore::run_id() {
  if (run_id_.empty()) {
    if (run_dir_) {
      run_id_ = read_file(*run_dir_ / "run_id");
      if (run_id_.empty()) {
        throw std::runtime_error("no run is open in " + run_dir_->string() +
                                 ": run the checks through ctest (Run.Open starts a run), or "
                                 "start the executable without --deploycheck-run-dir");
      }
    } else {
      run_id_ = "solo-" + std::to_string(::getpid()) + "-" + utc_now_iso8601();
    }
  }
  return run_id_;
}

void FactStore::add_gatherer(const std::string& key, Policy policy, Gatherer gatherer) {
  gatherers_[key] = Entry{policy, std::move(gatherer)};
}

const Policy& FactStore::policy(const std::string& key) const {
  return gatherers_.at(key).policy;
}

std::filesystem::path FactStore::fact_path(const std::string& key) const {
  std::string file = key;
  for (char& c : file) {
    if (c == '/') c = '_';
  }
  return *run_dir_ / "facts" / (file + ".json");
}

std::optional<Fact> FactStore::read(const std::string& key) const {
  if (!run_dir_) {
    auto it = memory_.find(key);
    return it == memory_.end() ? std::nullopt : std::optional<Fact>(it->second);
  }
  const auto path = fact_path(key);
  if (!std::filesystem::exists(path)) return std::nullopt;
  return from_json(nlohmann::json::parse(read_file(path)));
}

void FactStore::write(const std::string& key, const Fact& fact) const {
  if (!run_dir_) {
    memory_[key] = fact;
    return;
  }
  const auto path = fact_path(key);
  std::filesystem::create_directories(path.parent_path());
  // Write then rename, so a reader never sees half a fact.
  const auto tmp = path.string() + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << to_json(fact).dump(2);
    if (!out) throw std::runtime_error("cannot write fact " + tmp);
  }
  std::filesystem::rename(tmp, path);
}

Fact FactStore::gather(const std::string& key) {
  auto it = gatherers_.find(key);
  if (it == gatherers_.end()) throw std::logic_error("no gatherer registered for " + key);
  const Policy& policy = it->second.policy;
  Fact fact;
  fact.run_id = run_id();
  // `eventually` also covers reachability: keep trying until the target answers or time is up.
  const auto give_up = Clock::now() + policy.eventually;
  int attempts = 0;
  for (;;) {
    try {
      auto [data, n] = it->second.gatherer(policy);
      fact.data = std::move(data);
      fact.error.reset();
      attempts += n;
      break;
    } catch (const Unreachable& e) {
      attempts += policy.attempts();
      fact.error = e.what();
      if (Clock::now() + policy.backoff >= give_up) break;
      std::this_thread::sleep_for(policy.backoff);
    }
  }
  fact.attempts = attempts;
  fact.gathered_at = utc_now_iso8601();
  write(key, fact);
  return fact;
}

Fact FactStore::get(const std::string& key) {
  if (auto fact = read(key); fact && fact->run_id == run_id()) return *fact;
  // None yet, or one from an earlier run: never judge stale facts.
  if (!run_dir_) return gather(key);
  std::filesystem::create_directories(fact_path(key).parent_path());
  FileLock lock(fact_path(key).string() + ".lock");
  if (auto fact = read(key); fact && fact->run_id == run_id()) return *fact;
  return gather(key);
}

Fact FactStore::regather(const std::string& key, const Fact& seen) {
  if (!run_dir_) return gather(key);
  std::filesystem::create_directories(fact_path(key).parent_path());
  FileLock lock(fact_path(key).string() + ".lock");
  // Another check may have re-gathered while we waited for the lock: use its fresher fact.
  if (auto fact = read(key);
      fact && fact->run_id == run_id() && fact->gathered_at != seen.gathered_at) {
    return *fact;
  }
  return gather(key);
}

std::string describe_policy(const Policy& policy) {
  return "deadline " + format_duration(policy.timeout) + " × " + std::to_string(policy.attempts()) +
         (policy.attempts() == 1 ? " attempt" : " attempts");
}

}  // namespace deploycheck
