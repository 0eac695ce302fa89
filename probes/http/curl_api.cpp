#include "probes/http/curl_api.hpp"

#include <dlfcn.h>

#include <stdexcept>
#include <string>

namespace deploycheck {
namespace {

template <class Fn>
void resolve(void* library, const char* name, Fn& out) {
  out = reinterpret_cast<Fn>(::dlsym(library, name));
  if (out == nullptr) {
    throw std::runtime_error(std::string("libcurl.so.4 has no ") + name +
                             ": install libcurl4 7.88 or newer (Debian: apt-get install libcurl4)");
  }
}

CurlApi load() {
  // Never unloaded: libcurl keeps global state for the life of the process.
  void* library = ::dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
  if (library == nullptr) {
    throw std::runtime_error(std::string("cannot load libcurl.so.4 (") + ::dlerror() +
                             "): install it (Debian: apt-get install libcurl4)");
  }
  CurlApi api{};
  resolve(library, "curl_global_init", api.global_init);
  resolve(library, "curl_easy_init", api.easy_init);
  resolve(library, "curl_easy_cleanup", api.easy_cleanup);
  resolve(library, "curl_easy_setopt", api.easy_setopt);
  resolve(library, "curl_easy_perform", api.easy_perform);
  resolve(library, "curl_easy_getinfo", api.easy_getinfo);
  resolve(library, "curl_easy_strerror", api.easy_strerror);
  resolve(library, "curl_url", api.url);
  resolve(library, "curl_url_set", api.url_set);
  resolve(library, "curl_url_get", api.url_get);
  resolve(library, "curl_url_cleanup", api.url_cleanup);
  resolve(library, "curl_free", api.free);
  resolve(library, "curl_slist_append", api.slist_append);
  resolve(library, "curl_slist_free_all", api.slist_free_all);
  resolve(library, "curl_multi_init", api.multi_init);
  resolve(library, "curl_multi_cleanup", api.multi_cleanup);
  resolve(library, "curl_multi_setopt", api.multi_setopt);
  resolve(library, "curl_multi_add_handle", api.multi_add_handle);
  resolve(library, "curl_multi_remove_handle", api.multi_remove_handle);
  resolve(library, "curl_multi_perform", api.multi_perform);
  resolve(library, "curl_multi_poll", api.multi_poll);
  resolve(library, "curl_multi_info_read", api.multi_info_read);
  resolve(library, "curl_multi_strerror", api.multi_strerror);
  if (api.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    throw std::runtime_error("curl_global_init failed");
  }
  return api;
}

}  // namespace

const CurlApi& curl_api() {
  static const CurlApi api = load();  // C++ guarantees one initialisation across threads
  return api;
}

}  // namespace deploycheck
