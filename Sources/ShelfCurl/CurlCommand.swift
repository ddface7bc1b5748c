/// Work handed from a submitting task to the curl thread through `CurlSubmissionQueue`.
enum CurlCommand: Sendable {
    /// Add a transfer to the multi handle; the curl thread resumes the continuation exactly once.
    case start(CurlRequest, CurlTransferTicket, CheckedContinuation<CurlResponse, any Error>)
    /// The submitting task was cancelled: remove the transfer if it is still running.
    case cancel(CurlTransferTicket)
}
