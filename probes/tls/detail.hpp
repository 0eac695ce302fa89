#pragma once
// probes/tls internals shared by its translation units: OpenSSL handles as unique_ptrs, one
// handshake with a deadline, and the certificate facts. Not part of the public interface.
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "probes/tls/tls_probe.hpp"

namespace deploycheck::tls::detail {

template <auto Free>
struct Deleter {
  template <class T>
  void operator()(T* p) const {
    Free(p);
  }
};
using SslCtx = std::unique_ptr<SSL_CTX, Deleter<SSL_CTX_free>>;
using Ssl = std::unique_ptr<SSL, Deleter<SSL_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509_free>>;
using Bio = std::unique_ptr<BIO, Deleter<BIO_free_all>>;
using Store = std::unique_ptr<X509_STORE, Deleter<X509_STORE_free>>;
using StoreCtx = std::unique_ptr<X509_STORE_CTX, Deleter<X509_STORE_CTX_free>>;

// A file descriptor, closed on destruction.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept;
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd();
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_ = -1;
};

struct Address {
  sockaddr_storage storage{};
  socklen_t length = 0;
  std::string text;  // "10.0.0.5" / "::1", for messages
};

// Resolves `connect` (or `name`) once per probe: every handshake then goes to the same address,
// so a round-robin DNS name cannot mix the facts of two servers.
Address resolve(const Endpoint& endpoint);

// The OpenSSL context every handshake is made from. The default handshake and the enumeration
// use different ones: see make_context().
enum class ContextKind { kDefault, kLevel0 };
SslCtx make_context(ContextKind kind);

// The OpenSSL error queue of this thread as one line, and cleared.
std::string take_ssl_errors();

// What one handshake should offer.
struct Offer {
  int version = 0;                       // min = max = this version; 0: anything this libssl can
  std::string ciphers;                   // ≤ TLS 1.2 cipher list; "" keeps the context's
  std::string ciphersuites;              // TLS 1.3 suites; "" keeps the context's
  bool stop_after_server_hello = false;  // enumeration: the chosen suite is all we need
  bool gather = false;                   // the default handshake: SNI facts, ALPN, OCSP, SCTs
};

struct Attempt {
  enum class Outcome {
    kAccepted,
    kTcpFailed,
    kTimedOut,
    kRejected,
    kCancelled
  } outcome = Outcome::kRejected;
  std::string protocol;  // negotiated
  std::string cipher;    // chosen by the server
  std::string detail;    // why not accepted: the alert or OpenSSL's error
  bool alert = false;    // kRejected with an alert from the server (a refusal it said out loud)
  bool starttls_refused = false;  // kTcpFailed: the plain-text prelude said no TLS here
  Ssl ssl;               // kept only for `gather`, to read the facts after the handshake
};

// Waits until `fd` is ready for `events`, the deadline passes or `cancel` is set.
using Clock = std::chrono::steady_clock;
enum class Wait { kReady, kTimedOut, kCancelled };
Wait wait_for(int fd, short events, Clock::time_point deadline, const std::atomic<bool>& cancel);

// The plain-text prelude of a STARTTLS endpoint (PostgreSQL's SSLRequest, SMTP's EHLO and
// STARTTLS) on a connected non-blocking socket, up to the point where the server expects a
// ClientHello.
struct StartTlsOutcome {
  // kRefused: the server answered that it will not speak TLS; kFailed: no usable answer
  // (timeout, closed connection).
  enum Result { kGoOn, kRefused, kFailed } result = kGoOn;
  std::string detail;  // why not, e.g. "the server does not offer STARTTLS (…)"
};
StartTlsOutcome negotiate_starttls(int fd, StartTls protocol, Clock::time_point deadline,
                                   const std::atomic<bool>& cancel);

// One TCP connection and TLS handshake, bounded by `timeout` and by `cancel`.
Attempt handshake(SSL_CTX* ctx, const Endpoint& endpoint, const Address& address,
                  const Offer& offer, Duration timeout, const std::atomic<bool>& cancel);

// Facts of a completed default handshake: chains, verification, hostname, OCSP, SCTs.
Handshake gather_facts(SSL* ssl, const Endpoint& endpoint);

Certificate certificate_facts(X509* cert);

// Is `host` an IP literal (v4 or v6)? Such a name gets no SNI and an IP SAN check.
bool is_ip_literal(const std::string& host);

}  // namespace deploycheck::tls::detail
