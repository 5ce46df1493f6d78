import BrokerCore
import BrokerStore
import Crypto
import Foundation
import Logging
import MXPlatform

/// Finds or creates the MX user of each app user, exactly once.
///
/// The MX user `id` is derived from the subject with a server secret (URL-safe, no PII), and MX
/// enforces unique ids: a second creation anywhere answers 409 and the existing user is adopted.
/// Within a process, concurrent first calls for one subject share one creation.
actor UserProvisioner {
    private let store: any UserStore
    private let mx: MXClient
    private let ids: MXUserIDs
    private let logger: Logger
    /// Told of each user created here, for the event streams waiting for one.
    private let changes: UserChanges?
    /// Creations under way, by subject's bytes (``ByteKey``): the store and MX tell subjects
    /// apart by their bytes, and so must everything the broker keeps of them.
    private var inFlight: [ByteKey: Task<StoredUser, any Error>] = [:]
    /// Subjects' MX user guids, remembered briefly so that hot reads skip the store.
    private let knownGUIDs = ExpiringCache<String>()

    init(store: any UserStore, mx: MXClient, idSecret: Secret, changes: UserChanges? = nil, logger: Logger) {
        self.store = store
        self.mx = mx
        self.ids = MXUserIDs(secret: idSecret)
        self.changes = changes
        self.logger = logger
    }

    /// The caller's MX user, if one exists already (reads never create users).
    nonisolated func existingUser(subject: String) async throws -> StoredUser? {
        try await store.user(subject: subject)
    }

    /// The caller's MX user guid, if they have an MX user (remembered for ten seconds).
    nonisolated func existingMXUserGUID(subject: String) async throws -> String? {
        if let guid = rememberedMXUserGUID(subject: subject) { return guid }
        guard let user = try await store.user(subject: subject) else { return nil }
        knownGUIDs.set(user.mxUserGUID, for: subject, until: .now + .seconds(10))
        return user.mxUserGUID
    }

    /// The caller's MX user guid when it is remembered now, without asking the store.
    nonisolated func rememberedMXUserGUID(subject: String) -> String? {
        knownGUIDs.value(for: subject)
    }

    /// Forgets what was remembered of a subject whose user is being erased.
    nonisolated func forget(subject: String) {
        knownGUIDs.remove(subject)
    }

    /// The caller's MX user, created at MX and recorded on first use. With a `profile`, the
    /// user is created with it, and an existing user's is brought up to date when it changed.
    func user(subject: String, profile: UserProfile? = nil) async throws -> StoredUser {
        if let user = try await store.user(subject: subject) {
            guard let profile, user.profileDigest != profile.digest else { return user }
            return try await update(user, to: profile)
        }
        let key = ByteKey(subject)
        if let running = inFlight[key] { return try await running.value }
        let creation = Task { try await self.create(subject: subject, profile: profile) }
        inFlight[key] = creation
        defer { inFlight[key] = nil }
        return try await creation.value
    }

    private func create(subject: String, profile: UserProfile?) async throws -> StoredUser {
        let id = ids.id(of: subject)
        let createdAt = Date()
        let mxUser: MXUser
        var applied = profile
        do {
            mxUser = try await mx.createUser(id: id, email: profile?.mxEmail, metadata: profile?.metadata(createdAt: createdAt))
            logger.info("Created MX user", metadata: ["mx.user.guid": "\(mxUser.guid)"])
        } catch let error as MXError where error.kind == .conflict {
            guard let existing = try await mx.findUser(id: id) else { throw error }
            mxUser = existing
            applied = nil
            logger.info("Adopted existing MX user", metadata: ["mx.user.guid": "\(mxUser.guid)"])
        }
        let user = StoredUser(subject: subject, mxUserID: id, mxUserGUID: mxUser.guid, createdAt: createdAt, profileDigest: applied?.digest)
        let stored = try await store.insertUser(user)
        await changes?.created(subject: subject)
        return stored
    }

    /// Sends MX the caller's changed profile, then remembers that it did.
    private func update(_ user: StoredUser, to profile: UserProfile) async throws -> StoredUser {
        try await mx.updateUser(userGUID: user.mxUserGUID, email: profile.mxEmail, metadata: profile.metadata(createdAt: user.createdAt))
        try await store.setProfileDigest(profile.digest, mxUserGUID: user.mxUserGUID)
        logger.info("Updated the MX user's profile", metadata: ["mx.user.guid": "\(user.mxUserGUID)"])
        var updated = user
        updated.profileDigest = profile.digest
        return updated
    }
}

/// The MX user `id` of each subject: `cb_` and 40 hex digits of HMAC-SHA256(secret, subject's
/// bytes). Stable for a secret, so a user MX already has is found again; every other key made
/// from the secret is derived apart from it (``DerivedKey``).
struct MXUserIDs: Sendable {
    private let key: SymmetricKey

    init(secret: Secret) {
        key = SymmetricKey(data: Data(secret.value.utf8))
    }

    func id(of subject: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data(subject.utf8), using: key)
        return "cb_" + Hex.string(Array(mac.prefix(20)))
    }
}
