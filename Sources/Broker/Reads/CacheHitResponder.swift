import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// Answers the reads the ``ReadCache`` holds without waiting for anything.
///
/// Through the router, a cached read is carried from the connection's event loop to its task
/// and back, through an async frame per middleware; on a small machine that is most of what it
/// costs. This answers the case that needs no waiting — a token verified before, an MX user
/// remembered, a read left in the caller's budget and a fresh cache entry — by running the
/// early steps of the very middlewares the read routes are registered behind (``EarlyStep``),
/// then `Edge`'s headers, metrics and access log line, as the router does. Any other request,
/// including every one that ends in an error, is for the router.
///
/// One responder serves every connection; each connection's ``CacheHitHandler`` holds only a
/// reference to it, which keeps what an open event stream costs small.
final class CacheHitResponder: Sendable {
    private let mountPath: [Substring]
    private let routes: [(route: ReadController.Route, label: String)]
    private let edge: Edge
    private let steps: [any EarlyStep]
    private let reads: ReadController
    private let logger: Logger
    private let date = HTTPDate()

    /// A responder for the read routes of `reads`, mounted at `mountPath` (`v1`), behind
    /// `steps` (those of ``UserRoutes/steps(spending:)`` for the reads' budget).
    init(mountPath: String, edge: Edge, steps: [any EarlyStep], reads: ReadController, logger: Logger) {
        self.mountPath = mountPath.split(separator: "/")
        routes = ReadController.routes.map { route in (route, RouterPath(mountPath + "/" + route.routerPath).description) }
        self.edge = edge
        self.steps = steps
        self.reads = reads
        self.logger = logger
    }

    /// Whether a request with this head could be answered here, so is worth holding until its
    /// end. A request asking to close the connection is the router's, which closes it.
    func mayAnswer(_ head: HTTPRequest) -> Bool {
        head.method == .get && head.headerFields[.authorization] != nil
            && !(head.headerFields[.connection]?.lowercased().contains("close") ?? false)
    }

    /// The whole answer to a request with this head and no body, or `nil` when the router must
    /// answer it.
    func answer(_ head: HTTPRequest) -> (head: HTTPResponse, body: ByteBuffer?)? {
        let started = ContinuousClock.now
        let request = Request(head: head, body: .init(buffer: ByteBuffer()))
        guard let (route, label, parameters) = match(request.uri.path) else { return nil }
        var caller = EarlyCaller()
        for step in steps {
            guard step.admitEarly(request, caller: &caller) else { return nil }
        }
        guard let subject = caller.subject,
            let answer = reads.cachedAnswer(to: request, route: route, parameters: parameters, subject: subject)
        else { return nil }
        for step in steps {
            guard step.commitEarly(caller: caller) else { return nil }
        }
        var (response, body) = answer.reply(to: request)
        response.headers[.date] = date.now()
        edge.metrics.recordEarlyAnswer()
        edge.finish(
            &response,
            to: request,
            route: label,
            requestID: Edge.requestID(of: request),
            origin: edge.cors.allowedOrigin(of: request),
            started: started,
            subjectHash: caller.subjectHash,
            logger: logger
        )
        return (response.head, body)
    }

    /// The read route `path` is exactly, with its metrics label and parameters.
    private func match(_ path: String) -> (ReadController.Route, String, [String: Substring])? {
        let components = path.split(separator: "/", omittingEmptySubsequences: false)
        guard components.count > mountPath.count + 1, components[0].isEmpty, components[1...mountPath.count].elementsEqual(mountPath) else {
            return nil
        }
        let below = components[(mountPath.count + 1)...]
        for (route, label) in routes {
            if let parameters = route.parameters(matching: below) { return (route, label, parameters) }
        }
        return nil
    }
}
