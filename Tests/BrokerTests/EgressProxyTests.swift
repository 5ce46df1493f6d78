import BrokerCore
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import Testing

@testable import Broker

@Suite("Egress proxy toward MX")
struct EgressProxyTests {
    @Test("MX_HTTPS_PROXY is parsed, and malformed values are refused")
    func parsing() throws {
        let proxy = try #require(EgressProxy(url: "http://egress:s%3Acret@10.0.0.5:3128"))
        #expect(proxy.host == "10.0.0.5")
        #expect(proxy.port == 3128)
        #expect(proxy.credentials?.username == "egress")
        #expect(proxy.credentials?.password.value == "s:cret")
        #expect(EgressProxy(url: "10.0.0.5:3128") == nil)
        #expect(EgressProxy(url: "https://10.0.0.5:3128") == nil)
        #expect(EgressProxy(url: "http://10.0.0.5") == nil)
        #expect(throws: ConfigurationError.self) { try BrokerConfiguration(environment: ["MX_HTTPS_PROXY": "proxy:3128"]) }
    }

    @Test("every MX call is tunnelled through the proxy (CONNECT), with the proxy's credentials")
    func callsGoThroughTheProxy() async throws {
        let proxy = try await RecordingProxy.start()
        let environment = sandboxEnvironment([
            "MX_HTTPS_PROXY": "http://egress:proxy-password@127.0.0.1:\(proxy.port)", "MX_RETRY_ATTEMPTS": "1",
        ])
        try await withBroker(environment) { broker async throws in
            let response = try await broker.send(.post, "/v1/widget_urls", as: "alice", json: #"{"widget_url":{}}"#)
            #expect(response.status == .badGateway)
        }
        try await proxy.stop()
        let seen = try #require(proxy.requests.first)
        #expect(seen.method == "CONNECT")
        #expect(seen.uri.hasPrefix("127.0.0.1:"))
        #expect(seen.proxyAuthorization == "Basic " + Data("egress:proxy-password".utf8).base64EncodedString())
    }
}

/// A stand-in egress proxy on 127.0.0.1 that records each request it is sent (for MX, a
/// `CONNECT` to open a tunnel) and refuses it with 502.
final class RecordingProxy: Sendable {
    struct Seen: Sendable {
        let method: String
        let uri: String
        let proxyAuthorization: String?
    }

    private let channel: any Channel
    private let seen: NIOLockedValueBox<[Seen]>

    var port: Int { channel.localAddress?.port ?? 0 }
    var requests: [Seen] { seen.withLockedValue { $0 } }

    private init(channel: any Channel, seen: NIOLockedValueBox<[Seen]>) {
        self.channel = channel
        self.seen = seen
    }

    static func start() async throws -> RecordingProxy {
        let seen = NIOLockedValueBox<[Seen]>([])
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Handler(seen: seen))
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        return RecordingProxy(channel: channel, seen: seen)
    }

    func stop() async throws {
        try await channel.close()
    }

    private final class Handler: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        let seen: NIOLockedValueBox<[Seen]>

        init(seen: NIOLockedValueBox<[Seen]>) { self.seen = seen }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                seen.withLockedValue {
                    $0.append(Seen(method: head.method.rawValue, uri: head.uri, proxyAuthorization: head.headers.first(name: "Proxy-Authorization")))
                }
            case .body:
                break
            case .end:
                let body = ByteBuffer(string: "refused by the test proxy")
                let head = HTTPResponseHead(
                    version: .http1_1,
                    status: .badGateway,
                    headers: ["Content-Length": String(body.readableBytes), "Content-Type": "text/plain"]
                )
                context.write(wrapOutboundOut(.head(head)), promise: nil)
                context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            }
        }
    }
}
