#include "tools/sandbox/openssl.hpp"

#include <openssl/err.h>

namespace deploycheck::sandbox {

std::string openssl_errors() {
  std::string text;
  while (unsigned long code = ERR_get_error()) {
    char buffer[256];
    ERR_error_string_n(code, buffer, sizeof buffer);
    text += (text.empty() ? "" : "; ") + std::string(buffer);
  }
  return text.empty() ? "no OpenSSL error recorded" : text;
}

}  // namespace deploycheck::sandbox
