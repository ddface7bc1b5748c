import Hummingbird
import NIOCore

/// Request context that keeps the connection's channel, so faults can reset it.
struct SimRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.channel = source.channel
    }

    /// Control bodies are small; channel pushes can be large batches.
    var maxUploadSize: Int { 16 * 1024 * 1024 }
}
