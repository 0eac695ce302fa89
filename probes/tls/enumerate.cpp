// probe(): the default handshake plus the enumeration of protocols and cipher suites, as
// handshakes run in parallel (at most max_connections_per_host at a time), each with its own
// deadline.
//
// Suites of TLS 1.2 and older are found by elimination: offer a set, the server picks one (it is
// accepted), offer the rest, until the server refuses the set. That holds whatever the server's
// preference order, and a refused set rules out all its suites with one handshake. To use the
// parallelism the candidates start in several interleaved groups and a set is halved after every
// acceptance. A probe stops reading after the ServerHello, which already names the suite.
#include <openssl/err.h>
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "probes/policy.hpp"
#include "probes/tls/detail.hpp"

namespace deploycheck::tls {
namespace {

using detail::Attempt;
using Clock = std::chrono::steady_clock;
using Outcome = Attempt::Outcome;

constexpr const char* kNotOffered =
    "not offered by OpenSSL 3.0 as built by Debian, even at security level 0";

// TLS 1.3 has five suites; OpenSSL offers two of them (CCM) only when asked.
constexpr const char* kTls13Suites[] = {"TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256",
                                        "TLS_AES_128_GCM_SHA256", "TLS_AES_128_CCM_SHA256",
                                        "TLS_AES_128_CCM_8_SHA256"};

// Families that OpenSSL 3.0 may lack entirely; each is looked up, not assumed.
constexpr std::pair<const char*, const char*> kFamilies[] = {{"RC4", "RC4"},   {"3DES", "3DES"},
                                                             {"DES", "DES"},   {"EXPORT", "export"},
                                                             {"IDEA", "IDEA"}, {"SEED", "SEED"}};

struct Version {
  int id;
  const char* name;
};
// Ascending: the order of Facts::protocols.
constexpr Version kVersions[] = {{SSL3_VERSION, "SSLv3"},
                                 {TLS1_VERSION, "TLSv1"},
                                 {TLS1_1_VERSION, "TLSv1.1"},
                                 {TLS1_2_VERSION, "TLSv1.2"},
                                 {TLS1_3_VERSION, "TLSv1.3"}};

// Can this libssl write a ClientHello for `version` at all? Tried into a memory BIO, no network.
// Returns "" when it can, else OpenSSL's reason.
std::string cannot_offer(SSL_CTX* ctx, int version) {
  detail::Ssl ssl(SSL_new(ctx));
  SSL_set_min_proto_version(ssl.get(), version);
  SSL_set_max_proto_version(ssl.get(), version);
  SSL_set_bio(ssl.get(), BIO_new(BIO_s_mem()), BIO_new(BIO_s_mem()));  // SSL owns both
  SSL_set_connect_state(ssl.get());
  ERR_clear_error();
  const int rc = SSL_do_handshake(ssl.get());
  if (SSL_get_error(ssl.get(), rc) == SSL_ERROR_WANT_READ) return "";
  const std::string why = detail::take_ssl_errors();
  return why.empty() ? "no ClientHello could be written" : why;
}

// The suites this libssl offers for `version` at security level 0, in OpenSSL's order of
// preference: what a ClientHello would carry (PSK and SRP suites drop out, they need
// credentials we do not have).
std::vector<const SSL_CIPHER*> candidates(SSL_CTX* ctx, int version) {
  detail::Ssl ssl(SSL_new(ctx));
  SSL_set_min_proto_version(ssl.get(), version);
  SSL_set_max_proto_version(ssl.get(), version);
  std::vector<const SSL_CIPHER*> out;
  STACK_OF(SSL_CIPHER)* list = SSL_get1_supported_ciphers(ssl.get());
  for (int i = 0; i < sk_SSL_CIPHER_num(list); ++i) {
    out.push_back(sk_SSL_CIPHER_value(list, i));  // already filtered by `version`
  }
  sk_SSL_CIPHER_free(list);
  return out;
}

std::pair<Strength, std::string> classify(const SSL_CIPHER* c, int version) {
  if (version == TLS1_3_VERSION) return {Strength::kStrong, ""};  // AEAD and (EC)DHE always
  std::vector<std::string> insecure, weak;
  const int cipher = SSL_CIPHER_get_cipher_nid(c);
  const int kx = SSL_CIPHER_get_kx_nid(c);
  const std::string name = SSL_CIPHER_get_name(c);
  if (cipher == NID_undef) insecure.emplace_back("NULL encryption");
  if (SSL_CIPHER_get_auth_nid(c) == NID_auth_null)
    insecure.emplace_back("anonymous (no authentication)");
  if (cipher == NID_rc4 || cipher == NID_rc4_40) insecure.emplace_back("RC4");
  if (cipher == NID_des_cbc) insecure.emplace_back("DES");
  if (name.find("EXP") != std::string::npos) insecure.emplace_back("export grade");
  if (cipher == NID_des_ede3_cbc) weak.emplace_back("3DES (64-bit block)");
  if (cipher != NID_undef && SSL_CIPHER_is_aead(c) == 0) weak.emplace_back("CBC mode");
  if (kx == NID_kx_rsa || kx == NID_kx_psk || kx == NID_kx_rsa_psk || kx == NID_kx_srp) {
    weak.emplace_back("no forward secrecy");
  }
  const int mac = SSL_CIPHER_get_digest_nid(c);
  if (mac == NID_sha1) weak.emplace_back("SHA-1 MAC");
  if (mac == NID_md5) weak.emplace_back("MD5 MAC");
  std::string why;
  for (const auto* list : {&insecure, &weak}) {
    for (const auto& reason : *list) why += (why.empty() ? "" : ", ") + reason;
  }
  if (!insecure.empty()) return {Strength::kInsecure, why};
  if (!weak.empty()) return {Strength::kWeak, why};
  return {Strength::kStrong, ""};
}

std::pair<int, int> kind_of(const SSL_CIPHER* c) {
  return {SSL_CIPHER_get_kx_nid(c), SSL_CIPHER_get_auth_nid(c)};
}

std::string join(const std::vector<const SSL_CIPHER*>& suites) {
  std::string out;
  for (const SSL_CIPHER* c : suites)
    out += (out.empty() ? "" : ":") + std::string(SSL_CIPHER_get_name(c));
  return out;
}

// Deals `suites` into `n` groups round-robin after sorting by authentication and key exchange,
// so the suites one server can accept (one certificate type) spread over the groups and each
// group needs few rounds of elimination.
std::vector<std::vector<const SSL_CIPHER*>> interleave(std::vector<const SSL_CIPHER*> suites,
                                                       std::size_t n) {
  std::stable_sort(suites.begin(), suites.end(), [](const SSL_CIPHER* a, const SSL_CIPHER* b) {
    return std::pair{SSL_CIPHER_get_auth_nid(a), SSL_CIPHER_get_kx_nid(a)} <
           std::pair{SSL_CIPHER_get_auth_nid(b), SSL_CIPHER_get_kx_nid(b)};
  });
  n = std::clamp<std::size_t>(n, 1, std::max<std::size_t>(1, suites.size()));
  std::vector<std::vector<const SSL_CIPHER*>> groups(n);
  for (std::size_t i = 0; i < suites.size(); ++i) groups[i % n].push_back(suites[i]);
  return groups;
}

struct Task {
  enum class Kind { kDefault, kTls13Suite, kSet } kind = Kind::kSet;
  const Version* version = nullptr;
  std::string tls13_suite;
  std::vector<const SSL_CIPHER*> suites;  // kSet
  bool protocol_probe = false;            // kSet: the first set offered for its version
};

struct ProtocolState {
  bool accepted = false;
  bool rejected = false;
  std::string detail;  // the first refusal, or why it could not be probed
};

class Enumeration {
 public:
  Enumeration(const Endpoint& endpoint, const Options& options)
      : endpoint_(endpoint),
        options_(options),
        address_(detail::resolve(endpoint)),
        default_ctx_(detail::make_context(detail::ContextKind::kDefault)),
        level0_ctx_(detail::make_context(detail::ContextKind::kLevel0)) {}

  Facts run() {
    const auto start = Clock::now();
    Facts facts;
    facts.endpoint = endpoint_;
    plan(facts);
    const int workers = options_.enumerate ? std::max(1, options_.max_connections_per_host) : 1;
    std::vector<std::jthread> threads;
    for (int i = 0; i < workers; ++i) {
      threads.emplace_back([this] { work(); });
    }
    threads.clear();  // joins
    if (error_) std::rethrow_exception(error_);
    finish(facts);
    facts.handshakes = handshakes_.load();
    facts.elapsed_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    return facts;
  }

 private:
  void plan(Facts& facts) {
    queue_.push_back(Task{.kind = Task::Kind::kDefault});
    if (!options_.enumerate) return;
    const Version* tls13 = &kVersions[4];
    for (const char* suite : kTls13Suites) {
      queue_.push_back(
          Task{.kind = Task::Kind::kTls13Suite, .version = tls13, .tls13_suite = suite});
    }
    int parallel_sets = 0;
    for (const Version& v : kVersions) {
      if (v.id == TLS1_3_VERSION) continue;
      if (std::string why = cannot_offer(level0_ctx_.get(), v.id); !why.empty()) {
        protocols_[v.name].detail = "this libssl cannot offer " + std::string(v.name) +
                                    ", even at security level 0 (OpenSSL: " + why + ")";
        continue;
      }
      auto suites = candidates(level0_ctx_.get(), v.id);
      for (const SSL_CIPHER* c : suites) known_[SSL_CIPHER_get_name(c)] = c;
      if (suites.empty()) {
        protocols_[v.name].detail = "this libssl offers no cipher suite for it at level 0";
        continue;
      }
      if (v.id == TLS1_2_VERSION) {
        ++parallel_sets;  // dealt below, once the other first-round probes are counted
        tls12_ = std::move(suites);
        continue;
      }
      // Older protocols are rarely accepted: one probe first, the suites only if it is.
      queue_.push_back(Task{.version = &v, .suites = std::move(suites), .protocol_probe = true});
    }
    if (parallel_sets > 0) {
      // TLS 1.2 is nearly always accepted: its groups start in the first round, in the slots
      // the other probes leave free, and together they are its protocol probe.
      const int free_slots = options_.max_connections_per_host - static_cast<int>(queue_.size());
      for (auto& group : interleave(tls12_, static_cast<std::size_t>(std::max(1, free_slots)))) {
        queue_.push_back(
            Task{.version = &kVersions[3], .suites = std::move(group), .protocol_probe = true});
      }
    }
    for (const auto& [family, label] : kFamilies) {
      detail::Ssl ssl(SSL_new(level0_ctx_.get()));
      if (SSL_set_cipher_list(ssl.get(), (std::string(family) + ":@SECLEVEL=0").c_str()) != 1) {
        facts.not_checked.push_back(std::string(label) + " suites: " + kNotOffered);
      }
    }
    ERR_clear_error();
  }

  void work() {
    // A write to a connection the server already closed (it refused our ClientHello, or we
    // stopped reading after its ServerHello) must fail with EPIPE, not kill the process: SIGPIPE
    // is blocked in these threads only, and the signals raised here die with the thread.
    sigset_t pipe;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
    for (;;) {
      Task task;
      {
        std::unique_lock lock(mutex_);
        ready_.wait(lock, [this] { return !queue_.empty() || active_ == 0; });
        if (queue_.empty()) {
          ready_.notify_all();
          return;
        }
        task = std::move(queue_.front());
        queue_.pop_front();
        ++active_;
      }
      try {
        run(task);
      } catch (...) {
        // Not a fact about the endpoint but a failure of ours (OpenSSL setup): stop everything
        // and rethrow it from run().
        std::lock_guard lock(mutex_);
        if (!error_) error_ = std::current_exception();
        cancel_ = true;
      }
      {
        std::lock_guard lock(mutex_);
        --active_;
      }
      ready_.notify_all();
    }
  }

  void push(Task task) {
    {
      std::lock_guard lock(mutex_);
      queue_.push_back(std::move(task));
    }
    ready_.notify_one();
  }

  Attempt attempt(SSL_CTX* ctx, const detail::Offer& offer) {
    ++handshakes_;
    auto a = detail::handshake(ctx, endpoint_, address_, offer, options_.timeout, cancel_);
    if (a.outcome == Attempt::Outcome::kRejected && !a.alert) {
      // Closed without an alert: a refusal, or a server shedding load (nginx drops the oldest
      // idle connections when it runs out of worker_connections). Ask once more: only a second
      // silent close counts as a refusal, so an overloaded server is not reported as one that
      // rejects these suites.
      ++handshakes_;
      a = detail::handshake(ctx, endpoint_, address_, offer, options_.timeout, cancel_);
    }
    return a;
  }

  void run(Task& task) {
    switch (task.kind) {
      case Task::Kind::kDefault:
        return run_default();
      case Task::Kind::kTls13Suite: {
        detail::Offer offer{.version = TLS1_3_VERSION,
                            .ciphersuites = task.tls13_suite,
                            .stop_after_server_hello = true};
        Attempt a = attempt(level0_ctx_.get(), offer);
        std::lock_guard lock(mutex_);
        record(task, a);
        if (a.outcome == Outcome::kAccepted) accepted_.emplace_back(a.cipher, task.version);
        return;
      }
      case Task::Kind::kSet:
        return run_set(task);
    }
  }

  void run_default() {
    detail::Offer offer;
    offer.gather = true;
    Attempt a = attempt(default_ctx_.get(), offer);
    if (a.outcome == Outcome::kTcpFailed || a.outcome == Outcome::kTimedOut) {
      // The endpoint does not answer: the other probes would only wait out their deadlines.
      cancel_ = true;
    }
    std::optional<Handshake> facts;
    if (a.outcome == Outcome::kAccepted) facts = detail::gather_facts(a.ssl.get(), endpoint_);
    std::lock_guard lock(mutex_);
    default_ = std::move(a);
    default_->ssl.reset();
    handshake_ = std::move(facts);
  }

  void run_set(Task& task) {
    detail::Offer offer{.version = task.version->id,
                        .ciphers = join(task.suites) + ":@SECLEVEL=0",
                        .stop_after_server_hello = true};
    Attempt a = attempt(level0_ctx_.get(), offer);
    std::lock_guard lock(mutex_);
    record(task, a);
    if (a.outcome == Outcome::kRejected) return;  // none of the set is accepted
    if (a.outcome != Outcome::kAccepted) {
      unchecked_sets_.push_back(std::string(task.version->name) + " suites " + join(task.suites) +
                                ": not checked, " + (a.detail.empty() ? "cancelled" : a.detail));
      return;
    }
    auto chosen = std::find_if(task.suites.begin(), task.suites.end(), [&](const SSL_CIPHER* c) {
      return a.cipher == SSL_CIPHER_get_name(c);
    });
    accepted_.emplace_back(a.cipher, task.version);
    if (chosen == task.suites.end()) return;  // cannot happen: OpenSSL refuses unoffered suites
    auto& seen = seen_[task.version->id];
    seen.insert(kind_of(*chosen));
    task.suites.erase(chosen);
    // The rest is split by what this server has shown it accepts. Suites of a kind (key exchange
    // and authentication) it already chose are likely accepted too: each is offered alone, all
    // in the next round, where elimination would need one round per suite. The other kinds are
    // likely refused: offered together, a refusal settles them all in one handshake; if one is
    // accepted after all (a server with an RSA and an ECDSA certificate), elimination goes on.
    std::vector<const SSL_CIPHER*> unlikely;
    for (const SSL_CIPHER* c : task.suites) {
      if (seen.contains(kind_of(c))) {
        queue_.push_back(Task{.version = task.version, .suites = {c}});
      } else {
        unlikely.push_back(c);
      }
    }
    if (!unlikely.empty()) {
      // A whole protocol's rest (TLS 1.1 and older) in a few sets, else the one set.
      const std::size_t n =
          task.protocol_probe && task.version->id != TLS1_2_VERSION
              ? static_cast<std::size_t>(std::max(1, options_.max_connections_per_host / 4))
              : 1;
      for (auto& group : interleave(std::move(unlikely), n)) {
        queue_.push_back(Task{.version = task.version, .suites = std::move(group)});
      }
    }
    ready_.notify_all();
  }

  // Under mutex_.
  void record(const Task& task, const Attempt& a) {
    ProtocolState& p = protocols_[task.version->name];
    if (a.outcome == Outcome::kAccepted) {
      p.accepted = true;
    } else if (a.outcome == Outcome::kRejected &&
               (task.protocol_probe || task.kind == Task::Kind::kTls13Suite)) {
      p.rejected = true;
      if (p.detail.empty()) p.detail = a.detail;
    } else if (a.outcome != Outcome::kRejected && p.detail.empty()) {
      p.detail = a.detail.empty() ? "cancelled: the endpoint did not answer" : a.detail;
    }
  }

  void finish(Facts& facts) {
    const std::string deadline = "deadline " + format_duration(options_.timeout);
    if (!default_) throw std::logic_error("default handshake never ran");
    if (default_->starttls_refused) throw Refused(default_->detail);
    if (default_->outcome == Outcome::kTcpFailed) {
      throw Unreachable(endpoint_.display() + ": " + default_->detail + " (" + deadline + ")");
    }
    if (!handshake_ && accepted_.empty()) {
      throw Unreachable(endpoint_.display() + ": no TLS handshake succeeded (" + deadline +
                        "): " + default_->detail);
    }
    if (handshake_) {
      facts.handshake = std::move(*handshake_);
    } else {
      facts.handshake.verify_error = "the default handshake failed: " + default_->detail;
    }
    if (!options_.enumerate) return;
    for (const Version& v : kVersions) {
      const ProtocolState& state = protocols_[v.name];
      ProtocolSupport p;
      p.protocol = v.name;
      if (state.accepted) {
        p.result = ProtocolSupport::Result::kAccepted;
      } else if (state.rejected) {
        p.result = ProtocolSupport::Result::kRejected;
        p.detail = state.detail;
      } else {
        p.result = ProtocolSupport::Result::kNotChecked;
        p.detail = state.detail;
      }
      facts.protocols.push_back(std::move(p));
    }
    // Newest protocol first, then OpenSSL's order of preference.
    std::vector<std::pair<std::pair<int, std::size_t>, CipherSuite>> sorted;
    for (const auto& [name, version] : accepted_) {
      CipherSuite suite;
      suite.name = name;
      suite.protocol = version->name;
      std::size_t rank = 0;
      if (version->id == TLS1_3_VERSION) {
        rank = static_cast<std::size_t>(
            std::find(std::begin(kTls13Suites), std::end(kTls13Suites), name) -
            std::begin(kTls13Suites));
      } else if (auto it = known_.find(name); it != known_.end()) {
        std::tie(suite.strength, suite.why) = classify(it->second, version->id);
        rank = static_cast<std::size_t>(std::find(tls12_.begin(), tls12_.end(), it->second) -
                                        tls12_.begin());
      }
      sorted.push_back({{-version->id, rank}, std::move(suite)});
    }
    std::sort(sorted.begin(), sorted.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    for (auto& [key, suite] : sorted) facts.accepted_ciphers.push_back(std::move(suite));
    for (auto& s : unchecked_sets_) facts.not_checked.push_back(std::move(s));
  }

  const Endpoint& endpoint_;
  const Options& options_;
  const detail::Address address_;
  const detail::SslCtx default_ctx_;
  const detail::SslCtx level0_ctx_;
  std::atomic<bool> cancel_{false};
  std::atomic<int> handshakes_{0};
  std::vector<const SSL_CIPHER*> tls12_;
  std::map<std::string, const SSL_CIPHER*> known_;  // every ≤ 1.2 candidate, by name

  std::mutex mutex_;  // guards everything below
  std::condition_variable ready_;
  std::deque<Task> queue_;
  int active_ = 0;
  std::exception_ptr error_;
  std::optional<Attempt> default_;
  std::optional<Handshake> handshake_;
  std::map<std::string, ProtocolState> protocols_;
  std::map<int, std::set<std::pair<int, int>>> seen_;  // per version: kinds of suites accepted
  std::vector<std::pair<std::string, const Version*>> accepted_;
  std::vector<std::string> unchecked_sets_;
};

}  // namespace

Facts probe(const Endpoint& endpoint, const Options& options) {
  return Enumeration(endpoint, options).run();
}

}  // namespace deploycheck::tls
