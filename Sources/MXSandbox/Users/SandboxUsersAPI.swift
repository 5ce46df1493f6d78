import Foundation
import HTTPTypes
import Hummingbird

/// MX's users: create, list, read, update and delete.
extension MXSandbox {
    struct UserBody: Decodable {
        struct Fields: Decodable {
            let id: String?
            let email: String?
            let metadata: String?
            let is_disabled: Bool?
        }
        let user: Fields
    }

    func addUserRoutes<Context: RequestContext>(to group: RouterGroup<Context>, mountPath: String) {
        group.post("users") { request, context in
            try await api(request, context) { version in
                let body = try await decode(UserBody.self, from: request, context: context)
                let fields = body.user
                guard fields.id != nil || fields.email != nil || fields.metadata != nil || fields.is_disabled != nil else {
                    throw SandboxFailure(400, "The user object must not be empty.")
                }
                if let id = fields.id, !Self.isURLSafeID(id) {
                    throw SandboxFailure(400, "A user id may contain only letters, digits, '-' and '_'.")
                }
                let user = try await state.createUser(
                    id: fields.id,
                    email: fields.email,
                    metadata: fields.metadata,
                    isDisabled: fields.is_disabled ?? false
                )
                return .object([("user", user.json)])
            }
        }
        group.get("users") { request, context in
            try await api(request, context) { version in
                let query = request.uri.queryParameters
                let users = await state.listUsers(id: query.get("id"), email: query.get("email"))
                let page = SandboxPage(page: query.get("page"), recordsPerPage: query.get("records_per_page"), maximum: 1000).slice(users)
                return .object([("users", .array(page.items.map(\.json))), ("pagination", page.pagination)])
            }
        }
        group.get("users/:user") { request, context in
            try await api(request, context) { version in
                .object([("user", try await user(context, version).json)])
            }
        }
        group.put("users/:user") { request, context in
            try await api(request, context) { version in
                let existing = try await user(context, version)
                let fields = try await decode(UserBody.self, from: request, context: context).user
                let user = try await state.updateUser(
                    existing.guid,
                    id: fields.id,
                    email: fields.email,
                    metadata: fields.metadata,
                    isDisabled: fields.is_disabled
                )
                return .object([("user", user.json)])
            }
        }
        group.delete("users/:user") { request, context in
            try await api(request, context) { version in
                await state.deleteUser(try await user(context, version).guid)
                return nil
            }
        }
        group.post("users/:user/widget_urls") { request, context in
            try await api(request, context) { version in
                let user = try await user(context, version)
                return try await mintWidgetURL(for: user, request: request, context: context, mountPath: mountPath)
            }
        }
    }
}
