import BrokerStore
import Hummingbird

/// `GET /healthz` (the process answers) and `GET /readyz` (the store answers and is migrated).
struct HealthController {
    let store: any StoreSchema

    func addRoutes(to router: Router<BrokerRequestContext>) {
        router.get("healthz") { _, _ in
            JSONAnswer.response(["status": "ok"], caching: .never)
        }
        router.get("readyz") { _, _ in
            do {
                try await withDeadline(.seconds(2)) { try await store.checkReady() }
            } catch {
                throw BrokerError(.serviceUnavailable, .notReady, "The store is unreachable or its migrations have not run.")
            }
            return JSONAnswer.response(["status": "ready"], caching: .never)
        }
        router.get("openapi.yaml") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/yaml; charset=utf-8"], body: .init(byteBuffer: OpenAPIDocument.yaml))
        }
    }
}
