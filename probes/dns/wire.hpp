#pragma once
// probes/dns/wire: reads a DNS reply straight from the wire format (RFC 1035 §4).
//
// Why by hand: c-ares 1.18 parses replies per type, and only ares_parse_a_reply and
// ares_parse_aaaa_reply report TTLs; its TXT, MX, NS, CAA and SRV parsers drop them, and its
// TXT parser splits one record into chunks. deploycheck needs the TTL of every answer and each
// TXT record whole, so this walks the answer section itself. Everything else (building queries,
// retransmission, TCP, matching replies to queries) stays with c-ares.
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "probes/dns/dns_probe.hpp"

namespace deploycheck::dns::wire {

// The reply is not well-formed DNS: the message says where it broke.
class MalformedReply : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// RCODEs (RFC 1035 §4.1.1).
inline constexpr int kNoError = 0;
inline constexpr int kFormErr = 1;
inline constexpr int kServFail = 2;
inline constexpr int kNxDomain = 3;
inline constexpr int kNotImp = 4;
inline constexpr int kRefused = 5;

// "NOERROR", "FORMERR", … or "RCODE 11" for one without a mnemonic here.
std::string rcode_name(int rcode);

// The type's number on the wire: A 1, NS 2, CNAME 5, MX 15, TXT 16, AAAA 28, SRV 33, CAA 257.
std::uint16_t type_code(RecordType type);

struct Reply {
  int rcode = kNoError;
  bool truncated = false;       // TC: the server had more to say than fitted (UDP)
  std::vector<Record> records;  // answer-section records of the asked type, class IN, in order
};

// Parses a whole reply. Records of other types (the CNAMEs of a chain, an OPT record) are
// skipped. Throws MalformedReply on anything that runs past the message or points nowhere,
// including compression loops.
Reply parse_reply(std::span<const unsigned char> message, RecordType asked);

}  // namespace deploycheck::dns::wire
