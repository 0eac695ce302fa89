// The plain-text prelude of STARTTLS endpoints, hand-written: OpenSSL's s_client knows these
// dialogues but exposes no library call for them, and the two protocols need a few lines each.
//
//   PostgreSQL: the client sends an SSLRequest (length 8, code 80877103); the server answers one
//               byte, 'S' (go on with TLS) or 'N' (no TLS here) — protocol docs, "SSL Session
//               Encryption".
//   SMTP:       greeting 220, EHLO, a 250 reply listing STARTTLS, STARTTLS, 220 — RFC 3207.
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstring>

#include "probes/tls/detail.hpp"

namespace deploycheck::tls::detail {
namespace {

StartTlsOutcome refused(std::string why) {
  return {StartTlsOutcome::kRefused, std::move(why)};
}
StartTlsOutcome failed(std::string why) {
  return {StartTlsOutcome::kFailed, std::move(why)};
}

constexpr std::size_t kMaxReply = 16 * 1024;  // an SMTP server talking longer is not one

// Sends all of `data`, or returns why not.
std::string send_all(int fd, std::string_view data, Clock::time_point deadline,
                     const std::atomic<bool>& cancel) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) {
      data.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno != EAGAIN && errno != EINTR) {
      return std::string("sending failed: ") + std::strerror(errno);
    }
    if (wait_for(fd, POLLOUT, deadline, cancel) != Wait::kReady) return "timed out sending";
  }
  return "";
}

// Reads what is available (at least one byte) into `into`; returns why not.
std::string receive(int fd, std::string& into, Clock::time_point deadline,
                    const std::atomic<bool>& cancel) {
  for (;;) {
    std::array<char, 1024> buffer;
    const ssize_t n = ::recv(fd, buffer.data(), buffer.size(), 0);
    if (n > 0) {
      into.append(buffer.data(), static_cast<std::size_t>(n));
      return into.size() > kMaxReply ? "the server's reply is longer than 16 KiB" : "";
    }
    if (n == 0) return "the server closed the connection";
    if (errno != EAGAIN && errno != EINTR)
      return std::string("receive failed: ") + std::strerror(errno);
    switch (wait_for(fd, POLLIN, deadline, cancel)) {
      case Wait::kReady:
        continue;
      case Wait::kTimedOut:
        return "timed out waiting for the server";
      case Wait::kCancelled:
        return "cancelled";
    }
  }
}

// One SMTP reply (possibly multi-line: "250-…" lines, then "250 …"). Stops at the reply's end
// and never reads past it: the TLS handshake follows on the same socket.
std::string read_smtp_reply(int fd, std::string& reply, Clock::time_point deadline,
                            const std::atomic<bool>& cancel) {
  reply.clear();
  std::string buffer;
  for (;;) {
    std::size_t line_start = 0;
    for (std::size_t eol; (eol = buffer.find("\r\n", line_start)) != std::string::npos;
         line_start = eol + 2) {
      const std::string_view line(buffer.data() + line_start, eol - line_start);
      if (line.size() < 3) return "malformed SMTP reply line '" + std::string(line) + "'";
      if (line.size() == 3 || line[3] == ' ') {
        reply = buffer.substr(0, eol);
        return "";
      }
    }
    if (std::string why = receive(fd, buffer, deadline, cancel); !why.empty()) return why;
  }
}

// "220 mail.example.com ESMTP" → the first line, shortened, for messages.
std::string first_line(const std::string& reply) {
  std::string line = reply.substr(0, reply.find("\r\n"));
  return line.size() > 120 ? line.substr(0, 120) + "…" : line;
}

// Each EHLO line is "250-KEYWORD params" or, the last, "250 KEYWORD params".
bool offers_starttls(const std::string& ehlo_reply) {
  for (std::size_t at = 0; at < ehlo_reply.size();) {
    const std::size_t eol = std::min(ehlo_reply.find("\r\n", at), ehlo_reply.size());
    if (eol - at > 4) {
      std::string keyword = ehlo_reply.substr(at + 4, eol - at - 4);
      keyword = keyword.substr(0, keyword.find(' '));
      for (char& c : keyword) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      if (keyword == "STARTTLS") return true;
    }
    at = eol + 2;
  }
  return false;
}

StartTlsOutcome smtp(int fd, Clock::time_point deadline, const std::atomic<bool>& cancel) {
  std::string reply;
  if (auto why = read_smtp_reply(fd, reply, deadline, cancel); !why.empty()) {
    return failed("SMTP greeting: " + why);
  }
  if (reply.rfind("220", 0) != 0) return refused("SMTP greeting was not 220: " + first_line(reply));
  if (auto why = send_all(fd, "EHLO deploycheck.invalid\r\n", deadline, cancel); !why.empty()) {
    return failed("EHLO: " + why);
  }
  if (auto why = read_smtp_reply(fd, reply, deadline, cancel); !why.empty())
    return failed("EHLO: " + why);
  if (reply.rfind("250", 0) != 0) return refused("EHLO was refused: " + first_line(reply));
  if (!offers_starttls(reply)) {
    return refused(
        "the server does not offer STARTTLS (its EHLO reply lists no STARTTLS: mail to it "
        "travels in plain text)");
  }
  if (auto why = send_all(fd, "STARTTLS\r\n", deadline, cancel); !why.empty()) {
    return failed("STARTTLS: " + why);
  }
  if (auto why = read_smtp_reply(fd, reply, deadline, cancel); !why.empty()) {
    return failed("STARTTLS: " + why);
  }
  if (reply.rfind("220", 0) != 0) return refused("STARTTLS was refused: " + first_line(reply));
  return {};
}

StartTlsOutcome postgres(int fd, Clock::time_point deadline, const std::atomic<bool>& cancel) {
  // Int32 length 8, Int32 80877103 (1234 << 16 | 5679), big-endian.
  constexpr char kSslRequest[] = {0, 0, 0, 8, 0x04, static_cast<char>(0xd2), 0x16, 0x2f};
  if (auto why = send_all(fd, std::string_view(kSslRequest, sizeof kSslRequest), deadline, cancel);
      !why.empty()) {
    return failed("SSLRequest: " + why);
  }
  // Exactly one byte: anything after 'S' would be the server's TLS, which it never sends first.
  char answer = 0;
  for (;;) {
    const ssize_t n = ::recv(fd, &answer, 1, 0);
    if (n == 1) break;
    if (n == 0) return failed("SSLRequest: the server closed the connection (is this PostgreSQL?)");
    if (errno != EAGAIN && errno != EINTR) {
      return failed(std::string("SSLRequest: receive failed: ") + std::strerror(errno));
    }
    if (wait_for(fd, POLLIN, deadline, cancel) != Wait::kReady) {
      return failed("SSLRequest: no answer before the deadline");
    }
  }
  if (answer == 'S') return {};
  if (answer == 'N') {
    return refused(
        "the server answered the SSLRequest with 'N': it has ssl = off, so sessions to it "
        "travel in plain text");
  }
  return refused("the server answered the SSLRequest with byte " + std::to_string(answer & 0xff) +
                 " instead of 'S' or 'N' (is this PostgreSQL?)");
}

}  // namespace

StartTlsOutcome negotiate_starttls(int fd, StartTls protocol, Clock::time_point deadline,
                                   const std::atomic<bool>& cancel) {
  switch (protocol) {
    case StartTls::kNone:
      return {};
    case StartTls::kPostgres:
      return postgres(fd, deadline, cancel);
    case StartTls::kSmtp:
      return smtp(fd, deadline, cancel);
  }
  return failed("unknown STARTTLS protocol");
}

}  // namespace deploycheck::tls::detail
