import CCurl
import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The body of the curl thread: owns the multi handle and every easy handle, loops on `curl_multi_poll`.
///
/// Created on the curl thread and never shared: nothing here is touched from another thread. Other threads reach the
/// loop only through `CurlSubmissionQueue`, which wakes `curl_multi_poll` with `curl_multi_wakeup`.
final class CurlMultiLoop {
    private let multi: UnsafeMutableRawPointer
    private let queue: CurlSubmissionQueue
    private let logger: Logger
    private var active: [UInt64: CurlTransfer] = [:]

    /// Longest sleep in `curl_multi_poll` when libcurl has no earlier timer; wake-ups end it early anyway.
    private static let idlePollMilliseconds: Int32 = 1000

    init(multi: UnsafeMutableRawPointer, queue: CurlSubmissionQueue, logger: Logger, maxTotalConnections: Int, maxHostConnections: Int) {
        self.multi = multi
        self.queue = queue
        self.logger = logger
        // The multi handle's connection cache is what gives keep-alive reuse across easy handles.
        setMultiOption(CURLMOPT_MAXCONNECTS, maxTotalConnections)
        setMultiOption(CURLMOPT_MAX_TOTAL_CONNECTIONS, maxTotalConnections)
        setMultiOption(CURLMOPT_MAX_HOST_CONNECTIONS, maxHostConnections)
        setMultiOption(CURLMOPT_PIPELINING, Int(CURLPIPE_MULTIPLEX))
    }

    /// Runs until shutdown was requested and no transfer is left, then cleans up the multi handle.
    func run() {
        logger.debug("curl thread started")
        while true {
            let drained = queue.drain()
            for command in drained.commands {
                handle(command)
            }
            if drained.shutdownRequested {
                if active.isEmpty { break }
                if let deadline = drained.shutdownDeadline, ContinuousClock.now >= deadline {
                    logger.warning("curl shutdown grace period expired", metadata: ["in_flight": "\(active.count)"])
                    abortAll(with: CurlError.shutdown)
                    break
                }
            }
            var running: Int32 = 0
            let performCode = curl_multi_perform(multi, &running)
            if performCode != CURLM_OK {
                logger.error("curl_multi_perform failed", metadata: ["error": "\(String(cString: curl_multi_strerror(performCode)))"])
            }
            completeFinishedTransfers()
            if drained.shutdownRequested && active.isEmpty {
                continue  // the last transfer just finished: exit now instead of sleeping in poll
            }
            poll(until: drained.shutdownDeadline)
        }
        for leftover in queue.loopWillCleanUp() {
            if case .start(_, _, let continuation) = leftover {  // cannot happen: starts are refused once shutdown is requested
                queue.transferFinished()
                continuation.resume(throwing: CurlError.shutdown)
            }
        }
        curl_multi_cleanup(multi)
        logger.debug("curl thread finished")
        queue.loopDidFinish()
    }

    private func handle(_ command: CurlCommand) {
        switch command {
        case .start(let request, let ticket, let continuation):
            if ticket.isCancelled {
                queue.transferFinished()
                continuation.resume(throwing: CancellationError())
                return
            }
            let transfer: CurlTransfer
            do {
                transfer = try CurlTransfer(request: request, ticket: ticket, continuation: continuation)
            } catch {
                queue.transferFinished()
                continuation.resume(throwing: error)
                return
            }
            let addCode = curl_multi_add_handle(multi, transfer.easy)
            guard addCode == CURLM_OK else {
                let message = String(cString: curl_multi_strerror(addCode))
                queue.transferFinished()
                transfer.resume(with: .failure(CurlError.curl(code: Int(addCode.rawValue), message: message)))
                return
            }
            active[transfer.id] = transfer
        case .cancel(let ticket):
            // Unknown ids are transfers that already finished, or whose start is still queued (it will see the flag).
            guard let transfer = active[ticket.id] else { return }
            finish(transfer, with: .failure(CancellationError()))
            logger.debug("curl transfer cancelled", metadata: ["method": "\(transfer.request.method)", "url": "\(transfer.request.url)"])
        }
    }

    private func completeFinishedTransfers() {
        var remaining: Int32 = 0
        while let message = curl_multi_info_read(multi, &remaining) {
            guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle else { continue }
            let code = message.pointee.data.result
            var context: UnsafeMutableRawPointer?
            guard shelf_curl_easy_getinfo_pointer(easy, CURLINFO_PRIVATE, &context) == CURLE_OK, let context else {
                logger.error("finished curl handle has no transfer; removing it")
                curl_multi_remove_handle(multi, easy)
                continue
            }
            let transfer = Unmanaged<CurlTransfer>.fromOpaque(context).takeUnretainedValue()
            let outcome = transfer.outcome(code: code)
            finish(transfer, with: outcome)
            log(transfer, outcome: outcome)
        }
    }

    /// Removes the easy handle from the multi handle, resumes the task, and lets the transfer (and its handle) go.
    private func finish(_ transfer: CurlTransfer, with outcome: Result<CurlResponse, any Error>) {
        curl_multi_remove_handle(multi, transfer.easy)
        active[transfer.id] = nil
        queue.transferFinished()  // before resuming, so the caller never observes its own transfer as in flight
        transfer.resume(with: outcome)
    }

    private func abortAll(with error: any Error) {
        for transfer in Array(active.values) {
            finish(transfer, with: .failure(error))
        }
    }

    private func poll(until deadline: ContinuousClock.Instant?) {
        var timeout = Self.idlePollMilliseconds
        if let deadline {
            let remaining = ContinuousClock.now.duration(to: deadline)
            timeout = remaining <= .zero ? 0 : Int32(min(Int(timeout), remaining.wholeMillisecondsAtLeastOne))
        }
        let pollCode = curl_multi_poll(multi, nil, 0, timeout, nil)
        if pollCode != CURLM_OK {
            logger.error("curl_multi_poll failed", metadata: ["error": "\(String(cString: curl_multi_strerror(pollCode)))"])
            usleep(10_000)  // do not spin if polling keeps failing
        }
    }

    private func log(_ transfer: CurlTransfer, outcome: Result<CurlResponse, any Error>) {
        guard logger.logLevel <= .debug else { return }
        var metadata: Logger.Metadata = ["method": "\(transfer.request.method)", "url": "\(transfer.request.url)"]
        switch outcome {
        case .success(let response):
            metadata["status"] = "\(response.status)"
            metadata["duration"] = "\(response.totalTime)"
            logger.debug("curl transfer finished", metadata: metadata)
        case .failure(let error):
            metadata["error"] = "\(error)"
            let detail = transfer.errorDetail
            if !detail.isEmpty { metadata["detail"] = "\(detail)" }
            logger.debug("curl transfer failed", metadata: metadata)
        }
    }

    private func setMultiOption(_ option: CURLMoption, _ value: Int) {
        let code = shelf_curl_multi_setopt_long(multi, option, value)
        if code != CURLM_OK {
            let message = String(cString: curl_multi_strerror(code))
            logger.warning("curl_multi_setopt failed", metadata: ["option": "\(option.rawValue)", "error": "\(message)"])
        }
    }
}
