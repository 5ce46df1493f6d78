import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The `connect-broker` executable running as a separate process, as a deployment runs it.
final class BrokerProcess: Sendable {
    let baseURL: String
    private let process: Process
    private let output = Locked("")

    private static let launches = Mutex(())

    /// The executable the same build produced next to the test binary.
    static var executable: URL { ProjectFiles.buildProducts.appendingPathComponent("connect-broker") }

    /// Starts `connect-broker <command>` (`serve` or `sandbox`) with `environment` on a free
    /// port and waits until it listens; with `openFileLimit`, under that `RLIMIT_NOFILE`.
    init(_ command: String = "serve", environment: [String: String], openFileLimit: Int? = nil) async throws {
        let process = Process()
        if let openFileLimit {
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", "ulimit -n \(openFileLimit) && exec \"$0\" \"$@\"", Self.executable.path, command, "--port", "0"]
        } else {
            process.executableURL = Self.executable
            process.arguments = [command, "--port", "0"]
        }
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let pipe = Pipe()
        process.standardError = pipe
        process.standardOutput = pipe
        let output = self.output
        pipe.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            output.withLock { $0 += String(decoding: data, as: UTF8.self) }
        }
        self.process = process
        // Foundation's Process.run is not safe to call from two threads at once on Linux, and
        // the suites start processes in parallel.
        try Self.launches.withLock { _ in try process.run() }
        let deadline = ContinuousClock.now + .seconds(20)
        var url: String?
        while ContinuousClock.now < deadline, url == nil, process.isRunning {
            url = output.withLock { $0.firstMatch(of: /server\.url=(http:\/\/[0-9.:\[\]]+)/).map { String($0.1) } }
            if url == nil { try await Task.sleep(for: .milliseconds(50)) }
        }
        guard let url else {
            process.terminate()
            throw BrokerProcessFailure(description: "the broker did not start: \(output.withLock { $0 })")
        }
        baseURL = url
    }

    /// The process's resident memory now, from `/proc` (Linux), or `nil` where it cannot be read.
    var residentBytes: Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kilobytes = line.split(separator: " ").dropFirst().first.flatMap({ Int($0) })
        else { return nil }
        return kilobytes * 1024
    }

    /// Ends the process at once, as a crash or an out-of-memory kill would.
    func kill() {
        Glibc.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// Asks the process to stop gracefully and waits for it.
    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }

    /// Sends SIGTERM, as an orchestrator does, without waiting.
    func terminate() {
        process.terminate()
    }

    /// Waits for the process to end; its exit status, or `nil` if a signal ended it.
    func exitStatus() async -> Int32? {
        while process.isRunning { try? await Task.sleep(for: .milliseconds(20)) }
        return process.terminationReason == .exit ? process.terminationStatus : nil
    }

    var log: String { output.withLock { $0 } }
}

/// A value shared between tasks behind a lock.
final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    init(_ value: Value) {
        mutex = Mutex(value)
    }

    func withLock<Result: Sendable>(_ body: (inout Value) -> Result) -> Result {
        mutex.withLock { body(&$0) }
    }
}

struct BrokerProcessFailure: Error, CustomStringConvertible {
    let description: String
}

/// One request over real HTTP to a process under test: the status and the body as JSON.
func httpRequest(
    _ url: String,
    method: HTTPMethod = .GET,
    headers: [(String, String)] = [],
    body: String? = nil
) async throws -> (status: Int, json: [String: Any]) {
    var request = HTTPClientRequest(url: url)
    request.method = method
    for (name, value) in headers { request.headers.add(name: name, value: value) }
    if let body { request.body = .bytes(ByteBuffer(string: body)) }
    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
    let buffer = try await response.body.collect(upTo: 1 << 22)
    let json = (try? JSONSerialization.jsonObject(with: Data(buffer: buffer))) as? [String: Any] ?? [:]
    return (Int(response.status.code), json)
}

/// Headers of a call straight to the sandbox's API.
let sandboxAPIHeaders = [
    ("Authorization", "Basic " + Data("sandbox-client-id:sandbox-api-key".utf8).base64EncodedString()),
    ("Accept", "application/vnd.mx.api.v1+json"), ("Content-Type", "application/json"),
]

/// Creates an MX Bank member for `user` at the sandbox behind `baseURL` (its API at `apiPath`),
/// each with a login of its own (MX refuses two members with the same credentials).
func createSandboxMember(baseURL: String, apiPath: String, user: String) async throws -> String {
    let login = "mxuser+\(UUID().uuidString.prefix(8))"
    let body =
        #"{"member":{"institution_code":"mxbank","credentials":[{"guid":"CRD-mxbank-username","value":"\#(login)"},{"guid":"CRD-mxbank-password","value":"password"}]}}"#
    let (_, created) = try await httpRequest("\(baseURL)\(apiPath)/users/\(user)/members", method: .POST, headers: sandboxAPIHeaders, body: body)
    return try #require((created["member"] as? [String: Any])?["guid"] as? String)
}
