import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import NIOFoundationCompat

/// A sandbox Connect widget session driven over HTTP the way its page script drives it: open the
/// page, call the session API, and collect every widget event the page would emit to its host.
public struct WidgetSessionDriver: Sendable {
    /// A step of the flow that did not go as the sandbox promises.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    let client: any TestClientProtocol
    /// The folder of the widget page, where its relative URLs resolve.
    let base: String
    /// The page's embedded configuration.
    public let config: [String: any Sendable]
    /// Every event the page would have emitted so far, in order, as JSON objects.
    public private(set) var events: [[String: any Sendable]] = []

    public var session: String { config["session_guid"] as? String ?? "" }

    /// The types of the events so far.
    public var types: [String] { events.compactMap { $0["type"] as? String } }

    /// Opens the widget page at `url` (any host: only its path is used) and reads its configuration.
    public init(client: any TestClientProtocol, url: String) async throws {
        self.client = client
        guard let path = URLComponents(string: url)?.path, let slash = path.lastIndex(of: "/") else {
            throw Failure(description: "not a widget URL: \(url)")
        }
        base = String(path[..<slash])
        let page = try await client.execute(uri: path, method: .get) { $0 }
        guard page.status == .ok else { throw Failure(description: "widget page answered \(page.status)") }
        let html = String(buffer: page.body)
        guard let json = html.firstMatch(of: /<script type="application\/json" id="widget-config">(.*?)<\/script>/)?.1,
            let config = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: any Sendable]
        else { throw Failure(description: "widget page has no configuration") }
        self.config = config
        events = Self.objects(config["initial_events"])
    }

    /// Calls the session API; records the events it answers with and returns the whole answer.
    @discardableResult
    public mutating func call(
        _ method: HTTPRequest.Method,
        _ path: String,
        _ body: [String: any Sendable]? = nil,
        expect status: HTTPResponse.Status = .ok
    ) async throws -> [String: any Sendable] {
        let data = try body.map { try JSONSerialization.data(withJSONObject: $0) }
        let response = try await client.execute(
            uri: "\(base)/sessions/\(session)\(path)",
            method: method,
            headers: [.contentType: "application/json"],
            body: data.map { ByteBuffer(data: $0) }
        ) { $0 }
        guard response.status == status else { throw Failure(description: "\(path) answered \(response.status): \(String(buffer: response.body))") }
        guard let answer = try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: any Sendable] else {
            throw Failure(description: "\(path) answered no JSON object")
        }
        events += Self.objects(answer["events"])
        return answer
    }

    /// Polls the member as the page does until `done` holds for its status (ten seconds at most).
    public mutating func poll(_ member: String, until done: (String) -> Bool) async throws -> [String: any Sendable] {
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            let state = Self.object(try await call(.get, "/members/\(member)")["member"])
            if done(state["connection_status"] as? String ?? "") { return state }
            try await Task.sleep(for: .milliseconds(40))
        }
        throw Failure(description: "member \(member) never reached the expected status")
    }

    /// Selects `institution` and submits MX Bank's test username with `password`; returns the member guid.
    public mutating func connect(_ institution: String, password: String = "password") async throws -> String {
        try await call(.post, "/select", ["institution_code": institution])
        let created = try await call(.post, "/members", ["institution_code": institution, "username": "mxuser", "password": password])
        guard let guid = Self.object(created["member"])["guid"] as? String else { throw Failure(description: "no member created") }
        return guid
    }

    /// The events so far as JSON text, one per event, ready to relay.
    public var eventsJSON: [String] {
        events.compactMap { event in (try? JSONSerialization.data(withJSONObject: event)).map { String(decoding: $0, as: UTF8.self) } }
    }

    static func object(_ value: Any?) -> [String: any Sendable] {
        value as? [String: any Sendable] ?? [:]
    }

    static func objects(_ value: Any?) -> [[String: any Sendable]] {
        (value as? [Any] ?? []).compactMap { $0 as? [String: any Sendable] }
    }
}
