import ArgumentParser
import Broker
import BrokerStore
import Foundation
import Hummingbird
import Logging
import MXSandbox
import ServiceLifecycle

@main
struct ConnectBroker: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "connect-broker",
        abstract: "Connects an app's users' bank accounts through MX, with MX credentials kept server-side.",
        subcommands: [Serve.self, Sandbox.self, Token.self, Migrate.self, CheckConfig.self],
        defaultSubcommand: Serve.self
    )
}

/// Options naming where to listen; they override `HOST` / `PORT`.
struct ListenOptions: ParsableArguments {
    @Option(help: "Address to listen on (env HOST).")
    var host: String?

    @Option(help: "Port to listen on; 0 picks a free one (env PORT).")
    var port: Int?

    /// The process environment with these options applied.
    func environment() -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        if let host { environment["HOST"] = host }
        if let port { environment["PORT"] = String(port) }
        return environment
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the broker. With no MX credentials configured, an embedded MX sandbox stands in for MX."
    )

    @OptionGroup var listen: ListenOptions

    func run() async throws {
        let configuration = try BrokerConfiguration(environment: listen.environment())
        let logger = makeLogger(configuration.logging)
        let app = try await buildApplication(configuration: configuration, logger: logger)
        try await app.runService()
    }
}

struct Sandbox: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the MX sandbox alone, for front-end work or for several brokers sharing one simulated MX."
    )

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on.")
    var port = 8090

    @Option(help: "File that keeps sandbox users and members between runs.")
    var stateFile: String?

    func run() async throws {
        var configuration = try BrokerConfiguration.sandboxConfiguration(environment: ProcessInfo.processInfo.environment)
        configuration.stateFile = stateFile
        let logger = makeLogger(level: .info)
        try await buildSandboxApplication(configuration: configuration, host: host, port: port, logger: logger).runService()
    }
}

struct Token: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a test bearer token the running broker accepts (sandbox mode, or with JWT_HS256_SECRET)."
    )

    @Option(help: "The app user id to put in the token's sub claim.")
    var sub: String

    @Option(help: "Seconds the token stays valid.")
    var lifetime = 3600

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let secret: String
        if let configured = environment["JWT_HS256_SECRET"], !configured.isEmpty {
            secret = configured
        } else {
            secret = try LocalSecret.loadOrCreate(LocalSecret.developmentTokenSecretFile, in: environment["DATA_DIR"] ?? "./data")
        }
        let signer = await DevTokenSigner(secret: secret)
        print(try await signer.token(subject: sub, lifetime: TimeInterval(lifetime)))
    }
}

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply the store's migrations (the SQLite file, or DATABASE_URL) and exit; replicas may run it together."
    )

    func run() async throws {
        let configuration = try BrokerConfiguration(environment: ProcessInfo.processInfo.environment)
        let logger = makeLogger(configuration.logging)
        try DataDirectory.prepare(configuration.store.dataDirectory)
        let (store, service) = try makeStore(configuration.store, logger: logger)
        let pool = Task { try await service?.run() }
        defer { pool.cancel() }
        try await store.migrate()
        logger.notice("Migrations applied")
    }
}

struct CheckConfig: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Check the configuration in the environment and say what is missing or wrong, without printing secrets."
    )

    @Flag(help: "Also make one read-only call to MX to check the credentials and the calling address.")
    var live = false

    func run() async throws {
        let (configuration, findings) = ConfigurationCheck.check(environment: ProcessInfo.processInfo.environment)
        var all = findings
        if let configuration, let keyProblem = await ConfigurationCheck.checkTokenKey(configuration) {
            all.append(keyProblem)
        }
        if live, let configuration {
            all.append(await ConfigurationCheck.checkMX(configuration))
        }
        for finding in all {
            print(finding)
        }
        if all.contains(where: { $0.severity == .error }) {
            throw ExitCode.failure
        }
    }
}

func makeLogger(_ settings: LogSettings) -> Logger {
    makeLogger(level: settings.level, json: settings.asJSON)
}

func makeLogger(level: Logger.Level, json: Bool = false) -> Logger {
    LoggingSystem.bootstrap { label -> any LogHandler in LineLogHandler(label: label, format: json ? .json : .text) }
    var logger = Logger(label: "connect-broker")
    logger.logLevel = level
    return logger
}
