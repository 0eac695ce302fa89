#include "tools/sandbox/x509.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ct.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>

#include <stdexcept>

#include "tools/sandbox/files.hpp"

namespace deploycheck::sandbox {
namespace {

using BioPtr = std::unique_ptr<BIO, OpenSslDeleter<BIO_free_all>>;
using ExtPtr = std::unique_ptr<X509_EXTENSION, OpenSslDeleter<X509_EXTENSION_free>>;
using BnPtr = std::unique_ptr<BIGNUM, OpenSslDeleter<BN_free>>;
using TimePtr = std::unique_ptr<ASN1_TIME, OpenSslDeleter<ASN1_TIME_free>>;
using CertIdPtr = std::unique_ptr<OCSP_CERTID, OpenSslDeleter<OCSP_CERTID_free>>;
using BasicRespPtr = std::unique_ptr<OCSP_BASICRESP, OpenSslDeleter<OCSP_BASICRESP_free>>;
using OcspRespPtr = std::unique_ptr<OCSP_RESPONSE, OpenSslDeleter<OCSP_RESPONSE_free>>;

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error(what + ": " + openssl_errors());
}

void check(int ok, const std::string& what) {
  if (ok != 1) fail(what);
}

std::string join(const std::vector<std::string>& parts, const std::string& prefix) {
  std::string out;
  for (const auto& part : parts) out += (out.empty() ? "" : ",") + prefix + part;
  return out;
}

void add_extension(X509* cert, X509V3_CTX* ctx, int nid, const std::string& value) {
  ExtPtr ext(X509V3_EXT_nconf_nid(nullptr, ctx, nid, value.c_str()));
  if (!ext) fail("cannot make the extension " + std::string(OBJ_nid2sn(nid)) + "=" + value);
  check(X509_add_ext(cert, ext.get(), -1), "cannot add an extension");
}

// A random positive 127-bit serial: unique without bookkeeping.
void set_random_serial(X509* cert) {
  unsigned char bytes[16];
  check(RAND_bytes(bytes, sizeof bytes), "RAND_bytes failed");
  bytes[0] &= 0x7f;
  BnPtr bn(BN_bin2bn(bytes, sizeof bytes, nullptr));
  if (!bn || !BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert)))
    fail("cannot set a serial");
}

BioPtr open_bio(const std::filesystem::path& path) {
  BioPtr bio(BIO_new_file(path.c_str(), "r"));
  if (!bio) fail("cannot read " + path.string());
  return bio;
}

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(len));
}

}  // namespace

namespace {

// `count` SCTs, each from its own throwaway P-256 "log" key: log id = SHA-256 of the key's
// SubjectPublicKeyInfo (RFC 6962 §3.2), timestamp now, an ECDSA-SHA256 signature over the
// certificate's subject (what it signs cannot be the real precertificate entry: there is none).
void add_embedded_scts(X509* cert, int count) {
  using SctList = std::unique_ptr<STACK_OF(SCT), OpenSslDeleter<SCT_LIST_free>>;
  SctList list(sk_SCT_new_null());
  check(list != nullptr, "cannot allocate an SCT list");
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  for (int i = 0; i < count; ++i) {
    PkeyPtr log_key(EVP_EC_gen("P-256"));
    check(log_key != nullptr, "cannot generate a CT log key");
    unsigned char* spki = nullptr;
    const int spki_length = i2d_PUBKEY(log_key.get(), &spki);
    check(spki_length > 0, "cannot encode a CT log key");
    unsigned char log_id[SHA256_DIGEST_LENGTH];
    SHA256(spki, static_cast<size_t>(spki_length), log_id);
    OPENSSL_free(spki);

    unsigned char* subject = nullptr;
    const int subject_length = i2d_X509_NAME(X509_get_subject_name(cert), &subject);
    check(subject_length > 0, "cannot encode the subject for an SCT");
    std::unique_ptr<EVP_MD_CTX, OpenSslDeleter<EVP_MD_CTX_free>> md(EVP_MD_CTX_new());
    size_t signature_length = 0;
    std::vector<unsigned char> signature;
    const bool signed_ok =
        md && EVP_DigestSignInit(md.get(), nullptr, EVP_sha256(), nullptr, log_key.get()) == 1 &&
        EVP_DigestSign(md.get(), nullptr, &signature_length, subject,
                       static_cast<size_t>(subject_length)) == 1 &&
        (signature.resize(signature_length),
         EVP_DigestSign(md.get(), signature.data(), &signature_length, subject,
                        static_cast<size_t>(subject_length)) == 1);
    OPENSSL_free(subject);
    check(signed_ok, "cannot sign an SCT");
    signature.resize(signature_length);

    SCT* sct = SCT_new();
    check(sct != nullptr, "cannot allocate an SCT");
    if (sk_SCT_push(list.get(), sct) <= 0) {
      SCT_free(sct);
      fail("cannot add an SCT to the list");
    }
    check(SCT_set_version(sct, SCT_VERSION_V1) == 1 &&
              SCT_set_log_entry_type(sct, CT_LOG_ENTRY_TYPE_PRECERT) == 1 &&
              SCT_set1_log_id(sct, log_id, sizeof log_id) == 1 &&
              SCT_set_signature_nid(sct, NID_ecdsa_with_SHA256) == 1 &&
              SCT_set1_signature(sct, signature.data(), signature.size()) == 1,
          "cannot fill an SCT");
    SCT_set_timestamp(sct, static_cast<uint64_t>(now_ms));
  }
  check(X509_add1_ext_i2d(cert, NID_ct_precert_scts, list.get(), 0, 0) == 1,
        "cannot embed the SCT list");
}

}  // namespace

Issued issue_cert(const CertSpec& spec, const Issued* issuer) {
  Issued result;
  switch (spec.key) {
    case KeyKind::kEcP256:
      result.key.reset(EVP_EC_gen("P-256"));
      break;
    case KeyKind::kRsa2048:
      result.key.reset(EVP_RSA_gen(2048));
      break;
    case KeyKind::kRsa1024:
      result.key.reset(EVP_RSA_gen(1024));
      break;
  }
  if (!result.key) fail("cannot generate a key for CN=" + spec.common_name);
  result.cert.reset(X509_new());
  X509* cert = result.cert.get();
  if (cert == nullptr) fail("X509_new failed");

  check(X509_set_version(cert, 2), "cannot set the version");  // 2 = X.509 v3
  set_random_serial(cert);
  if (!X509_gmtime_adj(X509_getm_notBefore(cert), spec.not_before.count()) ||
      !X509_gmtime_adj(X509_getm_notAfter(cert), spec.not_after.count())) {
    fail("cannot set the validity period");
  }
  X509_NAME* name = X509_get_subject_name(cert);
  check(X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>("deploycheck sandbox"),
                                   -1, -1, 0),
        "cannot set O");
  check(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(spec.common_name.c_str()),
                                   -1, -1, 0),
        "cannot set CN=" + spec.common_name);
  X509* issuer_cert = issuer ? issuer->cert.get() : cert;
  EVP_PKEY* signing_key = issuer ? issuer->key.get() : result.key.get();
  check(X509_set_issuer_name(cert, X509_get_subject_name(issuer_cert)), "cannot set the issuer");
  check(X509_set_pubkey(cert, result.key.get()), "cannot set the public key");

  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer_cert, cert, nullptr, nullptr, 0);
  if (spec.is_ca) {
    std::string constraints = "critical,CA:TRUE";
    if (spec.path_length >= 0) constraints += ",pathlen:" + std::to_string(spec.path_length);
    add_extension(cert, &ctx, NID_basic_constraints, constraints);
    add_extension(cert, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    add_extension(cert, &ctx, NID_basic_constraints, "critical,CA:FALSE");
    // RSA keys may also encrypt the premaster secret (TLS 1.2's non-PFS RSA key exchange, which
    // the weak-cipher endpoint offers).
    add_extension(cert, &ctx, NID_key_usage,
                  spec.key == KeyKind::kEcP256 ? "critical,digitalSignature"
                                               : "critical,digitalSignature,keyEncipherment");
    add_extension(cert, &ctx, NID_ext_key_usage, "serverAuth");
  }
  add_extension(cert, &ctx, NID_subject_key_identifier, "hash");
  if (issuer != nullptr) add_extension(cert, &ctx, NID_authority_key_identifier, "keyid:always");
  std::string san = join(spec.dns_names, "DNS:");
  std::string ips = join(spec.ip_addresses, "IP:");
  if (!ips.empty()) san += (san.empty() ? "" : ",") + ips;
  if (!san.empty()) add_extension(cert, &ctx, NID_subject_alt_name, san);

  if (spec.embedded_scts > 0) add_embedded_scts(cert, spec.embedded_scts);

  const EVP_MD* digest = spec.sha1_signature ? EVP_sha1() : EVP_sha256();
  if (X509_sign(cert, signing_key, digest) == 0) fail("cannot sign CN=" + spec.common_name);
  return result;
}

void write_certs_pem(const std::filesystem::path& path, const std::vector<const X509*>& certs) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  for (const X509* cert : certs) {
    check(PEM_write_bio_X509(bio.get(), cert), "cannot encode a certificate for " + path.string());
  }
  write_file_atomically(path, bio_text(bio.get()), 0644);
}

void write_key_pem(const std::filesystem::path& path, const EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  check(PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr),
        "cannot encode the key for " + path.string());
  write_file_atomically(path, bio_text(bio.get()), 0600);
}

std::string ocsp_good_response(const Issued& leaf, const Issued& issuer,
                               std::chrono::seconds valid_for) {
  // SHA-1 in the CertID is what every client and responder uses to name a certificate.
  CertIdPtr id(OCSP_cert_to_id(EVP_sha1(), leaf.cert.get(), issuer.cert.get()));
  BasicRespPtr basic(OCSP_BASICRESP_new());
  TimePtr this_update(X509_gmtime_adj(nullptr, -3600));
  TimePtr next_update(X509_gmtime_adj(nullptr, valid_for.count()));
  if (!id || !basic || !this_update || !next_update) fail("cannot set up an OCSP response");
  if (OCSP_basic_add1_status(basic.get(), id.get(), V_OCSP_CERTSTATUS_GOOD, 0, nullptr,
                             this_update.get(), next_update.get()) == nullptr) {
    fail("cannot add the certificate's status to the OCSP response");
  }
  check(OCSP_basic_sign(basic.get(), issuer.cert.get(), issuer.key.get(), EVP_sha256(), nullptr, 0),
        "cannot sign the OCSP response");
  OcspRespPtr response(OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, basic.get()));
  unsigned char* der = nullptr;
  const int len = response ? i2d_OCSP_RESPONSE(response.get(), &der) : -1;
  if (len <= 0) fail("cannot encode the OCSP response");
  std::string out(reinterpret_cast<const char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

Issued read_issued(const std::filesystem::path& cert_file, const std::filesystem::path& key_file) {
  Issued result;
  result.cert.reset(PEM_read_bio_X509(open_bio(cert_file).get(), nullptr, nullptr, nullptr));
  if (!result.cert) fail("cannot parse the certificate in " + cert_file.string());
  result.key.reset(PEM_read_bio_PrivateKey(open_bio(key_file).get(), nullptr, nullptr, nullptr));
  if (!result.key) fail("cannot parse the key in " + key_file.string());
  return result;
}

}  // namespace deploycheck::sandbox
