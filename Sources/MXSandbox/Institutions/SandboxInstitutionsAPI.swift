import Foundation
import HTTPTypes
import Hummingbird

/// MX's institutions: search, read one, and the credential fields it asks for.
extension MXSandbox {
    func addInstitutionRoutes<Context: RequestContext>(to group: RouterGroup<Context>) {
        group.get("institutions") { request, context in
            try await api(request, context) { version in
                let query = request.uri.queryParameters
                let name = query.get("name")?.lowercased()
                let matches = SandboxInstitution.all.filter { name == nil || $0.name.lowercased().contains(name!) || $0.code.contains(name!) }
                let page = SandboxPage(page: query.get("page"), recordsPerPage: query.get("records_per_page"), maximum: 100).slice(matches)
                return .object([("institutions", .array(page.items.map { $0.json(version) })), ("pagination", page.pagination)])
            }
        }
        group.get("institutions/:code") { request, context in
            try await api(request, context) { version in
                .object([("institution", try institution(context, version).json(version))])
            }
        }
        group.get("institutions/:code/credentials") { request, context in
            try await api(request, context) { version in
                let fields = try institution(context, version).credentials
                let page = SandboxPage(page: nil, recordsPerPage: nil, maximum: 1000).slice(fields)
                return .object([("credentials", .array(page.items.map(\.json))), ("pagination", page.pagination)])
            }
        }
    }

    func institution<Context: RequestContext>(_ context: Context, _ version: SandboxAPIVersion) throws -> SandboxInstitution {
        guard let institution = SandboxInstitution.identified(by: try context.parameters.require("code"), version: version) else {
            throw SandboxFailure(404, "Institution not found.")
        }
        return institution
    }
}
