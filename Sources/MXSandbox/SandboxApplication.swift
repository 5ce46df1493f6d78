import Hummingbird
import Logging
import NIOCore

/// The sandbox alone, listening on its own address: for front-end developers, and for several
/// brokers sharing one simulated MX. `GET /healthz` answers 200.
public func buildSandboxApplication(
    configuration: SandboxConfiguration,
    host: String,
    port: Int,
    logger: Logger
) -> some ApplicationProtocol {
    let router = Router()
    router.get("healthz") { _, _ in Response(status: .ok) }
    MXSandbox(configuration: configuration, logger: logger).addRoutes(to: router, mountPath: "")
    return Application(
        router: router,
        configuration: .init(address: .hostname(host, port: port), serverName: nil),
        onServerRunning: { channel in
            let address = channel.localAddress
            let host = address?.ipAddress.map { $0.contains(":") ? "[\($0)]" : $0 } ?? host
            logger.notice(
                "MX sandbox listening",
                metadata: ["server.url": "http://\(host):\(address?.port ?? port)", "sandbox.client_id": "\(configuration.clientID)"]
            )
        },
        logger: logger
    )
}
