// Shared OpenSSL helpers: unique_ptr deleters for its handles and its error queue as text.
#pragma once

#include <memory>
#include <string>

namespace deploycheck::sandbox {

// std::unique_ptr<X509, OpenSslDeleter<X509_free>> and the like.
template <auto Free>
struct OpenSslDeleter {
  template <class T>
  void operator()(T* p) const {
    Free(p);
  }
};

// OpenSSL's queued errors as one line (and clears the queue).
std::string openssl_errors();

}  // namespace deploycheck::sandbox
