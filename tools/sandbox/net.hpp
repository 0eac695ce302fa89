// Loopback networking for modules: choosing free ports and checking readiness.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace deploycheck::sandbox {

// `count` distinct ports that were free on 127.0.0.1 a moment ago (bound to port 0, read back,
// closed). Another process may still take one before the service binds it: modules retry their
// start when the service reports EADDRINUSE.
std::vector<std::uint16_t> pick_free_ports(int count);

// Whether a TCP connection to 127.0.0.1:port is accepted within `timeout`.
bool tcp_accepts(std::uint16_t port, std::chrono::milliseconds timeout);

struct TlsCheck {
  enum class Outcome { kReady, kNotListening, kFailed } outcome;
  std::string detail;  // why, for kNotListening/kFailed
};

// A full TLS handshake with 127.0.0.1:port, sending SNI `server_name` and verifying the chain
// against `ca_file` and the name. kNotListening when nothing accepts connections yet; kFailed
// when the server answers but the handshake or verification fails (waiting will not help).
TlsCheck tls_handshake(std::uint16_t port, const std::string& server_name,
                       const std::filesystem::path& ca_file, std::chrono::milliseconds timeout);

}  // namespace deploycheck::sandbox
