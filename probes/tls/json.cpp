// Facts to JSON and back: the run directory keeps what was gathered, so a report can be
// re-judged without touching the endpoint again.
#include <stdexcept>

#include "probes/tls/tls_probe.hpp"

namespace deploycheck::tls {
namespace {

using Result = ProtocolSupport::Result;

const char* to_string(Result r) {
  switch (r) {
    case Result::kAccepted:
      return "accepted";
    case Result::kRejected:
      return "rejected";
    case Result::kNotChecked:
      return "not_checked";
  }
  return "?";
}

Result result_from_string(const std::string& s) {
  if (s == "accepted") return Result::kAccepted;
  if (s == "rejected") return Result::kRejected;
  if (s == "not_checked") return Result::kNotChecked;
  throw std::invalid_argument("unknown protocol result: " + s);
}

Strength strength_from_string(const std::string& s) {
  if (s == "strong") return Strength::kStrong;
  if (s == "weak") return Strength::kWeak;
  if (s == "insecure") return Strength::kInsecure;
  throw std::invalid_argument("unknown cipher strength: " + s);
}

nlohmann::json to_json(const Certificate& c) {
  return {{"subject", c.subject},
          {"issuer", c.issuer},
          {"dns_names", c.dns_names},
          {"ip_addresses", c.ip_addresses},
          {"not_before", c.not_before},
          {"not_after", c.not_after},
          {"key_type", c.key_type},
          {"key_bits", c.key_bits},
          {"signature_algorithm", c.signature_algorithm},
          {"self_signed", c.self_signed},
          {"is_ca", c.is_ca},
          {"sha256_fingerprint", c.sha256_fingerprint},
          {"embedded_scts", c.embedded_scts}};
}

Certificate certificate_from_json(const nlohmann::json& j) {
  Certificate c;
  c.subject = j.at("subject");
  c.issuer = j.at("issuer");
  c.dns_names = j.at("dns_names").get<std::vector<std::string>>();
  c.ip_addresses = j.at("ip_addresses").get<std::vector<std::string>>();
  c.not_before = j.at("not_before");
  c.not_after = j.at("not_after");
  c.key_type = j.at("key_type");
  c.key_bits = j.at("key_bits");
  c.signature_algorithm = j.at("signature_algorithm");
  c.self_signed = j.at("self_signed");
  c.is_ca = j.at("is_ca");
  c.sha256_fingerprint = j.at("sha256_fingerprint");
  c.embedded_scts = j.at("embedded_scts");
  return c;
}

nlohmann::json to_json(const std::vector<Certificate>& chain) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& c : chain) out.push_back(to_json(c));
  return out;
}

std::vector<Certificate> chain_from_json(const nlohmann::json& j) {
  std::vector<Certificate> out;
  for (const auto& c : j) out.push_back(certificate_from_json(c));
  return out;
}

}  // namespace

std::string Endpoint::display() const {
  std::string out = name + ":" + std::to_string(port);
  if (connect && *connect != name) out += " via " + *connect;
  if (starttls != StartTls::kNone) out += std::string(" (STARTTLS ") + to_string(starttls) + ")";
  return out;
}

const char* to_string(StartTls s) {
  switch (s) {
    case StartTls::kNone:
      return "";
    case StartTls::kPostgres:
      return "postgres";
    case StartTls::kSmtp:
      return "smtp";
  }
  return "?";
}

StartTls starttls_from_string(const std::string& text) {
  if (text == "postgres") return StartTls::kPostgres;
  if (text == "smtp") return StartTls::kSmtp;
  if (text.empty()) return StartTls::kNone;
  throw std::invalid_argument("unknown STARTTLS protocol '" + text + "'");
}

const char* to_string(Strength s) {
  switch (s) {
    case Strength::kStrong:
      return "strong";
    case Strength::kWeak:
      return "weak";
    case Strength::kInsecure:
      return "insecure";
  }
  return "?";
}

nlohmann::json to_json(const Facts& f) {
  nlohmann::json endpoint{
      {"id", f.endpoint.id}, {"name", f.endpoint.name}, {"port", f.endpoint.port}};
  if (f.endpoint.connect) endpoint["connect"] = *f.endpoint.connect;
  if (f.endpoint.sni) endpoint["sni"] = *f.endpoint.sni;
  if (f.endpoint.ca_file) endpoint["ca_file"] = *f.endpoint.ca_file;
  if (f.endpoint.starttls != StartTls::kNone) endpoint["starttls"] = to_string(f.endpoint.starttls);
  const Handshake& h = f.handshake;
  nlohmann::json handshake{{"protocol", h.protocol},
                           {"cipher", h.cipher},
                           {"alpn", h.alpn},
                           {"presented", to_json(h.presented)},
                           {"verified", to_json(h.verified)},
                           {"verified_ok", h.verified_ok},
                           {"verify_error", h.verify_error},
                           {"hostname_matches", h.hostname_matches},
                           {"ocsp_stapled", h.ocsp_stapled},
                           {"ocsp_status", h.ocsp_status},
                           {"tls_extension_scts", h.tls_extension_scts}};
  nlohmann::json protocols = nlohmann::json::array();
  for (const auto& p : f.protocols) {
    protocols.push_back(
        {{"protocol", p.protocol}, {"result", to_string(p.result)}, {"detail", p.detail}});
  }
  nlohmann::json ciphers = nlohmann::json::array();
  for (const auto& c : f.accepted_ciphers) {
    ciphers.push_back({{"name", c.name},
                       {"protocol", c.protocol},
                       {"strength", to_string(c.strength)},
                       {"why", c.why}});
  }
  return {{"endpoint", endpoint},         {"handshake", handshake},
          {"protocols", protocols},       {"accepted_ciphers", ciphers},
          {"not_checked", f.not_checked}, {"handshakes", f.handshakes},
          {"elapsed_ms", f.elapsed_ms}};
}

Facts facts_from_json(const nlohmann::json& j) {
  Facts f;
  const auto& e = j.at("endpoint");
  f.endpoint.id = e.at("id");
  f.endpoint.name = e.at("name");
  f.endpoint.port = e.at("port");
  if (e.contains("connect")) f.endpoint.connect = e.at("connect").get<std::string>();
  if (e.contains("sni")) f.endpoint.sni = e.at("sni").get<std::string>();
  if (e.contains("ca_file")) f.endpoint.ca_file = e.at("ca_file").get<std::string>();
  if (e.contains("starttls")) f.endpoint.starttls = starttls_from_string(e.at("starttls"));
  const auto& h = j.at("handshake");
  f.handshake.protocol = h.at("protocol");
  f.handshake.cipher = h.at("cipher");
  f.handshake.alpn = h.at("alpn");
  f.handshake.presented = chain_from_json(h.at("presented"));
  f.handshake.verified = chain_from_json(h.at("verified"));
  f.handshake.verified_ok = h.at("verified_ok");
  f.handshake.verify_error = h.at("verify_error");
  f.handshake.hostname_matches = h.at("hostname_matches");
  f.handshake.ocsp_stapled = h.at("ocsp_stapled");
  f.handshake.ocsp_status = h.at("ocsp_status");
  f.handshake.tls_extension_scts = h.at("tls_extension_scts");
  for (const auto& p : j.at("protocols")) {
    ProtocolSupport s;
    s.protocol = p.at("protocol");
    s.result = result_from_string(p.at("result"));
    s.detail = p.at("detail");
    f.protocols.push_back(std::move(s));
  }
  for (const auto& c : j.at("accepted_ciphers")) {
    CipherSuite s;
    s.name = c.at("name");
    s.protocol = c.at("protocol");
    s.strength = strength_from_string(c.at("strength"));
    s.why = c.at("why");
    f.accepted_ciphers.push_back(std::move(s));
  }
  f.not_checked = j.at("not_checked").get<std::vector<std::string>>();
  f.handshakes = j.at("handshakes");
  f.elapsed_ms = j.at("elapsed_ms");
  return f;
}

}  // namespace deploycheck::tls
