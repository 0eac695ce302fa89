// The facts of the default handshake: certificates, verification (done here, after the
// handshake, so that it is independent of the hostname check and a failure still leaves every
// other fact), the stapled OCSP response and the SCTs.
#include <arpa/inet.h>
#include <openssl/ct.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <ctime>
#include <map>
#include <mutex>
#include <stdexcept>

#include "probes/tls/detail.hpp"

namespace deploycheck::tls::detail {
namespace {

using OcspResponse = std::unique_ptr<OCSP_RESPONSE, Deleter<OCSP_RESPONSE_free>>;
using OcspBasic = std::unique_ptr<OCSP_BASICRESP, Deleter<OCSP_BASICRESP_free>>;
using OcspId = std::unique_ptr<OCSP_CERTID, Deleter<OCSP_CERTID_free>>;
using GeneralNames = std::unique_ptr<GENERAL_NAMES, Deleter<GENERAL_NAMES_free>>;
using SctList = std::unique_ptr<STACK_OF(SCT), Deleter<SCT_LIST_free>>;

void free_chain(STACK_OF(X509) * chain) {
  sk_X509_pop_free(chain, X509_free);
}

std::string name_text(const X509_NAME* name) {
  Bio bio(BIO_new(BIO_s_mem()));
  // RFC 2253 order and escaping, but UTF-8 kept as it is rather than escaped byte by byte.
  X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return n > 0 ? std::string(data, static_cast<std::size_t>(n)) : std::string();
}

std::int64_t epoch_seconds(const ASN1_TIME* t) {
  std::tm tm{};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return 0;
  return static_cast<std::int64_t>(timegm(&tm));
}

std::string key_type(const EVP_PKEY* key) {
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_RSA:
      return "RSA";
    case EVP_PKEY_RSA_PSS:
      return "RSA-PSS";
    case EVP_PKEY_EC:
      return "EC";
    case EVP_PKEY_ED25519:
      return "Ed25519";
    case EVP_PKEY_ED448:
      return "Ed448";
    case EVP_PKEY_DSA:
      return "DSA";
    default: {
      const char* name = EVP_PKEY_get0_type_name(key);
      return name != nullptr ? name : "unknown";
    }
  }
}

std::string hex(const unsigned char* data, unsigned int n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (unsigned int i = 0; i < n; ++i) {
    out += kDigits[data[i] >> 4];
    out += kDigits[data[i] & 15];
  }
  return out;
}

// Trust stores are read once per process and shared by every endpoint (X509_STORE is
// reference-counted and safe to verify against from several threads).
std::shared_ptr<X509_STORE> trust_store(const std::optional<std::string>& ca_file) {
  static std::mutex mutex;
  static std::map<std::string, std::shared_ptr<X509_STORE>> stores;
  const std::string key = ca_file.value_or("");
  std::lock_guard lock(mutex);
  if (auto it = stores.find(key); it != stores.end()) return it->second;
  std::shared_ptr<X509_STORE> store(X509_STORE_new(), X509_STORE_free);
  if (!store) throw std::runtime_error("X509_STORE_new failed");
  const int ok = ca_file ? X509_STORE_load_file(store.get(), ca_file->c_str())
                         : X509_STORE_set_default_paths(store.get());
  if (ok != 1) {
    throw std::runtime_error("cannot read the CA certificates in " +
                             (ca_file ? *ca_file : std::string("the system store")) + ": " +
                             take_ssl_errors());
  }
  stores.emplace(key, store);
  return store;
}

// The issuer of `leaf` for the OCSP CertID: from the verified chain, else the presented one.
X509* find_issuer(X509* leaf, STACK_OF(X509) * verified, STACK_OF(X509) * presented) {
  for (STACK_OF(X509) * chain : {verified, presented}) {
    if (chain == nullptr) continue;
    for (int i = 0; i < sk_X509_num(chain); ++i) {
      X509* candidate = sk_X509_value(chain, i);
      if (candidate != leaf && X509_check_issued(candidate, leaf) == X509_V_OK) return candidate;
    }
  }
  return nullptr;
}

std::string ocsp_status(const unsigned char* der, long length, X509* leaf, X509* issuer) {
  OcspResponse response(d2i_OCSP_RESPONSE(nullptr, &der, length));
  if (!response) return "invalid: the stapled response does not parse";
  const int status = OCSP_response_status(response.get());
  if (status != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
    return std::string("invalid: responder status ") + OCSP_response_status_str(status);
  }
  OcspBasic basic(OCSP_response_get1_basic(response.get()));
  if (!basic) return "invalid: no basic response";
  if (issuer == nullptr) return "invalid: the leaf's issuer is unknown, its CertID cannot be built";
  // Match each single response with a CertID built with that response's own hash algorithm
  // (`openssl ocsp` uses SHA-1, others SHA-256): OCSP_resp_find_status would compare the
  // algorithm too and miss.
  for (int i = 0; i < OCSP_resp_count(basic.get()); ++i) {
    OCSP_SINGLERESP* single = OCSP_resp_get0(basic.get(), i);
    const OCSP_CERTID* cid = OCSP_SINGLERESP_get0_id(single);
    ASN1_OBJECT* md_oid = nullptr;
    OCSP_id_get0_info(nullptr, &md_oid, nullptr, nullptr, const_cast<OCSP_CERTID*>(cid));
    const EVP_MD* md = md_oid != nullptr ? EVP_get_digestbyobj(md_oid) : nullptr;
    if (md == nullptr) continue;
    OcspId id(OCSP_cert_to_id(md, leaf, issuer));
    if (!id || OCSP_id_cmp(id.get(), cid) != 0) continue;
    int reason = 0;
    ASN1_GENERALIZEDTIME *revoked = nullptr, *this_update = nullptr, *next_update = nullptr;
    switch (OCSP_single_get0_status(single, &reason, &revoked, &this_update, &next_update)) {
      case V_OCSP_CERTSTATUS_GOOD:
        return "good";
      case V_OCSP_CERTSTATUS_REVOKED:
        return "revoked";
      default:
        return "unknown";
    }
  }
  return "invalid: the stapled response is not about this certificate";
}

}  // namespace

Certificate certificate_facts(X509* cert) {
  Certificate c;
  c.subject = name_text(X509_get_subject_name(cert));
  c.issuer = name_text(X509_get_issuer_name(cert));
  if (GeneralNames names(static_cast<GENERAL_NAMES*>(
          X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
      names) {
    for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
      const GENERAL_NAME* gen = sk_GENERAL_NAME_value(names.get(), i);
      if (gen->type == GEN_DNS) {
        const ASN1_IA5STRING* s = gen->d.dNSName;
        c.dns_names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                                 static_cast<std::size_t>(ASN1_STRING_length(s)));
      } else if (gen->type == GEN_IPADD) {
        const ASN1_OCTET_STRING* s = gen->d.iPAddress;
        const int n = ASN1_STRING_length(s);
        char text[INET6_ADDRSTRLEN] = "";
        if ((n == 4 || n == 16) &&
            inet_ntop(n == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(s), text, sizeof text)) {
          c.ip_addresses.emplace_back(text);
        }
      }
    }
  }
  c.not_before = epoch_seconds(X509_get0_notBefore(cert));
  c.not_after = epoch_seconds(X509_get0_notAfter(cert));
  if (const EVP_PKEY* key = X509_get0_pubkey(cert)) {
    c.key_type = key_type(key);
    c.key_bits = EVP_PKEY_get_bits(key);
  }
  const int sig = X509_get_signature_nid(cert);
  c.signature_algorithm = sig != NID_undef ? OBJ_nid2ln(sig) : "unknown";
  c.self_signed = X509_self_signed(cert, 1) == 1;
  c.is_ca = X509_check_ca(cert) > 0;
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  if (X509_digest(cert, EVP_sha256(), md, &md_len) == 1) c.sha256_fingerprint = hex(md, md_len);
  if (SctList scts(static_cast<STACK_OF(SCT)*>(
          X509_get_ext_d2i(cert, NID_ct_precert_scts, nullptr, nullptr)));
      scts) {
    c.embedded_scts = sk_SCT_num(scts.get());
  }
  ERR_clear_error();  // X509_self_signed & co. leave errors for unusual certificates
  return c;
}

Handshake gather_facts(SSL* ssl, const Endpoint& endpoint) {
  Handshake h;
  h.protocol = SSL_get_version(ssl);
  h.cipher = SSL_get_cipher_name(ssl);
  const unsigned char* alpn = nullptr;
  unsigned int alpn_len = 0;
  SSL_get0_alpn_selected(ssl, &alpn, &alpn_len);
  if (alpn != nullptr) h.alpn.assign(reinterpret_cast<const char*>(alpn), alpn_len);

  // On the client side this chain includes the leaf.
  STACK_OF(X509)* presented = SSL_get_peer_cert_chain(ssl);
  for (int i = 0; i < sk_X509_num(presented); ++i) {
    h.presented.push_back(certificate_facts(sk_X509_value(presented, i)));
  }
  X509* leaf = SSL_get0_peer_certificate(ssl);
  if (leaf == nullptr) {
    h.verify_error = "the server presented no certificate";
    return h;
  }

  // Verification against the trust store alone: no hostname in the parameters (checked below,
  // separately), no security level (key sizes and digests are judged by the matchers, so an
  // RSA-1024 certificate fails KeyAtLeast, not ChainVerifies) and no clock (validity dates are
  // CertValidFor's judgement, so an expired certificate fails that check, not this one).
  const auto store = trust_store(endpoint.ca_file);
  StoreCtx ctx(X509_STORE_CTX_new());
  std::unique_ptr<STACK_OF(X509), Deleter<free_chain>> verified;
  if (!ctx || X509_STORE_CTX_init(ctx.get(), store.get(), leaf, presented) != 1) {
    throw std::runtime_error("X509_STORE_CTX_init failed: " + take_ssl_errors());
  }
  X509_STORE_CTX_set_default(ctx.get(), "ssl_server");
  X509_VERIFY_PARAM_set_flags(X509_STORE_CTX_get0_param(ctx.get()), X509_V_FLAG_NO_CHECK_TIME);
  if (X509_verify_cert(ctx.get()) == 1) {
    h.verified_ok = true;
    verified.reset(X509_STORE_CTX_get1_chain(ctx.get()));
    for (int i = 0; i < sk_X509_num(verified.get()); ++i) {
      h.verified.push_back(certificate_facts(sk_X509_value(verified.get(), i)));
    }
  } else {
    const int err = X509_STORE_CTX_get_error(ctx.get());
    h.verify_error = X509_verify_cert_error_string(err);
    const int depth = X509_STORE_CTX_get_error_depth(ctx.get());
    if (X509* at = X509_STORE_CTX_get_current_cert(ctx.get())) {
      h.verify_error +=
          " (depth " + std::to_string(depth) + ": " + name_text(X509_get_subject_name(at)) + ")";
    }
  }
  ERR_clear_error();

  const std::string& name = endpoint.name;
  h.hostname_matches =
      is_ip_literal(name)
          ? X509_check_ip_asc(leaf, name.c_str(), 0) == 1
          // As browsers do: "*" matches one whole label only, never "w*.example.com".
          : X509_check_host(leaf, name.data(), name.size(), X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS,
                            nullptr) == 1;

  const unsigned char* ocsp = nullptr;
  const long ocsp_len = SSL_get_tlsext_status_ocsp_resp(ssl, &ocsp);
  if (ocsp != nullptr && ocsp_len > 0) {
    h.ocsp_stapled = true;
    h.ocsp_status = ocsp_status(ocsp, ocsp_len, leaf, find_issuer(leaf, verified.get(), presented));
  }

  // Every SCT OpenSSL found (extension, OCSP, certificate); count the TLS extension's.
  if (const STACK_OF(SCT)* scts = SSL_get0_peer_scts(ssl)) {
    for (int i = 0; i < sk_SCT_num(scts); ++i) {
      if (SCT_get_source(sk_SCT_value(scts, i)) == SCT_SOURCE_TLS_EXTENSION) {
        ++h.tls_extension_scts;
      }
    }
  }
  ERR_clear_error();
  return h;
}

}  // namespace deploycheck::tls::detail
