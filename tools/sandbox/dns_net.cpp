#include "tools/sandbox/dns_net.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <random>
#include <stdexcept>
#include <vector>

#include "tools/sandbox/fd.hpp"

namespace deploycheck::sandbox {
namespace {

constexpr int kPortAttempts = 50;
constexpr std::uint16_t kTypeSoa = 6;
constexpr std::uint16_t kClassIn = 1;

sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return addr;
}

// A socket of `type` bound to 127.0.0.1:port (0 = any free port), or an empty fd.
UniqueFd bound_socket(int type, std::uint16_t port) {
  UniqueFd fd(::socket(AF_INET, type | SOCK_CLOEXEC, 0));
  sockaddr_in addr = loopback(port);
  if (!fd || ::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return {};
  return fd;
}

void put16(std::vector<unsigned char>& out, std::uint16_t value) {
  out.push_back(static_cast<unsigned char>(value >> 8));
  out.push_back(static_cast<unsigned char>(value & 0xff));
}

// Header (id, no flags: a plain non-recursive query, one question), then the question.
std::vector<unsigned char> soa_query(std::uint16_t id, std::string_view zone) {
  std::vector<unsigned char> query;
  put16(query, id);
  for (std::uint16_t field : {0, 1, 0, 0, 0}) put16(query, field);  // flags, QD, AN, NS, AR
  while (!zone.empty()) {
    const size_t dot = zone.find('.');
    std::string_view label = zone.substr(0, dot);
    if (label.empty() || label.size() > 63) {
      throw std::invalid_argument("not a valid zone name for a DNS query: " + std::string(zone));
    }
    query.push_back(static_cast<unsigned char>(label.size()));
    query.insert(query.end(), label.begin(), label.end());
    zone = dot == std::string_view::npos ? std::string_view() : zone.substr(dot + 1);
  }
  query.push_back(0);
  put16(query, kTypeSoa);
  put16(query, kClassIn);
  return query;
}

std::uint16_t get16(const unsigned char* p) {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}

}  // namespace

std::uint16_t pick_free_dns_port() {
  for (int attempt = 0; attempt < kPortAttempts; ++attempt) {
    UniqueFd tcp = bound_socket(SOCK_STREAM, 0);
    sockaddr_in addr{};
    socklen_t len = sizeof addr;
    if (!tcp || ::getsockname(tcp.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      throw std::runtime_error(
          errno_text("cannot bind a socket to 127.0.0.1:0 to find a free port"));
    }
    const std::uint16_t port = ntohs(addr.sin_port);
    if (bound_socket(SOCK_DGRAM, port)) return port;
    // Free for TCP but taken for UDP: try another one.
  }
  throw std::runtime_error("found no port free for both UDP and TCP on 127.0.0.1 in " +
                           std::to_string(kPortAttempts) + " attempts");
}

std::string SoaReply::describe() const {
  if (!answered) return "no reply";
  static constexpr std::array<const char*, 6> kNames{"NOERROR",  "FORMERR", "SERVFAIL",
                                                     "NXDOMAIN", "NOTIMP",  "REFUSED"};
  std::string text = rcode >= 0 && rcode < static_cast<int>(kNames.size())
                         ? kNames[static_cast<size_t>(rcode)]
                         : "RCODE " + std::to_string(rcode);
  text += authoritative ? ", authoritative, " : ", not authoritative, ";
  text += std::to_string(answers) + (answers == 1 ? " answer" : " answers");
  return text;
}

SoaReply query_soa(std::uint16_t port, std::string_view zone, std::chrono::milliseconds timeout) {
  static std::mt19937 random{std::random_device{}()};
  const auto id = static_cast<std::uint16_t>(random());
  const std::vector<unsigned char> query = soa_query(id, zone);

  UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd) throw std::runtime_error(errno_text("cannot create a UDP socket"));
  sockaddr_in addr = loopback(port);
  // Connected, so a closed port shows at once as ECONNREFUSED instead of a timeout.
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::send(fd.get(), query.data(), query.size(), 0) < 0) {
    return {};
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd p{fd.get(), POLLIN, 0};
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) return {};
    std::array<unsigned char, 4096> reply{};
    ssize_t n = ::recv(fd.get(), reply.data(), reply.size(), 0);
    if (n < 0) return {};  // ECONNREFUSED: nothing listens there (yet)
    if (n < 12 || get16(reply.data()) != id || (reply[2] & 0x80) == 0) continue;  // not ours
    SoaReply result;
    result.answered = true;
    result.authoritative = (reply[2] & 0x04) != 0;
    result.rcode = reply[3] & 0x0f;
    result.answers = get16(reply.data() + 6);
    return result;
  }
}

}  // namespace deploycheck::sandbox
