#ifndef SHELF_CCURL_SHIM_H
#define SHELF_CCURL_SHIM_H

#include <curl/curl.h>

// libcurl's setopt/getinfo entry points are variadic, which Swift cannot call.
// Each wrapper below fixes the type of the single variadic argument.

/// curl_global_init(CURL_GLOBAL_ALL); the flag macro is an expression Swift does not import.
static inline CURLcode shelf_curl_global_init_all(void) {
    return curl_global_init(CURL_GLOBAL_ALL);
}

// MARK: curl_easy_setopt

static inline CURLcode shelf_curl_easy_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode shelf_curl_easy_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode shelf_curl_easy_setopt_pointer(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}

/// libcurl copies string arguments (since 7.17.0), so the pointer only has to live for the call.
static inline CURLcode shelf_curl_easy_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode shelf_curl_easy_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value) {
    return curl_easy_setopt(handle, option, value);
}

/// CURLOPT_WRITEFUNCTION and CURLOPT_HEADERFUNCTION.
static inline CURLcode shelf_curl_easy_setopt_write_callback(CURL *handle, CURLoption option, curl_write_callback value) {
    return curl_easy_setopt(handle, option, value);
}

/// CURLOPT_READFUNCTION.
static inline CURLcode shelf_curl_easy_setopt_read_callback(CURL *handle, CURLoption option, curl_read_callback value) {
    return curl_easy_setopt(handle, option, value);
}

/// CURLOPT_SEEKFUNCTION.
static inline CURLcode shelf_curl_easy_setopt_seek_callback(CURL *handle, CURLoption option, curl_seek_callback value) {
    return curl_easy_setopt(handle, option, value);
}

/// CURLOPT_PREREQFUNCTION: called once a connection is made or reused, before the request is sent (libcurl ≥ 7.80).
static inline CURLcode shelf_curl_easy_setopt_prereq_callback(CURL *handle, curl_prereq_callback value) {
    return curl_easy_setopt(handle, CURLOPT_PREREQFUNCTION, value);
}

// MARK: curl_easy_getinfo

static inline CURLcode shelf_curl_easy_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}

static inline CURLcode shelf_curl_easy_getinfo_off_t(CURL *handle, CURLINFO info, curl_off_t *value) {
    return curl_easy_getinfo(handle, info, value);
}

static inline CURLcode shelf_curl_easy_getinfo_double(CURL *handle, CURLINFO info, double *value) {
    return curl_easy_getinfo(handle, info, value);
}

/// CURLINFO_PRIVATE (the value stored with CURLOPT_PRIVATE).
static inline CURLcode shelf_curl_easy_getinfo_pointer(CURL *handle, CURLINFO info, void **value) {
    return curl_easy_getinfo(handle, info, value);
}

/// String infos such as CURLINFO_EFFECTIVE_URL; the string is owned by the handle.
static inline CURLcode shelf_curl_easy_getinfo_string(CURL *handle, CURLINFO info, const char **value) {
    return curl_easy_getinfo(handle, info, value);
}

// MARK: curl_multi_setopt

static inline CURLMcode shelf_curl_multi_setopt_long(CURLM *handle, CURLMoption option, long value) {
    return curl_multi_setopt(handle, option, value);
}

static inline CURLMcode shelf_curl_multi_setopt_off_t(CURLM *handle, CURLMoption option, curl_off_t value) {
    return curl_multi_setopt(handle, option, value);
}

static inline CURLMcode shelf_curl_multi_setopt_pointer(CURLM *handle, CURLMoption option, void *value) {
    return curl_multi_setopt(handle, option, value);
}

/// CURLMOPT_SOCKETFUNCTION.
static inline CURLMcode shelf_curl_multi_setopt_socket_callback(CURLM *handle, CURLMoption option, curl_socket_callback value) {
    return curl_multi_setopt(handle, option, value);
}

/// CURLMOPT_TIMERFUNCTION.
static inline CURLMcode shelf_curl_multi_setopt_timer_callback(CURLM *handle, CURLMoption option, curl_multi_timer_callback value) {
    return curl_multi_setopt(handle, option, value);
}

#endif /* SHELF_CCURL_SHIM_H */
