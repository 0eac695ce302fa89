// Loopback DNS helpers for the DNS modules (knot.cpp, blackhole.cpp): a port free for both UDP
// and TCP, and one SOA query to tell whether a server answers for a zone.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace deploycheck::sandbox {

// A port that was free on 127.0.0.1 for both UDP and TCP a moment ago (DNS serves both on one
// number). As with pick_free_ports(), the service may still lose it: retry on EADDRINUSE.
std::uint16_t pick_free_dns_port();

struct SoaReply {
  bool answered = false;  // false: no reply before the timeout, or nothing listening yet
  int rcode = -1;         // 0 NOERROR, 2 SERVFAIL (e.g. the zone is still loading), 5 REFUSED, ...
  bool authoritative = false;
  int answers = 0;
  // "NOERROR, authoritative, 1 answer" or why there was no reply; for error messages.
  std::string describe() const;
  // What a loaded zone's authoritative server answers.
  bool ok() const { return answered && rcode == 0 && authoritative && answers > 0; }
};

// One `zone SOA` query over UDP to 127.0.0.1:port. The query is built by hand and only the
// reply's header is read (id, QR, AA, RCODE, ANCOUNT): that is all readiness needs, and it keeps
// the sandbox tool free of a resolver library (the DNS probes use c-ares).
SoaReply query_soa(std::uint16_t port, std::string_view zone, std::chrono::milliseconds timeout);

}  // namespace deploycheck::sandbox
