import Hummingbird
import Logging
import NIOCore

/// Builds the channel simulator: one Hummingbird application serving every simulated connection.
public enum ShelfSimulator {
    /// Hosts the simulator may bind (loopback only).
    public static let loopbackHosts: Set<String> = ["127.0.0.1", "::1", "localhost"]

    /// The simulator application; run it with `runService()` or inside a `ServiceGroup`.
    public static func buildApplication(_ configuration: SimulatorConfiguration) throws -> some ApplicationProtocol {
        guard loopbackHosts.contains(configuration.host) else { throw SimulatorError.notLoopback(configuration.host) }
        let state = SimulatorState(clock: configuration.clock, fixtures: configuration.fixtures)
        let router = buildRouter(state: state, transport: configuration.webhookTransport)
        var logger = Logger(label: "shelf-sim")
        logger.logLevel = .notice
        let onListening = configuration.onListening
        let port = configuration.port
        return Application(
            router: router,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "shelf-sim"),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? port) },
            logger: logger
        )
    }

    static func buildRouter(state: SimulatorState, transport: any WebhookTransport) -> Router<SimRequestContext> {
        let router = Router(context: SimRequestContext.self)
        let dispatcher = WebhookDispatcher(state: state, transport: transport)
        ControlController(state: state, dispatcher: dispatcher).addRoutes(to: router.group("_sim"))
        ChannelController(state: state).addRoutes(to: router)
        return router
    }
}
