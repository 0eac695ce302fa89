// Deadlines and retries against real sockets on loopback: a closed port, a port that accepts
// and never answers, and a server that only starts answering after 2 s.
#include "probes/policy.hpp"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "probes/facts.hpp"
#include "probes/http/http_probe.hpp"

namespace deploycheck {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

// A TCP socket bound to 127.0.0.1 on a port the kernel picks; closes on destruction.
class Socket {
 public:
  Socket() : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    const int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  }
  ~Socket() { close(); }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;

  void bind(int port = 0) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  }
  int port() const {
    sockaddr_in addr{};
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    return ntohs(addr.sin_port);
  }
  void listen() { ASSERT_EQ(::listen(fd_, 16), 0); }
  int fd() const { return fd_; }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

int closed_port() {
  Socket s;
  s.bind();
  return s.port();  // closed again when `s` goes
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

Policy quick_policy() {
  Policy p;
  p.timeout = 500ms;
  p.retries = 2;  // 3 attempts: the budget is 1.5 s
  p.backoff = 100ms;
  return p;
}

Attempted<HttpResponse> fetch_with(const Policy& policy, const std::string& url) {
  return with_policy(policy, url, [&](Duration timeout) { return fetch({.url = url}, timeout); });
}

TEST(Deadline, ClosedPortFailsWithinDeadlineTimesAttempts) {
  const std::string url = "http://127.0.0.1:" + std::to_string(closed_port()) + "/health";
  const auto start = Clock::now();
  try {
    fetch_with(quick_policy(), url);
    FAIL() << "a closed port answered";
  } catch (const Unreachable& e) {
    EXPECT_LT(seconds_since(start), 1.5 + 0.5);
    EXPECT_THAT(e.what(), HasSubstr(url));
    EXPECT_THAT(e.what(), HasSubstr("deadline 500ms × 3 attempts"));
    EXPECT_THAT(e.what(), HasSubstr("Couldn't connect to server"));
  }
}

TEST(Deadline, SilentPortFailsWithinDeadlineTimesAttempts) {
  Socket silent;  // the kernel completes the handshake; nobody ever reads or answers
  silent.bind();
  silent.listen();
  const std::string url = "http://127.0.0.1:" + std::to_string(silent.port()) + "/health";
  const auto start = Clock::now();
  try {
    fetch_with(quick_policy(), url);
    FAIL() << "a port that never answers produced a response";
  } catch (const Unreachable& e) {
    const double took = seconds_since(start);
    EXPECT_LT(took, 1.5 + 0.5);
    EXPECT_GT(took, 1.0) << "it gave up before the attempts had used their time";
    EXPECT_THAT(e.what(), HasSubstr("127.0.0.1:" + std::to_string(silent.port())));
    EXPECT_THAT(e.what(), HasSubstr("deadline 500ms × 3 attempts"));
    EXPECT_THAT(e.what(), HasSubstr("imed out"));
  }
}

TEST(Deadline, RetriesStopAtTheFirstAnswer) {
  Socket server;
  server.bind();
  server.listen();
  std::thread answer([&] {
    const int client = ::accept(server.fd(), nullptr, nullptr);
    char buffer[4096];
    (void)::read(client, buffer, sizeof buffer);
    const char reply[] = "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n";
    (void)::write(client, reply, sizeof reply - 1);
    ::close(client);
  });
  const auto result =
      fetch_with(quick_policy(), "http://127.0.0.1:" + std::to_string(server.port()) + "/");
  answer.join();
  EXPECT_EQ(result.value.status, 204);
  EXPECT_EQ(result.attempts, 1);
}

// A server that binds its port only after 2 s, then answers one request with 200.
class LateServer {
 public:
  explicit LateServer(int port)
      : thread_([this, port] {
          std::this_thread::sleep_for(2s);
          Socket s;
          s.bind(port);
          s.listen();
          const int client = ::accept(s.fd(), nullptr, nullptr);
          char buffer[4096];
          (void)::read(client, buffer, sizeof buffer);
          const char reply[] =
              "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
          (void)::write(client, reply, sizeof reply - 1);
          ::close(client);
        }) {}
  ~LateServer() { thread_.join(); }

 private:
  std::thread thread_;
};

TEST(Eventually, ServerThatAnswersAfterTwoSecondsPassesAndRecordsAttempts) {
  const int port = closed_port();
  LateServer server(port);
  Policy policy;
  policy.timeout = 500ms;
  policy.retries = 0;
  policy.backoff = 200ms;
  policy.eventually = 5s;
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/health";
  auto& store = FactStore::instance();
  store.open(std::nullopt);  // in memory: this process only
  store.add_gatherer("HTTP/late", policy, [url](const Policy& p) {
    auto r = fetch_with(p, url);
    return std::pair{to_json(r.value), r.attempts};
  });
  const auto start = Clock::now();
  const Fact fact = store.gather("HTTP/late");
  const double took = seconds_since(start);
  ASSERT_FALSE(fact.error) << *fact.error;
  EXPECT_EQ(http_response_from_json(fact.data).status, 200);
  EXPECT_GT(fact.attempts, 1) << "the first attempts must have failed while the server slept";
  EXPECT_GT(took, 1.9);
  EXPECT_LT(took, 5.0);
}

TEST(Eventually, GivesUpWhenTheTimeIsUpAndSaysWhy) {
  Policy policy;
  policy.timeout = 300ms;
  policy.retries = 0;
  policy.backoff = 100ms;
  policy.eventually = 1s;
  const std::string url = "http://127.0.0.1:" + std::to_string(closed_port()) + "/";
  auto& store = FactStore::instance();
  store.open(std::nullopt);
  store.add_gatherer("HTTP/never", policy, [url](const Policy& p) {
    auto r = fetch_with(p, url);
    return std::pair{to_json(r.value), r.attempts};
  });
  const auto start = Clock::now();
  const Fact fact = store.gather("HTTP/never");
  ASSERT_TRUE(fact.error);
  EXPECT_THAT(*fact.error, HasSubstr("did not answer"));
  EXPECT_LT(seconds_since(start), policy.budget().count() / 1000.0 + 0.5);
  EXPECT_GT(fact.attempts, 2);
}

}  // namespace
}  // namespace deploycheck
