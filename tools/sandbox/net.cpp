#include "tools/sandbox/net.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <stdexcept>

#include "tools/sandbox/fd.hpp"
#include "tools/sandbox/openssl.hpp"

namespace deploycheck::sandbox {
namespace {

sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return addr;
}

// A connected socket, or an empty fd with errno describing why not.
UniqueFd connect_loopback(std::uint16_t port, std::chrono::milliseconds timeout) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) return fd;
  sockaddr_in addr = loopback(port);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    if (errno != EINPROGRESS) return UniqueFd();
    pollfd p{fd.get(), POLLOUT, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) {
      errno = ETIMEDOUT;
      return UniqueFd();
    }
    int error = 0;
    socklen_t len = sizeof error;
    ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &error, &len);
    if (error != 0) {
      errno = error;
      return UniqueFd();
    }
  }
  return fd;
}

}  // namespace

std::vector<std::uint16_t> pick_free_ports(int count) {
  // All sockets stay open until every port is read, so the ports are distinct.
  std::vector<UniqueFd> sockets;
  std::vector<std::uint16_t> ports;
  for (int i = 0; i < count; ++i) {
    UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in addr = loopback(0);
    socklen_t len = sizeof addr;
    if (!fd || ::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      throw std::runtime_error(
          errno_text("cannot bind a socket to 127.0.0.1:0 to find a free port"));
    }
    ports.push_back(ntohs(addr.sin_port));
    sockets.push_back(std::move(fd));
  }
  return ports;
}

bool tcp_accepts(std::uint16_t port, std::chrono::milliseconds timeout) {
  return static_cast<bool>(connect_loopback(port, timeout));
}

TlsCheck tls_handshake(std::uint16_t port, const std::string& server_name,
                       const std::filesystem::path& ca_file, std::chrono::milliseconds timeout) {
  using Outcome = TlsCheck::Outcome;
  UniqueFd fd = connect_loopback(port, timeout);
  if (!fd)
    return {Outcome::kNotListening, errno_text("connect to 127.0.0.1:" + std::to_string(port))};

  // Blocking I/O bounded by socket timeouts keeps the handshake code simple.
  int flags = 0;
  ::ioctl(fd.get(), FIONBIO, &flags);
  timeval tv{static_cast<time_t>(timeout.count() / 1000),
             static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);

  ERR_clear_error();
  std::unique_ptr<SSL_CTX, OpenSslDeleter<SSL_CTX_free>> ctx(SSL_CTX_new(TLS_client_method()));
  if (!ctx || SSL_CTX_load_verify_locations(ctx.get(), ca_file.c_str(), nullptr) != 1) {
    return {Outcome::kFailed,
            "cannot load the CA file " + ca_file.string() + ": " + openssl_errors()};
  }
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  std::unique_ptr<SSL, OpenSslDeleter<SSL_free>> ssl(SSL_new(ctx.get()));
  if (!ssl || SSL_set_tlsext_host_name(ssl.get(), server_name.c_str()) != 1 ||
      SSL_set1_host(ssl.get(), server_name.c_str()) != 1 || SSL_set_fd(ssl.get(), fd.get()) != 1) {
    return {Outcome::kFailed, "cannot set up a TLS client: " + openssl_errors()};
  }
  if (SSL_connect(ssl.get()) != 1) {
    long verify = SSL_get_verify_result(ssl.get());
    std::string why = verify != X509_V_OK ? std::string("certificate verification failed: ") +
                                                X509_verify_cert_error_string(verify)
                                          : openssl_errors();
    return {Outcome::kFailed, "TLS handshake with 127.0.0.1:" + std::to_string(port) + " (SNI " +
                                  server_name + ") failed: " + why};
  }
  SSL_shutdown(ssl.get());
  return {Outcome::kReady, {}};
}

}  // namespace deploycheck::sandbox
