#pragma once
// libcurl, loaded on first use.
//
// Debian's libcurl drags in ~30 shared libraries (gnutls, krb5, ldap, ssh, rtmp …), and
// loading them costs each process ~6 ms here — more than everything else a check does. Every
// check is its own process, and most only read facts, so libcurl is dlopen()ed by the few that
// make a request or parse a URL. The functions keep their libcurl types (taken from curl.h).
#include <curl/curl.h>

namespace deploycheck {

struct CurlApi {
  decltype(&::curl_global_init) global_init;
  decltype(&::curl_easy_init) easy_init;
  decltype(&::curl_easy_cleanup) easy_cleanup;
  decltype(&::curl_easy_setopt) easy_setopt;
  decltype(&::curl_easy_perform) easy_perform;
  decltype(&::curl_easy_getinfo) easy_getinfo;
  decltype(&::curl_easy_strerror) easy_strerror;
  decltype(&::curl_url) url;
  decltype(&::curl_url_set) url_set;
  decltype(&::curl_url_get) url_get;
  decltype(&::curl_url_cleanup) url_cleanup;
  decltype(&::curl_free) free;
  decltype(&::curl_slist_append) slist_append;
  decltype(&::curl_slist_free_all) slist_free_all;
  // The multi interface: many transfers in flight on shared connections (probes/http fetch_many).
  decltype(&::curl_multi_init) multi_init;
  decltype(&::curl_multi_cleanup) multi_cleanup;
  decltype(&::curl_multi_setopt) multi_setopt;
  decltype(&::curl_multi_add_handle) multi_add_handle;
  decltype(&::curl_multi_remove_handle) multi_remove_handle;
  decltype(&::curl_multi_perform) multi_perform;
  decltype(&::curl_multi_poll) multi_poll;
  decltype(&::curl_multi_info_read) multi_info_read;
  decltype(&::curl_multi_strerror) multi_strerror;
};

// Loads libcurl.so.4 once (thread-safe) and runs curl_global_init; throws std::runtime_error
// saying what to install if it cannot.
const CurlApi& curl_api();

}  // namespace deploycheck
