// One TCP connection and TLS handshake with a deadline: non-blocking connect, then SSL_connect
// driven by poll(). Used for the default handshake and for every enumeration probe.
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "probes/policy.hpp"
#include "probes/tls/detail.hpp"

namespace deploycheck::tls::detail {
namespace {

// poll() in slices this long so a cancelled probe (the endpoint is known unreachable) stops
// waiting early; an event still wakes poll() at once, so this adds no latency.
constexpr Duration kCancelSlice{50};

// "\x02h2\x08http/1.1": ALPN's wire format, what browsers and curl offer.
constexpr unsigned char kAlpn[] = {2, 'h', '2', 8, 'h', 't', 't', 'p', '/', '1', '.', '1'};

// What the info callback saw during one handshake.
struct Seen {
  std::string alert;  // the alert the server sent, if any
};

void on_info(const SSL* ssl, int where, int ret) {
  if ((where & SSL_CB_READ_ALERT) == 0) return;
  auto* seen = static_cast<Seen*>(SSL_get_app_data(ssl));
  if (seen != nullptr && seen->alert.empty()) {
    seen->alert = std::string("server sent alert \"") + SSL_alert_desc_string_long(ret) + "\"";
  }
}

std::string errno_text(int err) {
  return std::strerror(err);
}

}  // namespace

Wait wait_for(int fd, short events, Clock::time_point deadline, const std::atomic<bool>& cancel) {
  for (;;) {
    if (cancel.load()) return Wait::kCancelled;
    const auto left = std::chrono::duration_cast<Duration>(deadline - Clock::now());
    if (left <= Duration::zero()) return Wait::kTimedOut;
    pollfd p{fd, events, 0};
    const int n = ::poll(&p, 1, static_cast<int>(std::min(left, kCancelSlice).count()) + 1);
    if (n > 0) return Wait::kReady;
    if (n < 0 && errno != EINTR) return Wait::kReady;  // let the next call report the error
  }
}


Fd& Fd::operator=(Fd&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(o.fd_, -1);
  }
  return *this;
}

Fd::~Fd() {
  if (fd_ >= 0) ::close(fd_);
}

bool is_ip_literal(const std::string& host) {
  in6_addr buf{};
  return inet_pton(AF_INET, host.c_str(), &buf) == 1 ||
         inet_pton(AF_INET6, host.c_str(), &buf) == 1;
}

Address resolve(const Endpoint& endpoint) {
  const std::string& host = endpoint.connect.value_or(endpoint.name);
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* result = nullptr;
  const std::string port = std::to_string(endpoint.port);
  if (const int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &result); rc != 0) {
    throw Unreachable(endpoint.display() + ": cannot resolve " + host + ": " + gai_strerror(rc));
  }
  std::unique_ptr<addrinfo, Deleter<freeaddrinfo>> guard(result);
  Address address;
  std::memcpy(&address.storage, result->ai_addr, result->ai_addrlen);
  address.length = result->ai_addrlen;
  char text[INET6_ADDRSTRLEN] = "";
  const void* raw =
      result->ai_family == AF_INET
          ? static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(result->ai_addr)->sin_addr)
          : &reinterpret_cast<sockaddr_in6*>(result->ai_addr)->sin6_addr;
  inet_ntop(result->ai_family, raw, text, sizeof text);
  address.text = text;
  return address;
}

std::string take_ssl_errors() {
  std::string out;
  while (const unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    // "error:0A000102:SSL routines::unsupported protocol" -> the reason after the last colon.
    std::string line = buf;
    const auto colon = line.rfind(':');
    if (colon != std::string::npos) line = line.substr(colon + 1);
    if (!out.empty()) out += "; ";
    out += line;
  }
  return out;
}

SslCtx make_context(ContextKind kind) {
  SslCtx ctx(SSL_CTX_new(TLS_client_method()));
  if (!ctx) throw std::runtime_error("SSL_CTX_new failed: " + take_ssl_errors());
  // Security level 0 on both: Debian's default level 2 refuses TLS 1.0/1.1, SHA-1 signatures,
  // 1024-bit RSA and DH keys, so a probe at level 2 would report such a server as "rejecting"
  // a protocol it accepts, or give no facts at all about the very certificate a check fails.
  // Judging key sizes and algorithms is the matchers' work, on the facts gathered here.
  const char* ciphers = kind == ContextKind::kDefault ? "DEFAULT:@SECLEVEL=0"
                                                      // NULL and anonymous suites too
                                                      : "ALL:COMPLEMENTOFALL:@SECLEVEL=0";
  if (SSL_CTX_set_cipher_list(ctx.get(), ciphers) != 1) {
    throw std::runtime_error(std::string("cannot set cipher list ") + ciphers + ": " +
                             take_ssl_errors());
  }
  // Debian's openssl.cnf sets MinProtocol = TLSv1.2; probes decide the versions themselves.
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_VERSION);
  SSL_CTX_set_max_proto_version(ctx.get(), 0);
  // Verification is done after the handshake (certificate.cpp) so that a failed verification
  // still yields every other fact, and verified_ok and hostname_matches are separate.
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
  // A server without secure renegotiation (RFC 5746) still accepts the protocol it negotiates.
  SSL_CTX_set_options(ctx.get(), SSL_OP_LEGACY_SERVER_CONNECT);
  return ctx;
}

Attempt handshake(SSL_CTX* ctx, const Endpoint& endpoint, const Address& address,
                  const Offer& offer, Duration timeout, const std::atomic<bool>& cancel) {
  const auto deadline = Clock::now() + timeout;
  Attempt attempt;
  ERR_clear_error();

  Fd fd(::socket(address.storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) throw std::runtime_error("socket(): " + errno_text(errno));
  const int one = 1;
  setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address.storage), address.length) !=
          0 &&
      errno != EINPROGRESS) {
    attempt.outcome = Attempt::Outcome::kTcpFailed;
    attempt.detail = "TCP connect to " + address.text + ": " + errno_text(errno);
    return attempt;
  }
  switch (wait_for(fd.get(), POLLOUT, deadline, cancel)) {
    case Wait::kTimedOut:
      attempt.outcome = Attempt::Outcome::kTcpFailed;
      attempt.detail =
          "TCP connect to " + address.text + " timed out after " + format_duration(timeout);
      return attempt;
    case Wait::kCancelled:
      attempt.outcome = Attempt::Outcome::kCancelled;
      return attempt;
    case Wait::kReady:
      break;
  }
  int err = 0;
  socklen_t len = sizeof err;
  getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
  if (err != 0) {
    attempt.outcome = Attempt::Outcome::kTcpFailed;
    attempt.detail = "TCP connect to " + address.text + ": " + errno_text(err);
    return attempt;
  }

  if (endpoint.starttls != StartTls::kNone) {
    const StartTlsOutcome prelude = negotiate_starttls(fd.get(), endpoint.starttls, deadline, cancel);
    if (cancel.load()) {
      attempt.outcome = Attempt::Outcome::kCancelled;
      return attempt;
    }
    if (prelude.result != StartTlsOutcome::kGoOn) {
      // Not a TLS verdict: the connection never got as far as TLS. Reported like a failed
      // connection, so the gather fails naming this, and the endpoint's checks are not run.
      attempt.outcome = Attempt::Outcome::kTcpFailed;
      attempt.starttls_refused = prelude.result == StartTlsOutcome::kRefused;
      attempt.detail = std::string("STARTTLS (") + to_string(endpoint.starttls) + ") with " +
                       address.text + ": " + prelude.detail;
      return attempt;
    }
  }

  Ssl ssl(SSL_new(ctx));
  if (!ssl) throw std::runtime_error("SSL_new failed: " + take_ssl_errors());
  Seen seen;
  SSL_set_app_data(ssl.get(), &seen);
  SSL_set_info_callback(ssl.get(), on_info);
  SSL_set_fd(ssl.get(), fd.get());
  const std::string& sni = endpoint.sni.value_or(endpoint.name);
  // RFC 6066: SNI carries host names only, never IP literals.
  if (!sni.empty() && !is_ip_literal(sni)) SSL_set_tlsext_host_name(ssl.get(), sni.c_str());
  if (offer.version != 0) {
    SSL_set_min_proto_version(ssl.get(), offer.version);
    SSL_set_max_proto_version(ssl.get(), offer.version);
  }
  if (!offer.ciphers.empty() && SSL_set_cipher_list(ssl.get(), offer.ciphers.c_str()) != 1) {
    throw std::runtime_error("cannot offer cipher list " + offer.ciphers + ": " +
                             take_ssl_errors());
  }
  if (!offer.ciphersuites.empty() &&
      SSL_set_ciphersuites(ssl.get(), offer.ciphersuites.c_str()) != 1) {
    throw std::runtime_error("cannot offer TLS 1.3 suites " + offer.ciphersuites + ": " +
                             take_ssl_errors());
  }
  if (offer.gather) {
    SSL_set_alpn_protos(ssl.get(), kAlpn, sizeof kAlpn);
    SSL_set_tlsext_status_type(ssl.get(), TLSEXT_STATUSTYPE_ocsp);
    // Permissive: collect the SCTs (and send the extension asking for them) without judging
    // them against a log list we do not have.
    if (SSL_enable_ct(ssl.get(), SSL_CT_VALIDATION_PERMISSIVE) != 1) ERR_clear_error();
  }

  for (;;) {
    ERR_clear_error();
    const int rc = SSL_connect(ssl.get());
    if (rc == 1) break;
    const int why = SSL_get_error(ssl.get(), rc);
    if (why == SSL_ERROR_WANT_READ || why == SSL_ERROR_WANT_WRITE) {
      SSL_SESSION* session = SSL_get_session(ssl.get());
      if (offer.stop_after_server_hello && session != nullptr &&
          SSL_SESSION_get0_cipher(session) != nullptr) {
        // The ServerHello named the suite and version: the rest of the handshake would cost a
        // round trip and tell the enumeration nothing more.
        attempt.outcome = Attempt::Outcome::kAccepted;
        attempt.protocol = SSL_get_version(ssl.get());
        attempt.cipher = SSL_CIPHER_get_name(SSL_SESSION_get0_cipher(session));
        SSL_set_quiet_shutdown(ssl.get(), 1);
        SSL_set_app_data(ssl.get(), nullptr);
        return attempt;
      }
      switch (wait_for(fd.get(), why == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline, cancel)) {
        case Wait::kTimedOut:
          attempt.outcome = Attempt::Outcome::kTimedOut;
          attempt.detail = "no TLS handshake within " + format_duration(timeout);
          SSL_set_app_data(ssl.get(), nullptr);
          return attempt;
        case Wait::kCancelled:
          attempt.outcome = Attempt::Outcome::kCancelled;
          SSL_set_app_data(ssl.get(), nullptr);
          return attempt;
        case Wait::kReady:
          continue;
      }
    }
    std::string errors = take_ssl_errors();
    attempt.outcome = Attempt::Outcome::kRejected;
    attempt.detail = seen.alert;
    attempt.alert = !seen.alert.empty();
    if (!errors.empty() && errors.find("alert") == std::string::npos) {
      attempt.detail += (attempt.detail.empty() ? "" : "; ") + errors;
    }
    if (attempt.detail.empty()) {
      attempt.detail = why == SSL_ERROR_SYSCALL || why == SSL_ERROR_ZERO_RETURN
                           ? "the server closed the connection during the handshake"
                           : "handshake failed (SSL_get_error " + std::to_string(why) + ")";
    }
    SSL_set_app_data(ssl.get(), nullptr);
    return attempt;
  }
  attempt.outcome = Attempt::Outcome::kAccepted;
  attempt.protocol = SSL_get_version(ssl.get());
  attempt.cipher = SSL_get_cipher_name(ssl.get());
  SSL_set_app_data(ssl.get(), nullptr);
  if (offer.gather) {
    // The descriptor must outlive the SSL that reads its facts: hand it over to the caller's
    // Ssl by making OpenSSL close it (BIO_CLOSE) rather than our Fd.
    BIO* bio = SSL_get_rbio(ssl.get());
    BIO_set_close(bio, BIO_CLOSE);
    (void)fd.release();
    attempt.ssl = std::move(ssl);
  } else {
    SSL_set_quiet_shutdown(ssl.get(), 1);
  }
  return attempt;
}

}  // namespace deploycheck::tls::detail
