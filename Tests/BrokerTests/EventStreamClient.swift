import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization
import Testing

/// One Server-Sent Event, or a comment line (`comment` set, the rest empty).
struct ReceivedEvent: Sendable, Equatable {
    var id: String?
    var event: String?
    var data: String = ""
    var comment: String?
    /// The reconnection delay the server asked for, in milliseconds (kept on a block's comments).
    var retry: Int?
}

/// A live `GET /v1/events` connection read in the background over real HTTP.
final class EventStreamClient: Sendable {
    let status: Int
    private let received = Mutex<[ReceivedEvent]>([])
    private let reader = Mutex<Task<Void, Never>?>(nil)
    private let ended = Mutex(false)

    private init(status: Int) {
        self.status = status
    }

    /// Opens the stream at `url` and starts reading it; the HTTP status is known on return.
    static func open(_ url: String, headers: [(String, String)] = []) async throws -> EventStreamClient {
        var request = HTTPClientRequest(url: url)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let client = EventStreamClient(status: Int(response.status.code))
        let task = Task { [client] in
            var pending = ""
            do {
                for try await chunk in response.body {
                    pending += String(buffer: chunk)
                    while let end = pending.range(of: "\n\n") {
                        let block = String(pending[..<end.lowerBound])
                        pending = String(pending[end.upperBound...])
                        client.parse(block)
                    }
                }
            } catch {}
            client.ended.withLock { $0 = true }
        }
        client.reader.withLock { $0 = task }
        return client
    }

    private func parse(_ block: String) {
        var event = ReceivedEvent()
        var comments: [ReceivedEvent] = []
        for line in block.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix(":") {
                comments.append(ReceivedEvent(comment: String(line.dropFirst()).trimmingCharacters(in: .whitespaces)))
            } else if line.hasPrefix("retry: ") {
                event.retry = Int(line.dropFirst(7))
            } else if line.hasPrefix("id: ") {
                event.id = String(line.dropFirst(4))
            } else if line.hasPrefix("event: ") {
                event.event = String(line.dropFirst(7))
            } else if line.hasPrefix("data: ") {
                event.data += String(line.dropFirst(6))
            }
        }
        received.withLock { list in
            list += comments.map { comment in
                var comment = comment
                comment.retry = event.retry
                return comment
            }
            if event.id != nil || event.event != nil { list.append(event) }
        }
    }

    /// Everything received so far, in order, events and comments.
    var all: [ReceivedEvent] { received.withLock { $0 } }

    /// The events (not comments) received so far.
    var events: [ReceivedEvent] { all.filter { $0.comment == nil } }

    /// Waits up to `timeout` for `condition` to hold over the events; returns them.
    @discardableResult
    func wait(timeout: Duration = .seconds(10), until condition: ([ReceivedEvent]) -> Bool) async throws -> [ReceivedEvent] {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if condition(all) { return all }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("timed out waiting for events; got \(all.map { $0.event ?? ":\($0.comment ?? "")" })")
        return all
    }

    /// Whether the server has ended the stream (or the connection dropped).
    var isEnded: Bool { ended.withLock { $0 } }

    func close() {
        reader.withLock { $0?.cancel() }
    }
}

extension ReceivedEvent {
    /// The `data` parsed as a JSON object.
    var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(data.utf8))) as? [String: Any] ?? [:]
    }
}
