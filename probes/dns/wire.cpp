#include "probes/dns/wire.hpp"

#include <arpa/inet.h>

#include <array>
#include <cstdio>
#include <optional>

namespace deploycheck::dns::wire {
namespace {

constexpr std::size_t kHeaderSize = 12;
constexpr std::uint16_t kClassIn = 1;
constexpr std::size_t kMaxNameLength = 255;  // RFC 1035 §2.3.4, in wire octets

class Reader {
 public:
  explicit Reader(std::span<const unsigned char> message) : message_(message) {}

  std::size_t position() const { return pos_; }
  void seek(std::size_t pos) { pos_ = pos; }

  void need(std::size_t n, const char* what) const {
    if (n > message_.size() || pos_ > message_.size() - n) {
      throw MalformedReply(std::string("reply ends inside ") + what + " at offset " +
                           std::to_string(pos_) + " of " + std::to_string(message_.size()));
    }
  }
  std::uint8_t u8(const char* what) {
    need(1, what);
    return message_[pos_++];
  }
  std::uint16_t u16(const char* what) {
    need(2, what);
    const auto v = static_cast<std::uint16_t>(message_[pos_] << 8 | message_[pos_ + 1]);
    pos_ += 2;
    return v;
  }
  std::uint32_t u32(const char* what) {
    need(4, what);
    const std::uint32_t v = std::uint32_t{message_[pos_]} << 24 |
                            std::uint32_t{message_[pos_ + 1]} << 16 |
                            std::uint32_t{message_[pos_ + 2]} << 8 | message_[pos_ + 3];
    pos_ += 4;
    return v;
  }
  std::span<const unsigned char> bytes(std::size_t n, const char* what) {
    need(n, what);
    auto out = message_.subspan(pos_, n);
    pos_ += n;
    return out;
  }

  // A domain name in presentation form, lower case, without the trailing dot ("." for the
  // root). Follows compression pointers (RFC 1035 §4.1.4); each must point strictly before the
  // label it replaces, which rules out loops.
  std::string name() {
    std::string text;
    std::size_t wire_length = 0;
    std::size_t pos = pos_;
    std::optional<std::size_t> resume;  // where reading continues after the first pointer
    for (;;) {
      if (pos >= message_.size()) throw MalformedReply("name runs past the end of the reply");
      const std::uint8_t len = message_[pos];
      if ((len & 0xC0) == 0xC0) {
        if (pos + 1 >= message_.size()) throw MalformedReply("compression pointer cut short");
        const std::size_t target = static_cast<std::size_t>(len & 0x3F) << 8 | message_[pos + 1];
        if (target >= pos) {
          throw MalformedReply("compression pointer at offset " + std::to_string(pos) +
                               " does not point backwards (to " + std::to_string(target) + ")");
        }
        if (!resume) resume = pos + 2;
        pos = target;
        continue;
      }
      if (len & 0xC0)
        throw MalformedReply("unsupported label type at offset " + std::to_string(pos));
      wire_length += 1 + len;
      if (wire_length > kMaxNameLength) throw MalformedReply("name longer than 255 octets");
      if (len == 0) {
        pos += 1;
        break;
      }
      if (pos + 1 + len > message_.size()) throw MalformedReply("label runs past the reply");
      if (!text.empty()) text += '.';
      append_label(text, message_.subspan(pos + 1, len));
      pos += 1 + len;
    }
    pos_ = resume.value_or(pos);
    return text.empty() ? "." : text;
  }

 private:
  // As BIND's dns_name_totext writes a label (so as dig prints it), lower-cased.
  static void append_label(std::string& out, std::span<const unsigned char> label) {
    for (const unsigned char c : label) {
      switch (c) {
        case '"':
        case '(':
        case ')':
        case '.':
        case ';':
        case '\\':
        case '@':
        case '$':
          out += '\\';
          out += static_cast<char>(c);
          break;
        default:
          if (c <= 0x20 || c >= 0x7F) {
            char buf[5];
            std::snprintf(buf, sizeof buf, "\\%03u", c);
            out += buf;
          } else {
            out += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
          }
      }
    }
  }

  std::span<const unsigned char> message_;
  std::size_t pos_ = 0;
};

// Length of the valid UTF-8 sequence starting at text[i], or 0 if there is none.
std::size_t utf8_sequence(std::span<const unsigned char> text, std::size_t i) {
  const unsigned char c = text[i];
  std::size_t n = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;  // overlong
    if (c == 0xED) hi = 0x9F;  // surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;  // overlong
    if (c == 0xF4) hi = 0x8F;  // beyond U+10FFFF
  } else {
    return 0;
  }
  if (i + n > text.size()) return 0;
  if (text[i + 1] < lo || text[i + 1] > hi) return 0;
  for (std::size_t k = 2; k < n; ++k) {
    if (text[i + k] < 0x80 || text[i + k] > 0xBF) return 0;
  }
  return n;
}

// Character-string bytes as text. Printable ASCII and valid UTF-8 stay as they are, so SPF,
// DKIM and DMARC records read exactly as published; control bytes and bytes that are not UTF-8
// become dig's \DDD (facts are stored as JSON, which must be valid UTF-8). With `quoted`, '"'
// and '\' are escaped too, for a value shown between quotes (CAA).
void append_text(std::string& out, std::span<const unsigned char> text, bool quoted) {
  for (std::size_t i = 0; i < text.size();) {
    const unsigned char c = text[i];
    if (c >= 0x20 && c < 0x7F) {
      if (quoted && (c == '"' || c == '\\')) out += '\\';
      out += static_cast<char>(c);
      ++i;
    } else if (const std::size_t n = c >= 0x80 ? utf8_sequence(text, i) : 0; n > 0) {
      out.append(reinterpret_cast<const char*>(text.data() + i), n);
      i += n;
    } else {
      char buf[5];
      std::snprintf(buf, sizeof buf, "\\%03u", c);
      out += buf;
      ++i;
    }
  }
}

std::string address_text(int family, std::span<const unsigned char> rdata) {
  std::array<char, INET6_ADDRSTRLEN> buf{};
  if (!inet_ntop(family, rdata.data(), buf.data(), buf.size())) {
    throw MalformedReply("unprintable address");
  }
  return buf.data();
}

// The record's data in canonical text (see Record::data). `r` is positioned at the RDATA,
// which is `length` octets long; names inside may point anywhere earlier in the message.
std::string rdata_text(Reader& r, RecordType type, std::size_t length) {
  const std::size_t end = r.position() + length;
  std::string out;
  switch (type) {
    case RecordType::kA:
      if (length != 4) throw MalformedReply("A record of " + std::to_string(length) + " octets");
      out = address_text(AF_INET, r.bytes(4, "A record"));
      break;
    case RecordType::kAAAA:
      if (length != 16) {
        throw MalformedReply("AAAA record of " + std::to_string(length) + " octets");
      }
      out = address_text(AF_INET6, r.bytes(16, "AAAA record"));
      break;
    case RecordType::kCNAME:
    case RecordType::kNS:
      out = r.name();
      break;
    case RecordType::kMX: {
      const auto preference = r.u16("MX preference");
      out = std::to_string(preference) + " " + r.name();
      break;
    }
    case RecordType::kSRV: {
      const auto priority = r.u16("SRV priority");
      const auto weight = r.u16("SRV weight");
      const auto port = r.u16("SRV port");
      out = std::to_string(priority) + " " + std::to_string(weight) + " " + std::to_string(port) +
            " " + r.name();
      break;
    }
    case RecordType::kTXT:
      // One record may hold several character-strings (each at most 255 octets): SPF and DKIM
      // readers join them with nothing in between (RFC 7208 §3.3, RFC 6376 §3.6.2.2).
      while (r.position() < end) {
        const std::uint8_t n = r.u8("TXT string length");
        if (r.position() + n > end) throw MalformedReply("TXT string runs past its record");
        append_text(out, r.bytes(n, "TXT string"), false);
      }
      break;
    case RecordType::kCAA: {
      const std::uint8_t flags = r.u8("CAA flags");
      const std::uint8_t tag_length = r.u8("CAA tag length");
      if (r.position() + tag_length > end) throw MalformedReply("CAA tag runs past its record");
      const auto tag = r.bytes(tag_length, "CAA tag");
      out = std::to_string(flags) + " ";
      append_text(out, tag, false);
      out += " \"";
      append_text(out, r.bytes(end - r.position(), "CAA value"), true);
      out += '"';
      break;
    }
  }
  if (r.position() != end) {
    throw MalformedReply(std::string(to_string(type)) + " record data is " +
                         std::to_string(length) + " octets but its fields take " +
                         std::to_string(r.position() + length - end));
  }
  return out;
}

}  // namespace

std::string rcode_name(int rcode) {
  static constexpr std::array<const char*, 11> kNames{"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
                                                      "NOTIMP",  "REFUSED", "YXDOMAIN", "YXRRSET",
                                                      "NXRRSET", "NOTAUTH", "NOTZONE"};
  if (rcode >= 0 && static_cast<std::size_t>(rcode) < kNames.size()) return kNames[rcode];
  return "RCODE " + std::to_string(rcode);
}

std::uint16_t type_code(RecordType type) {
  switch (type) {
    case RecordType::kA:
      return 1;
    case RecordType::kNS:
      return 2;
    case RecordType::kCNAME:
      return 5;
    case RecordType::kMX:
      return 15;
    case RecordType::kTXT:
      return 16;
    case RecordType::kAAAA:
      return 28;
    case RecordType::kSRV:
      return 33;
    case RecordType::kCAA:
      return 257;
  }
  return 0;
}

Reply parse_reply(std::span<const unsigned char> message, RecordType asked) {
  Reader r(message);
  r.need(kHeaderSize, "the header");
  r.u16("ID");
  const std::uint16_t flags = r.u16("flags");
  const std::uint16_t qdcount = r.u16("QDCOUNT");
  const std::uint16_t ancount = r.u16("ANCOUNT");
  r.u16("NSCOUNT");
  r.u16("ARCOUNT");

  Reply reply;
  reply.rcode = flags & 0x000F;
  reply.truncated = (flags & 0x0200) != 0;
  // A truncated reply may stop anywhere, even inside a record: it only says "ask over TCP".
  if (reply.truncated) return reply;
  for (int i = 0; i < qdcount; ++i) {
    r.name();
    r.u16("QTYPE");
    r.u16("QCLASS");
  }
  const std::uint16_t want = type_code(asked);
  for (int i = 0; i < ancount; ++i) {
    std::string owner = r.name();
    const std::uint16_t type = r.u16("TYPE");
    const std::uint16_t klass = r.u16("CLASS");
    const std::uint32_t ttl = r.u32("TTL");
    const std::uint16_t length = r.u16("RDLENGTH");
    r.need(length, "RDATA");
    const std::size_t next = r.position() + length;
    if (type == want && klass == kClassIn) {
      // RFC 2181 §8: a TTL with the top bit set is treated as zero.
      reply.records.push_back(Record{std::move(owner), asked, ttl > 0x7FFFFFFFu ? 0 : ttl,
                                     rdata_text(r, asked, length)});
    }
    r.seek(next);
  }
  // The authority and additional sections are not read: a truncated UDP reply may legitimately
  // stop anywhere in them, and nothing there is a fact deploycheck reports.
  return reply;
}

}  // namespace deploycheck::dns::wire
