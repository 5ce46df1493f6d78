import Foundation
import HTTPTypes
import Hummingbird
import NIOFoundationCompat

/// `{mountPath}/_faults`: the faults in force, read, replaced and cleared.
extension MXSandbox {
    func addFaultRoutes<Context: RequestContext>(to group: RouterGroup<Context>) {
        group.get("_faults") { request, context in
            try await api(request, context) { _ in await faults.report }
        }
        group.put("_faults") { request, context in
            try await api(request, context) { _ in
                var request = request
                guard let body = try? await request.collectBody(upTo: 1 << 20) else { throw SandboxFailure(400, "Body too large.") }
                let rules: [SandboxFaultRule]
                let data = Data(buffer: body)
                do throws(SandboxFaultError) {
                    rules = try SandboxFaultRule.list(fromJSON: data)
                } catch {
                    throw SandboxFailure(400, error.description)
                }
                await faults.replace(with: rules)
                return await faults.report
            }
        }
        group.delete("_faults") { request, context in
            try await api(request, context) { _ in
                await faults.replace(with: [])
                return nil
            }
        }
    }
}
