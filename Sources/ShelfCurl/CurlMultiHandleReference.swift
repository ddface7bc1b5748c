import CCurl

/// The multi handle's address, shared only so other threads can call `curl_multi_wakeup`.
///
/// `@unchecked Sendable` is safe because: every other use of the handle (setopt, add/remove, perform, poll, cleanup)
/// happens on the curl thread; `curl_multi_wakeup` is documented as callable from any thread; and
/// `CurlSubmissionQueue` only calls it under its lock while the loop has not yet started `curl_multi_cleanup`.
struct CurlMultiHandleReference: @unchecked Sendable {
    let pointer: UnsafeMutableRawPointer
}
