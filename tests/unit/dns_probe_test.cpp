// probes/dns against a real authoritative server: knot 3.2, started by the test in a temporary
// directory on a free loopback port, serving a zone with every record type the probe reads.
// Plus a relay that drops every 10th query (loss recovery), a UDP socket that never answers (the
// resolver-down case), hand-made replies for the wire parser's error paths, and the flow
// control's arithmetic on its own.
#include "probes/dns/dns_probe.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "probes/dns/flow_control.hpp"
#include "probes/dns/wire.hpp"
#include "probes/policy.hpp"

namespace deploycheck::dns {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;
namespace fs = std::filesystem;

constexpr const char* kKnotd = "/usr/sbin/knotd";
constexpr int kHosts = 1000;  // h0 … h999: the burst test
constexpr int kBigTxt = 40;   // TXT records at big.example.test, ~2.6 kB: truncated over UDP

// ---------------------------------------------------------------------------------------------
// A socket on 127.0.0.1, closed on destruction.
class Socket {
 public:
  explicit Socket(int type, std::uint16_t port = 0)
      : fd_(::socket(AF_INET, type | SOCK_CLOEXEC, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bound_ = fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;

  bool bound() const { return bound_; }
  int fd() const { return fd_; }
  std::uint16_t port() const {
    sockaddr_in addr{};
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    return ntohs(addr.sin_port);
  }

 private:
  int fd_;
  bool bound_ = false;
};

// A port free for both UDP and TCP right now (knot listens on both).
std::uint16_t free_port() {
  for (int i = 0; i < 100; ++i) {
    Socket udp(SOCK_DGRAM);
    if (!udp.bound()) continue;
    Socket tcp(SOCK_STREAM, udp.port());
    if (tcp.bound()) return udp.port();
  }
  throw std::runtime_error("no free loopback port");
}

// A temporary directory, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "deploycheck-dns-test.XXXXXX").string();
    if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;  // best effort: a leftover in /tmp is not worth failing a test
    fs::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::string repeat(char c, int n) {
  return std::string(static_cast<std::size_t>(n), c);
}

std::string big_txt(int i) {
  return "record-" + std::to_string(100 + i) + "-" + repeat('x', 50);
}

// The zone every knot test reads. `long` holds one TXT record of two character-strings
// (200 + 100 octets); `multi` two records.
std::string zone_text() {
  std::ostringstream z;
  z << "$ORIGIN example.test.\n"
       "$TTL 300\n"
       "@      SOA ns1 hostmaster 1 3600 600 86400 300\n"
       "@      NS  ns1\n"
       "@      NS  ns2.example.test.\n"
       "@      MX  10 mail\n"
       "@      MX  20 mail2.other.test.\n"
       "@      CAA 0 issue \"letsencrypt.org\"\n"
       "@      CAA 128 iodef \"mailto:security@example.test\"\n"
       "ns1    A   127.0.0.1\n"
       "ns2    A   127.0.0.2\n"
       "mail   A   192.0.2.25\n"
       "www    A   192.0.2.1\n"
       "www    A   192.0.2.2\n"
       "www    AAAA 2001:db8::1\n"
       "alias  CNAME www\n"
       "short  60 A 192.0.2.60\n"
       "_https._tcp SRV 10 5 443 www\n"
       "long   TXT \""
    << repeat('a', 200) << "\" \"" << repeat('b', 100)
    << "\"\n"
       "multi  TXT \"v=spf1 include:_spf.example.test -all\"\n"
       "multi  TXT \"second record\"\n";
  for (int i = 0; i < kBigTxt; ++i) z << "big TXT \"" << big_txt(i) << "\"\n";
  for (int i = 0; i < kHosts; ++i) z << "h" << i << " A 10.0." << i / 256 << "." << i % 256 << "\n";
  return z.str();
}

void write_file(const fs::path& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

// One knotd in the foreground, in its own process group, serving example.test (and
// broken.test, whose zone file is missing on purpose: knot answers SERVFAIL for it). Stopped
// with SIGTERM to the group, SIGKILL after a grace period, and reaped.
class Knot {
 public:
  Knot() {
    const auto conf = dir_.path() / "knot.conf";
    write_file(dir_.path() / "example.test.zone", zone_text());
    port_ = free_port();
    const std::string d = dir_.path().string();
    // No `user:` — knot keeps the identity it was started with, root or not.
    write_file(conf,
               "server:\n"
               "  rundir: \"" +
                   d +
                   "\"\n"
                   "  listen: 127.0.0.1@" +
                   std::to_string(port_) +
                   "\n"
                   "  udp-workers: 2\n"
                   "  tcp-workers: 2\n"
                   "  background-workers: 1\n"
                   "log:\n"
                   "  - target: stderr\n"
                   "    any: info\n"
                   "database:\n"
                   "  storage: \"" +
                   d +
                   "\"\n"
                   "zone:\n"
                   "  - domain: example.test\n"
                   "    storage: \"" +
                   d +
                   "\"\n"
                   "    file: example.test.zone\n"
                   "  - domain: broken.test\n"
                   "    storage: \"" +
                   d +
                   "\"\n"
                   "    file: missing.zone\n");
    // Everything the child needs is prepared here: after fork() in a process that may have
    // threads, the child may only make async-signal-safe calls (no allocation) until exec.
    const std::string log = (dir_.path() / "knot.log").string();
    const std::string conf_arg = conf.string();
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      ::setpgid(0, 0);
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);  // a crashed test leaves no knotd behind
      const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (fd >= 0) {
        ::dup2(fd, STDOUT_FILENO);
        ::dup2(fd, STDERR_FILENO);
      }
      ::execl(kKnotd, kKnotd, "-c", conf_arg.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::setpgid(pid_, pid_);  // either side may run first
  }
  ~Knot() {
    ::kill(-pid_, SIGTERM);
    const auto give_up = std::chrono::steady_clock::now() + 3s;
    while (::waitpid(pid_, nullptr, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > give_up) {
        ::kill(-pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
        break;
      }
      std::this_thread::sleep_for(5ms);
    }
  }
  Knot(const Knot&) = delete;
  Knot& operator=(const Knot&) = delete;

  Resolver resolver() const { return *parse_resolver("127.0.0.1:" + std::to_string(port_)); }
  std::string log() const {
    std::ifstream in(dir_.path() / "knot.log");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  // Waits until knot answers for the zone; false (with the log printed) after 5 s or if knotd
  // exited (e.g. someone took the port in between).
  bool wait_ready() {
    const auto give_up = std::chrono::steady_clock::now() + 5s;
    const Options quick{Duration{100}, 0, 1};
    while (std::chrono::steady_clock::now() < give_up) {
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) break;
      try {
        const auto answers = resolve_all(resolver(), {{"example.test", RecordType::kNS}}, quick);
        if (answers.at(0).status == Status::kAnswer) return true;
      } catch (const Unreachable&) {
        // not listening yet
      }
      std::this_thread::sleep_for(10ms);
    }
    std::cerr << "knotd did not become ready; its log:\n" << log();
    return false;
  }

 private:
  TempDir dir_;
  std::uint16_t port_ = 0;
  pid_t pid_ = -1;
};

class DnsProbeKnot : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(kKnotd)) GTEST_SKIP() << kKnotd << " is absent (Debian package knot)";
    // A port picked free can be taken before knotd binds it: try a fresh one.
    for (int i = 0; i < 3 && !knot_; ++i) {
      knot_ = std::make_unique<Knot>();
      if (!knot_->wait_ready()) knot_.reset();
    }
    ASSERT_TRUE(knot_) << "knotd never answered";
  }

  Answer ask(const std::string& name, RecordType type, Options options = {}) {
    auto answers = resolve_all(knot_->resolver(), {{name, type}}, options);
    EXPECT_EQ(answers.size(), 1u);
    return answers.at(0);
  }

  std::unique_ptr<Knot> knot_;
};

auto HasData(const std::string& data) {
  return Field(&Record::data, data);
}

// ---------------------------------------------------------------------------------------------
// Record types, TTLs, names.

TEST_F(DnsProbeKnot, AddressRecordsWithTtlAndLowerCaseOwner) {
  const Answer a = ask("WWW.Example.TEST", RecordType::kA);
  EXPECT_EQ(a.status, Status::kAnswer) << a.error;
  ASSERT_EQ(a.records.size(), 2u);
  for (const Record& r : a.records) {
    EXPECT_EQ(r.name, "www.example.test");
    EXPECT_EQ(r.type, RecordType::kA);
    EXPECT_EQ(r.ttl, 300u);
  }
  EXPECT_THAT(a.records, UnorderedElementsAre(HasData("192.0.2.1"), HasData("192.0.2.2")));
  EXPECT_EQ(a.attempts, 1);
  EXPECT_FALSE(a.via_tcp);
  EXPECT_GT(a.elapsed_ms, 0);
  EXPECT_LT(a.elapsed_ms, 1000);

  const Answer aaaa = ask("www.example.test.", RecordType::kAAAA);  // a trailing dot is fine
  EXPECT_EQ(aaaa.status, Status::kAnswer) << aaaa.error;
  EXPECT_THAT(aaaa.records, ElementsAre(HasData("2001:db8::1")));
}

TEST_F(DnsProbeKnot, ShortTtlIsReported) {
  const Answer a = ask("short.example.test", RecordType::kA);
  ASSERT_EQ(a.records.size(), 1u);
  EXPECT_EQ(a.records[0].ttl, 60u);
}

TEST_F(DnsProbeKnot, CnameAndChainFollowedByTheServer) {
  const Answer cname = ask("alias.example.test", RecordType::kCNAME);
  EXPECT_EQ(cname.status, Status::kAnswer);
  ASSERT_EQ(cname.records.size(), 1u);
  EXPECT_EQ(cname.records[0].name, "alias.example.test");
  EXPECT_EQ(cname.records[0].data, "www.example.test");
  EXPECT_EQ(cname.records[0].ttl, 300u);

  // Asked for A at the alias: only the A records, owned by the chain's end.
  const Answer a = ask("alias.example.test", RecordType::kA);
  EXPECT_EQ(a.status, Status::kAnswer);
  ASSERT_EQ(a.records.size(), 2u);
  EXPECT_EQ(a.records[0].name, "www.example.test");
  EXPECT_EQ(a.records[0].type, RecordType::kA);
}

TEST_F(DnsProbeKnot, MxNsSrvCaa) {
  const Answer mx = ask("example.test", RecordType::kMX);
  EXPECT_THAT(mx.records, UnorderedElementsAre(HasData("10 mail.example.test"),
                                               HasData("20 mail2.other.test")));
  EXPECT_EQ(mx.records.at(0).ttl, 300u);

  const Answer ns = ask("example.test", RecordType::kNS);
  EXPECT_THAT(ns.records,
              UnorderedElementsAre(HasData("ns1.example.test"), HasData("ns2.example.test")));

  const Answer srv = ask("_https._tcp.example.test", RecordType::kSRV);
  EXPECT_THAT(srv.records, ElementsAre(HasData("10 5 443 www.example.test")));
  EXPECT_EQ(srv.records.at(0).name, "_https._tcp.example.test");

  const Answer caa = ask("example.test", RecordType::kCAA);
  EXPECT_THAT(caa.records,
              UnorderedElementsAre(HasData("0 issue \"letsencrypt.org\""),
                                   HasData("128 iodef \"mailto:security@example.test\"")));
  EXPECT_EQ(caa.records.at(0).ttl, 300u);
}

TEST_F(DnsProbeKnot, TxtStringsJoinedWithinARecordRecordsKeptApart) {
  const Answer joined = ask("long.example.test", RecordType::kTXT);
  EXPECT_EQ(joined.status, Status::kAnswer);
  ASSERT_EQ(joined.records.size(), 1u);
  EXPECT_EQ(joined.records[0].data, repeat('a', 200) + repeat('b', 100));
  EXPECT_EQ(joined.records[0].ttl, 300u);

  const Answer two = ask("multi.example.test", RecordType::kTXT);
  EXPECT_THAT(two.records, UnorderedElementsAre(HasData("v=spf1 include:_spf.example.test -all"),
                                                HasData("second record")));
}

TEST_F(DnsProbeKnot, TruncatedUdpAnswerIsAskedAgainOverTcp) {
  const Answer a = ask("big.example.test", RecordType::kTXT);
  EXPECT_EQ(a.status, Status::kAnswer) << a.error;
  EXPECT_TRUE(a.via_tcp);
  EXPECT_EQ(a.attempts, 2);  // the truncated UDP reply, then TCP
  ASSERT_EQ(a.records.size(), static_cast<std::size_t>(kBigTxt));
  std::vector<std::string> seen;
  for (const Record& r : a.records) seen.push_back(r.data);
  for (int i = 0; i < kBigTxt; ++i) {
    EXPECT_THAT(seen, ::testing::Contains(big_txt(i)));
  }
  // A small answer stays on UDP.
  EXPECT_FALSE(ask("multi.example.test", RecordType::kTXT).via_tcp);
}

// ---------------------------------------------------------------------------------------------
// Negative answers: each its own fact, none an exception.

TEST_F(DnsProbeKnot, NegativeAnswersAreDistinctFacts) {
  const Resolver resolver = knot_->resolver();
  const auto answers = resolve_all(resolver,
                                   {{"nope.example.test", RecordType::kA},
                                    {"www.example.test", RecordType::kTXT},
                                    {"alias.example.test", RecordType::kMX},
                                    {"www.other.test", RecordType::kA},
                                    {"www.broken.test", RecordType::kA}},
                                   Options{});
  ASSERT_EQ(answers.size(), 5u);
  EXPECT_EQ(answers[0].status, Status::kNxDomain);
  EXPECT_EQ(answers[1].status, Status::kNoData);
  EXPECT_EQ(answers[2].status, Status::kNoData);    // a CNAME, but no MX at its end
  EXPECT_EQ(answers[3].status, Status::kRefused);   // a zone knot does not serve
  EXPECT_EQ(answers[4].status, Status::kServFail);  // a zone knot failed to load
  for (const Answer& a : answers) {
    EXPECT_TRUE(a.records.empty()) << a.query.name;
    EXPECT_EQ(a.attempts, 1) << a.query.name << ": a negative answer is not retried";
  }
  // In the order asked, whatever order the replies came in.
  EXPECT_EQ(answers[3].query.name, "www.other.test");
}

// ---------------------------------------------------------------------------------------------
// Many at once.

TEST_F(DnsProbeKnot, ThousandQueriesAtOnceAllAnsweredWithoutTimeouts) {
  std::vector<Query> queries;
  for (int i = 0; i < kHosts; ++i)
    queries.push_back({"h" + std::to_string(i) + ".example.test", RecordType::kA});
  const auto start = std::chrono::steady_clock::now();
  const auto answers = resolve_all(knot_->resolver(), queries, Options{});
  const std::chrono::duration<double, std::milli> took = std::chrono::steady_clock::now() - start;
  std::cout << "[ timing   ] " << kHosts << " A queries against knot on loopback: " << took.count()
            << " ms\n";

  ASSERT_EQ(answers.size(), queries.size());
  int resent = 0;
  for (int i = 0; i < kHosts; ++i) {
    const Answer& a = answers[static_cast<std::size_t>(i)];
    ASSERT_EQ(a.status, Status::kAnswer) << a.query.name << ": " << a.error;
    ASSERT_EQ(a.records.size(), 1u);
    EXPECT_EQ(a.records[0].name, queries[static_cast<std::size_t>(i)].name);
    EXPECT_EQ(a.records[0].data, "10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256));
    if (a.attempts != 1) ++resent;
  }
  std::cout << "[ timing   ] resent early (presumed lost): " << resent << "\n";
  // A reply lost to a full receive buffer is resent after the adaptive RTO (tens of ms), never
  // after the 2 s per-attempt timeout: anything near 2 s means the burst collapsed.
  EXPECT_LT(took.count(), 1000);
}

TEST_F(DnsProbeKnot, WindowOfOneStillAnswersEverything) {
  std::vector<Query> queries;
  for (int i = 0; i < 50; ++i)
    queries.push_back({"h" + std::to_string(i) + ".example.test", RecordType::kA});
  queries.push_back({"big.example.test", RecordType::kTXT});
  const auto answers = resolve_all(knot_->resolver(), queries, Options{Duration{2000}, 1, 1});
  for (const Answer& a : answers) EXPECT_EQ(a.status, Status::kAnswer) << a.query.name;
  EXPECT_TRUE(answers.back().via_tcp);
}

// Between the probe and knot: forwards UDP both ways but drops every `nth` query, like a
// server whose receive buffer overflowed. Runs on its own thread until destroyed.
class DroppingRelay {
 public:
  DroppingRelay(std::uint16_t server_port, int nth)
      : front_(SOCK_DGRAM), back_(SOCK_DGRAM), nth_(nth) {
    sockaddr_in server{};
    server.sin_family = AF_INET;
    server.sin_port = htons(server_port);
    server.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(back_.fd(), reinterpret_cast<sockaddr*>(&server), sizeof server) != 0) {
      throw std::runtime_error("relay: connect failed");
    }
    thread_ = std::jthread([this](std::stop_token stop) { relay(stop); });
  }
  std::uint16_t port() const { return front_.port(); }
  int dropped() const { return dropped_; }

 private:
  void relay(std::stop_token stop) {
    sockaddr_in client{};
    char buf[65536];
    int seen = 0;
    while (!stop.stop_requested()) {
      pollfd fds[2] = {{front_.fd(), POLLIN, 0}, {back_.fd(), POLLIN, 0}};
      if (::poll(fds, 2, 20) <= 0) continue;  // wake up now and then to notice `stop`
      if (fds[0].revents & POLLIN) {
        socklen_t len = sizeof client;
        const auto n =
            ::recvfrom(front_.fd(), buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&client), &len);
        if (n > 0 && ++seen % nth_ == 0) {
          ++dropped_;
        } else if (n > 0) {
          ::send(back_.fd(), buf, static_cast<std::size_t>(n), 0);
        }
      }
      if (fds[1].revents & POLLIN) {
        const auto n = ::recv(back_.fd(), buf, sizeof buf, 0);
        if (n > 0) {
          ::sendto(front_.fd(), buf, static_cast<std::size_t>(n), 0,
                   reinterpret_cast<sockaddr*>(&client), sizeof client);
        }
      }
    }
  }

  Socket front_, back_;
  const int nth_;
  std::atomic<int> dropped_ = 0;
  std::jthread thread_;  // last: joined before the sockets close
};

TEST_F(DnsProbeKnot, LostQueriesAreResentLongBeforeTheTimeout) {
  DroppingRelay relay(knot_->resolver().port, 10);
  const auto resolver = *parse_resolver("127.0.0.1:" + std::to_string(relay.port()));
  std::vector<Query> queries;
  for (int i = 0; i < 300; ++i)
    queries.push_back({"h" + std::to_string(i) + ".example.test", RecordType::kA});
  const auto start = std::chrono::steady_clock::now();
  const auto answers = resolve_all(resolver, queries, Options{Duration{2000}, 1, 256});
  const auto took = std::chrono::steady_clock::now() - start;
  int resent = 0;
  for (const Answer& a : answers) {
    EXPECT_EQ(a.status, Status::kAnswer) << a.query.name << ": " << a.error;
    if (a.attempts > 1) ++resent;
  }
  EXPECT_GE(relay.dropped(), 30);
  // A resent query may be dropped again (every 10th datagram is), so fewer queries than drops.
  EXPECT_GE(resent, 25);
  // Each loss is noticed from the replies that overtook it, or after the adaptive RTO (at
  // least 50 ms); waiting out the 2 s per-attempt timeout would take seconds.
  EXPECT_LT(took, 1500ms);
}

// ---------------------------------------------------------------------------------------------
// A resolver that never answers, or is not there.

TEST(DnsProbe, SilentResolverThrowsUnreachableWithinDeadlineTimesAttempts) {
  Socket silent(SOCK_DGRAM);  // bound, never read: every query vanishes
  ASSERT_TRUE(silent.bound());
  const auto resolver = *parse_resolver("127.0.0.1:" + std::to_string(silent.port()));
  const Options options{Duration{300}, 1, 256};
  const auto start = std::chrono::steady_clock::now();
  try {
    resolve_all(resolver,
                {{"a.example.test", RecordType::kA},
                 {"b.example.test", RecordType::kTXT},
                 {"c.example.test", RecordType::kMX}},
                options);
    FAIL() << "expected Unreachable";
  } catch (const Unreachable& e) {
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    EXPECT_THAT(e.what(), HasSubstr("DNS resolver 127.0.0.1:" + std::to_string(silent.port()) +
                                    " did not answer any of 3 queries within deadline 300ms × "
                                    "2 attempts"));
    EXPECT_GE(took.count(), 0.6 - 0.02);  // both attempts were waited for
    EXPECT_LT(took.count(), 0.6 + 0.5);
  }
}

TEST(DnsProbe, SilentResolverIsDetectedInOneDeadlineWhateverTheNumberOfQueries) {
  Socket silent(SOCK_DGRAM);
  ASSERT_TRUE(silent.bound());
  const auto resolver = *parse_resolver("127.0.0.1:" + std::to_string(silent.port()));
  std::vector<Query> queries;
  for (int i = 0; i < 600; ++i)
    queries.push_back({"h" + std::to_string(i) + ".test", RecordType::kA});
  const auto start = std::chrono::steady_clock::now();
  EXPECT_THROW(resolve_all(resolver, queries, Options{Duration{200}, 1, 16}), Unreachable);
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  EXPECT_LT(took.count(), 0.4 + 0.5);
}

TEST(DnsProbe, ClosedPortThrowsUnreachableSayingConnectionRefused) {
  std::uint16_t port = 0;
  {
    Socket s(SOCK_DGRAM);
    port = s.port();
  }  // closed again: ICMP port unreachable
  const auto resolver = *parse_resolver("127.0.0.1:" + std::to_string(port));
  const auto start = std::chrono::steady_clock::now();
  try {
    resolve_all(resolver, {{"a.example.test", RecordType::kA}}, Options{Duration{2000}, 1, 8});
    FAIL() << "expected Unreachable";
  } catch (const Unreachable& e) {
    EXPECT_THAT(e.what(), HasSubstr("did not answer any of 1 queries"));
    EXPECT_THAT(e.what(), HasSubstr("connection refused"));
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s) << "a refusal needs no timeout";
}

// ---------------------------------------------------------------------------------------------
// Parsing of configuration text and facts.

TEST(DnsProbe, RecordTypesByName) {
  for (const char* name : {"A", "AAAA", "CNAME", "MX", "TXT", "NS", "CAA", "SRV"}) {
    const auto type = parse_record_type(name);
    ASSERT_TRUE(type) << name;
    EXPECT_STREQ(to_string(*type), name);
  }
  EXPECT_FALSE(parse_record_type("PTR"));
  EXPECT_FALSE(parse_record_type(""));
}

TEST(DnsProbe, ResolversByName) {
  const auto system = parse_resolver("system");
  ASSERT_TRUE(system);
  EXPECT_EQ(system->id, "system");
  EXPECT_FALSE(system->address);
  EXPECT_EQ(system->display(), "the system resolver");

  const auto v4 = parse_resolver("192.0.2.53");
  ASSERT_TRUE(v4);
  EXPECT_EQ(*v4->address, "192.0.2.53");
  EXPECT_EQ(v4->port, 53);
  EXPECT_EQ(v4->display(), "192.0.2.53:53");

  const auto v4port = parse_resolver("127.0.0.1:5353");
  ASSERT_TRUE(v4port);
  EXPECT_EQ(v4port->id, "127.0.0.1_5353");
  EXPECT_EQ(v4port->port, 5353);
  EXPECT_EQ(v4port->display(), "127.0.0.1:5353");

  const auto v6 = parse_resolver("[2001:DB8:0::53]:5300");
  ASSERT_TRUE(v6);
  EXPECT_EQ(*v6->address, "2001:db8::53");  // canonical spelling
  EXPECT_EQ(v6->port, 5300);
  EXPECT_EQ(v6->display(), "[2001:db8::53]:5300");
  EXPECT_EQ(parse_resolver("2001:db8::53")->port, 53);

  for (const char* bad : {"", "dns.example.com", "192.0.2.53:", "192.0.2.53:0", "192.0.2.53:70000",
                          "192.0.2.53:53x", "[2001:db8::53", "[2001:db8::53]53", "300.1.1.1"}) {
    EXPECT_FALSE(parse_resolver(bad)) << bad;
  }
}

TEST(DnsProbe, AnswerSurvivesJson) {
  Answer a;
  a.query = {"example.test", RecordType::kTXT};
  a.status = Status::kAnswer;
  a.records = {{"example.test", RecordType::kTXT, 300, "v=spf1 -all"},
               {"example.test", RecordType::kTXT, 60, "caf\u00e9 \\001"}};
  a.attempts = 2;
  a.elapsed_ms = 12.5;
  a.via_tcp = true;
  const Answer back = answer_from_json(nlohmann::json::parse(to_json(a).dump()));
  EXPECT_EQ(back.query.name, a.query.name);
  EXPECT_EQ(back.query.type, a.query.type);
  EXPECT_EQ(back.status, a.status);
  ASSERT_EQ(back.records.size(), 2u);
  EXPECT_EQ(back.records[1].name, "example.test");
  EXPECT_EQ(back.records[1].type, RecordType::kTXT);
  EXPECT_EQ(back.records[1].ttl, 60u);
  EXPECT_EQ(back.records[1].data, a.records[1].data);
  EXPECT_EQ(back.attempts, 2);
  EXPECT_DOUBLE_EQ(back.elapsed_ms, 12.5);
  EXPECT_TRUE(back.via_tcp);

  Answer timeout;
  timeout.query = {"x.test", RecordType::kCAA};
  timeout.status = Status::kTimeout;
  timeout.error = "no reply";
  const Answer t = answer_from_json(to_json(timeout));
  EXPECT_EQ(t.status, Status::kTimeout);
  EXPECT_EQ(t.error, "no reply");
  EXPECT_EQ(t.query.type, RecordType::kCAA);

  auto j = to_json(a);
  j["status"] = "MAYBE";
  EXPECT_THROW(answer_from_json(j), std::invalid_argument);
}

// ---------------------------------------------------------------------------------------------
// The wire parser on hand-made replies: what knot never sends.

// A reply header: ID 0, QR set, the given RCODE and counts.
std::vector<unsigned char> header(int rcode, int qd, int an, bool tc = false) {
  return {0,
          0,
          static_cast<unsigned char>(0x80 | (tc ? 0x02 : 0)),
          static_cast<unsigned char>(rcode),
          0,
          static_cast<unsigned char>(qd),
          0,
          static_cast<unsigned char>(an),
          0,
          0,
          0,
          0};
}

void append(std::vector<unsigned char>& v, std::initializer_list<int> bytes) {
  for (int b : bytes) v.push_back(static_cast<unsigned char>(b));
}

TEST(DnsWire, CompressedNamesEscapesAndTxtBytes) {
  auto m = header(0, 1, 2);
  // Question at offset 12: "Ex.test" TXT IN
  append(m, {2, 'E', 'x', 4, 't', 'e', 's', 't', 0, 0, 16, 0, 1});
  // Answer 1: owner = pointer to 12, TXT, TTL 0x80000000 (read as 0), two strings
  append(m, {0xC0, 12, 0, 16, 0, 1, 0x80, 0, 0, 0, 0, 8, 3, 'a', 'b', 'c', 3, 0x01, 0xC3, 0xA9});
  // Answer 2: owner "a.b" + pointer — a label with a dot inside: "a\.b.ex.test"
  append(m, {3, 'a', '.', 'b', 0xC0, 12, 0, 16, 0, 1, 0, 0, 0, 60, 0, 2, 1, '"'});
  const auto reply = wire::parse_reply(m, RecordType::kTXT);
  EXPECT_EQ(reply.rcode, 0);
  ASSERT_EQ(reply.records.size(), 2u);
  EXPECT_EQ(reply.records[0].name, "ex.test");
  EXPECT_EQ(reply.records[0].ttl, 0u);
  EXPECT_EQ(reply.records[0].data, "abc\\001\u00e9");  // control byte as \DDD, UTF-8 kept
  EXPECT_EQ(reply.records[1].name, "a\\.b.ex.test");
  EXPECT_EQ(reply.records[1].ttl, 60u);
  EXPECT_EQ(reply.records[1].data, "\"");
}

TEST(DnsWire, MalformedRepliesAreRejectedNotFollowed) {
  // A pointer to itself.
  auto loop = header(0, 1, 0);
  append(loop, {0xC0, 12, 0, 1, 0, 1});
  EXPECT_THROW(wire::parse_reply(loop, RecordType::kA), wire::MalformedReply);
  // A pointer forward.
  auto forward = header(0, 1, 0);
  append(forward, {0xC0, 14, 0, 0, 0, 1, 0, 1});
  EXPECT_THROW(wire::parse_reply(forward, RecordType::kA), wire::MalformedReply);
  // Cut short inside a record.
  auto cut = header(0, 0, 1);
  append(cut, {0, 0, 1, 0, 1, 0, 0, 0, 5, 0, 4, 192, 0});
  EXPECT_THROW(wire::parse_reply(cut, RecordType::kA), wire::MalformedReply);
  // An A record of 5 octets.
  auto wrong = header(0, 0, 1);
  append(wrong, {0, 0, 1, 0, 1, 0, 0, 0, 5, 0, 5, 192, 0, 2, 1, 9});
  EXPECT_THROW(wire::parse_reply(wrong, RecordType::kA), wire::MalformedReply);
  // A TXT string longer than its record.
  auto txt = header(0, 0, 1);
  append(txt, {0, 0, 16, 0, 1, 0, 0, 0, 5, 0, 3, 5, 'a', 'b'});
  EXPECT_THROW(wire::parse_reply(txt, RecordType::kTXT), wire::MalformedReply);
  // Shorter than a header.
  EXPECT_THROW(wire::parse_reply(std::vector<unsigned char>{0, 0, 0}, RecordType::kA),
               wire::MalformedReply);
}

TEST(DnsWire, TruncatedReplyIsOnlyItsHeader) {
  auto m = header(0, 1, 3, /*tc=*/true);
  append(m, {0, 0, 16, 0, 1, 0xC0});  // stops anywhere
  const auto reply = wire::parse_reply(m, RecordType::kTXT);
  EXPECT_TRUE(reply.truncated);
  EXPECT_TRUE(reply.records.empty());
}

TEST(DnsWire, NullMxTargetIsTheRoot) {
  auto m = header(0, 0, 1);
  append(m, {0, 0, 15, 0, 1, 0, 0, 1, 0, 0, 3, 0, 0, 0});
  const auto reply = wire::parse_reply(m, RecordType::kMX);
  ASSERT_EQ(reply.records.size(), 1u);
  EXPECT_EQ(reply.records[0].name, ".");
  EXPECT_EQ(reply.records[0].data, "0 .");
  EXPECT_EQ(reply.records[0].ttl, 256u);
}

// ---------------------------------------------------------------------------------------------
// Flow control on its own: no sockets, made-up times.

using FlowClock = FlowControl::Clock;

TEST(DnsFlowControl, StartsAtMaxInFlight) {
  EXPECT_EQ(FlowControl(1000).window(), 1000) << "paced by the caller until a round trip is known";
  EXPECT_EQ(FlowControl(10).window(), 10);
  EXPECT_EQ(FlowControl(0).window(), 1);
  EXPECT_FALSE(FlowControl(10).rto()) << "no round trip measured yet";
}

TEST(DnsFlowControl, FirstRoundTripCutsTheWindowToWhatWasInFlight) {
  FlowControl loopback(1024);
  loopback.replied(100us, 20);  // the first reply came while 20 were out: a short path
  EXPECT_EQ(loopback.window(), 21) << "cut to 20, then one more for the reply (slow start)";
  loopback.replied(100us, 5);
  EXPECT_EQ(loopback.window(), 22) << "only the first round trip cuts";

  FlowControl long_path(1024);
  long_path.replied(50ms, 1000);  // everything went out before the first reply
  EXPECT_EQ(long_path.window(), 1001);

  FlowControl ambiguous(1024);
  ambiguous.replied(std::nullopt, 3);  // a retransmitted query's reply measures nothing
  EXPECT_EQ(ambiguous.window(), 1024);
}

TEST(DnsFlowControl, SlowStartDoublesPerWindowOfRepliesUpToMax) {
  FlowControl flow(1000);
  flow.replied(1ms, 99);
  const int start = flow.window();
  for (int i = 0; i < start; ++i) flow.replied(std::nullopt);
  EXPECT_EQ(flow.window(), 2 * start);
  for (int i = 0; i < 5000; ++i) flow.replied(std::nullopt);
  EXPECT_EQ(flow.window(), 1000);
}

TEST(DnsFlowControl, LossHalvesOncePerEventThenGrowsByOnePerWindow) {
  FlowControl flow(256);
  const auto t0 = FlowClock::now();
  const int start = flow.window();
  flow.lost(t0, t0 + 10ms);
  EXPECT_EQ(flow.window(), start / 2);
  // Sent before the cut: the same loss event.
  flow.lost(t0 + 5ms, t0 + 11ms);
  EXPECT_EQ(flow.window(), start / 2);
  // Sent after it: a new one.
  flow.lost(t0 + 12ms, t0 + 20ms);
  const int halved = start / 4;
  EXPECT_EQ(flow.window(), halved);
  for (int i = 0; i < 2 * halved; ++i) flow.replied(std::nullopt);
  EXPECT_EQ(flow.window(), halved + 1) << "additive increase, not slow start, after a loss";
  for (int i = 0; i < 100; ++i) flow.lost(t0 + 30ms + i * 1ms, t0 + 31ms + i * 1ms);
  EXPECT_EQ(flow.window(), 1);
}

TEST(DnsFlowControl, ShrinksWhenRepliesQueueUp) {
  FlowControl flow(256);
  for (int i = 0; i < 1000; ++i) flow.replied(100us);  // an idle path: grows to the maximum
  EXPECT_EQ(flow.window(), 256);
  // Round trips ten times the minimum: ~90% of the window waits in a queue somewhere.
  for (int i = 0; i < 2000; ++i) flow.replied(1ms);
  EXPECT_LE(flow.window(), FlowControl::kMaxQueued / 0.9 + 2);
  EXPECT_GE(flow.window(), FlowControl::kMaxQueued);
}

TEST(DnsFlowControl, RetransmissionTimeoutIsConservative) {
  FlowControl fast(256);
  fast.replied(1ms);
  EXPECT_EQ(*fast.rto(), FlowControl::kMinRto);
  FlowControl slow(256);
  for (int i = 0; i < 50; ++i) slow.replied(100ms);
  EXPECT_GE(*slow.rto(), 200ms) << "never below twice the smoothed round trip";
  EXPECT_LT(*slow.rto(), 220ms);
}

}  // namespace
}  // namespace deploycheck::dns
