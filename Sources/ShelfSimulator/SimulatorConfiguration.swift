/// Everything needed to start a simulator; the CLI fills it from flags, tests build it directly.
public struct SimulatorConfiguration: Sendable {
    /// Loopback only: `127.0.0.1`, `::1` or `localhost`.
    public var host: String
    /// 0 asks the OS for a free port (see `onListening`).
    public var port: Int
    public var fixtures: FixtureSet
    public var clock: any SimulatorClock
    public var webhookTransport: any WebhookTransport
    /// Called once the server is accepting connections, with the bound port.
    public var onListening: @Sendable (Int) async -> Void

    public init(
        host: String = "127.0.0.1",
        port: Int = 9090,
        fixtures: FixtureSet = FixtureSet(),
        clock: any SimulatorClock = SystemSimulatorClock(),
        webhookTransport: any WebhookTransport = CurlWebhookTransport(),
        onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) {
        self.host = host
        self.port = port
        self.fixtures = fixtures
        self.clock = clock
        self.webhookTransport = webhookTransport
        self.onListening = onListening
    }
}
