import Foundation
import GRDB

/// The embedded store: one SQLite file in WAL mode (many readers, one writer), synchronous so
/// that a committed write survives a crash of the process or of the machine.
public final class SQLiteStore: Store {
    private let database: DatabasePool
    private let migrator: DatabaseMigrator
    /// Webhook deliveries arriving together share one commit.
    private let inboxWrites: WriteBatcher<WebhookDelivery, EnqueueResult>

    /// Opens (creating if needed) the database at `path`; its folder must exist. A new file is
    /// made readable by the broker's user only (0600), and SQLite gives its WAL and shared-memory
    /// files the same mode.
    public init(path: String) throws {
        if !FileManager.default.fileExists(atPath: path) {
            FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600])
        }
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        let database = try DatabasePool(path: path, configuration: configuration)
        self.database = database
        migrator = SQLiteSchema.migrator
        inboxWrites = WriteBatcher(maximumBatch: 256) { deliveries in
            try await Self.enqueueWebhooks(deliveries, in: database)
        }
    }

    public func migrate() async throws {
        try migrator.migrate(database)
    }

    public func checkReady() async throws {
        let pending = try await database.read { [migrator] db in
            try !migrator.hasCompletedMigrations(db)
        }
        if pending { throw StoreError.migrationsPending }
    }

    // MARK: Users

    public func user(subject: String) async throws -> StoredUser? {
        try await database.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM users WHERE app_user_id = ?", arguments: [subject]).map(Self.storedUser)
        }
    }

    public func user(mxUserGUID: String) async throws -> StoredUser? {
        try await database.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM users WHERE mx_user_guid = ?", arguments: [mxUserGUID]).map(Self.storedUser)
        }
    }

    public func insertUser(_ user: StoredUser) async throws -> StoredUser {
        try await database.write { db in
            try db.execute(
                sql: """
                    INSERT INTO users (app_user_id, mx_user_id, mx_user_guid, created_at, profile_digest) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (app_user_id) DO NOTHING
                    """,
                arguments: [user.subject, user.mxUserID, user.mxUserGUID, user.createdAt.timeIntervalSince1970, user.profileDigest]
            )
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM users WHERE app_user_id = ?", arguments: [user.subject]) else {
                throw StoreError.rowVanished
            }
            return Self.storedUser(row)
        }
    }

    public func markMembersSynced(mxUserGUID: String, at date: Date) async throws {
        try await database.write { db in
            try db.execute(
                sql: "UPDATE users SET members_synced_at = ? WHERE mx_user_guid = ?",
                arguments: [date.timeIntervalSince1970, mxUserGUID]
            )
        }
    }

    public func setProfileDigest(_ digest: String, mxUserGUID: String) async throws {
        try await database.write { db in
            try db.execute(sql: "UPDATE users SET profile_digest = ? WHERE mx_user_guid = ?", arguments: [digest, mxUserGUID])
        }
    }

    public func deleteUser(subject: String) async throws {
        try await database.write { db in
            guard let guid = try String.fetchOne(db, sql: "SELECT mx_user_guid FROM users WHERE app_user_id = ?", arguments: [subject]) else {
                return
            }
            for table in ["members", "deleted_members", "events", "widget_events"] {
                try db.execute(sql: "DELETE FROM \(table) WHERE mx_user_guid = ?", arguments: [guid])
            }
            try db.execute(sql: "DELETE FROM users WHERE app_user_id = ?", arguments: [subject])
        }
    }

    // MARK: Members

    public func members(mxUserGUID: String) async throws -> [MemberRecord] {
        try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM members WHERE mx_user_guid = ? ORDER BY created_at, member_guid", arguments: [mxUserGUID])
                .map(Self.memberRecord)
        }
    }

    public func member(guid: String, mxUserGUID: String) async throws -> MemberRecord? {
        try await database.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM members WHERE member_guid = ? AND mx_user_guid = ?", arguments: [guid, mxUserGUID])
                .map(Self.memberRecord)
        }
    }

    public func updateMember(
        guid: String,
        mxUserGUID: String,
        _ change: @escaping @Sendable (MemberRecord?) -> (record: MemberRecord, events: [NewEvent])
    ) async throws -> (record: MemberRecord, events: [StoredEvent]) {
        try await database.write { db in
            let previous = try Row.fetchOne(
                db,
                sql: "SELECT * FROM members WHERE member_guid = ? AND mx_user_guid = ?",
                arguments: [guid, mxUserGUID]
            )
            .map(Self.memberRecord)
            let (member, events) = change(previous)
            let now = Date().timeIntervalSince1970
            try db.execute(
                sql: Self.memberUpsert,
                arguments: [
                    member.guid, member.mxUserGUID, member.institutionCode, member.name, member.connectionStatus,
                    member.isBeingAggregated, member.aggregatedAt, member.successfullyAggregatedAt,
                    member.refreshedAt.timeIntervalSince1970, member.lastCompletedAt, now, member.mxUserGUID, member.guid,
                ]
            )
            guard db.changesCount > 0 else { return (member, []) }
            return (member, try Self.append(events, for: member.mxUserGUID, at: now, in: db))
        }
    }

    private static let memberUpsert = MemberUpsert.sql { "?\($0)" }

    public func deleteMember(guid: String, mxUserGUID: String, events: [NewEvent]) async throws -> [StoredEvent]? {
        try await database.write { db in
            try db.execute(sql: "DELETE FROM members WHERE member_guid = ? AND mx_user_guid = ?", arguments: [guid, mxUserGUID])
            let existed = db.changesCount > 0
            try db.execute(
                sql: "INSERT OR IGNORE INTO deleted_members (member_guid, mx_user_guid, deleted_at) VALUES (?, ?, ?)",
                arguments: [guid, mxUserGUID, Date().timeIntervalSince1970]
            )
            guard existed else { return nil }
            return try Self.append(events, for: mxUserGUID, at: Date().timeIntervalSince1970, in: db)
        }
    }

    // MARK: Events

    public func events(mxUserGUID: String, after sequence: Int64, limit: Int) async throws -> [StoredEvent] {
        try await database.read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT * FROM events WHERE mx_user_guid = ? AND seq > ? ORDER BY seq LIMIT ?",
                arguments: [mxUserGUID, sequence, limit]
            ).map(Self.storedEvent)
        }
    }

    /// One process owns the SQLite file, so no other process stores events: waits until cancelled.
    public func followEvents(_ handler: @escaping @Sendable (String) async -> Void) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(3600))
        }
    }

    public func lastEventSequence(mxUserGUID: String) async throws -> Int64 {
        try await database.read { db in
            try Int64.fetchOne(db, sql: "SELECT MAX(seq) FROM events WHERE mx_user_guid = ?", arguments: [mxUserGUID]) ?? 0
        }
    }

    public func recordWidgetEvents(_ records: [WidgetEventRecord]) async throws {
        try await database.write { db in
            for record in records {
                try db.execute(
                    sql: "INSERT INTO widget_events (mx_user_guid, type, known, metadata, received_at) VALUES (?, ?, ?, ?, ?)",
                    arguments: [record.mxUserGUID, record.type, record.known, record.metadata, record.receivedAt.timeIntervalSince1970]
                )
            }
        }
    }

    public func prune(widgetEventsBefore: Date, eventsBefore: Date) async throws -> Int {
        try await database.write { db in
            try db.execute(sql: "DELETE FROM widget_events WHERE received_at < ?", arguments: [widgetEventsBefore.timeIntervalSince1970])
            let widgetEvents = db.changesCount
            try db.execute(sql: "DELETE FROM events WHERE created_at < ?", arguments: [eventsBefore.timeIntervalSince1970])
            return widgetEvents + db.changesCount
        }
    }

    // MARK: Webhook inbox

    public func enqueueWebhook(_ delivery: WebhookDelivery) async throws -> EnqueueResult {
        try await inboxWrites.write(delivery)
    }

    /// Inserts deliveries in one transaction; a redelivery of a stored one is counted instead.
    private static func enqueueWebhooks(_ deliveries: [WebhookDelivery], in database: DatabasePool) async throws -> [EnqueueResult] {
        try await database.write { db in
            let insert = try db.cachedStatement(
                sql: """
                    INSERT INTO webhook_inbox (dedup_key, type, action, mx_user_guid, member_guid, body, status, next_attempt_at, received_at)
                    VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?)
                    ON CONFLICT (dedup_key) DO UPDATE SET duplicates = duplicates + 1
                    RETURNING id, duplicates
                    """
            )
            return try deliveries.map { delivery in
                let row = try Row.fetchOne(
                    insert,
                    arguments: [
                        delivery.dedupKey, delivery.type, delivery.action, delivery.mxUserGUID, delivery.memberGUID, delivery.body,
                        delivery.receivedAt.timeIntervalSince1970, delivery.receivedAt.timeIntervalSince1970,
                    ]
                )!
                let id: Int64 = row["id"]
                return (row["duplicates"] as Int) == 0 ? .accepted(id) : .duplicate(id)
            }
        }
    }

    public func claimWebhooks(limit: Int, lease: TimeInterval, now: Date) async throws -> [InboxItem] {
        try await database.write { db in
            let stamp = now.timeIntervalSince1970
            // Due deliveries and expired leases are looked up apart, each walking the
            // (status, next_attempt_at) index in order and stopping at `limit`: one query with
            // OR would read and sort every pending row, which makes a backlog drain slower the
            // longer it is.
            let candidates = try ["status = 'pending' AND next_attempt_at <= ?", "status = 'processing' AND lease_expires_at <= ?"]
                .flatMap { condition in
                    try Row.fetchAll(
                        db,
                        sql: "SELECT id, next_attempt_at FROM webhook_inbox WHERE \(condition) ORDER BY next_attempt_at, id LIMIT ?",
                        arguments: [stamp, limit]
                    )
                }
            let ids =
                candidates
                .map { (id: $0["id"] as Int64, dueAt: $0["next_attempt_at"] as Double) }
                .sorted { ($0.dueAt, $0.id) < ($1.dueAt, $1.id) }
                .prefix(limit)
                .map(\.id)
            guard !ids.isEmpty else { return [] }
            let list = ids.map(String.init).joined(separator: ",")
            try db.execute(
                sql: "UPDATE webhook_inbox SET status = 'processing', attempts = attempts + 1, lease_expires_at = ? WHERE id IN (\(list))",
                arguments: [stamp + lease]
            )
            return try Row.fetchAll(db, sql: "SELECT * FROM webhook_inbox WHERE id IN (\(list)) ORDER BY id").map(Self.inboxItem)
        }
    }

    public func finishWebhook(id: Int64, status: WebhookStatus, note: String?, now: Date) async throws {
        try await database.write { db in
            try db.execute(
                sql: "UPDATE webhook_inbox SET status = ?, last_error = ?, processed_at = ?, lease_expires_at = NULL WHERE id = ?",
                arguments: [status.rawValue, note, now.timeIntervalSince1970, id]
            )
        }
    }

    public func retryWebhook(id: Int64, error: String, at date: Date) async throws {
        try await database.write { db in
            try db.execute(
                sql: "UPDATE webhook_inbox SET status = 'pending', last_error = ?, next_attempt_at = ?, lease_expires_at = NULL WHERE id = ?",
                arguments: [error, date.timeIntervalSince1970, id]
            )
        }
    }

    public func webhooks(status: WebhookStatus?, page: Int, perPage: Int) async throws -> (items: [InboxItem], total: Int) {
        try await database.read { db in
            let filter = status.map { _ in "WHERE status = ?" } ?? ""
            let arguments: StatementArguments = status.map { [$0.rawValue] } ?? []
            let total = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM webhook_inbox \(filter)", arguments: arguments) ?? 0
            let items = try Row.fetchAll(
                db,
                sql: "SELECT * FROM webhook_inbox \(filter) ORDER BY id DESC LIMIT ? OFFSET ?",
                arguments: arguments + [perPage, (page - 1) * perPage]
            ).map(Self.inboxItem)
            return (items, total)
        }
    }

    public func webhook(id: Int64) async throws -> InboxItem? {
        try await database.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM webhook_inbox WHERE id = ?", arguments: [id]).map(Self.inboxItem)
        }
    }

    public func replayWebhook(id: Int64, now: Date) async throws -> Bool {
        try await database.write { db in
            try db.execute(
                sql: """
                    UPDATE webhook_inbox SET status = 'pending', attempts = 0, next_attempt_at = ?, lease_expires_at = NULL
                    WHERE id = ? AND status <> 'processing'
                    """,
                arguments: [now.timeIntervalSince1970, id]
            )
            return db.changesCount > 0
        }
    }

    public func webhookCounts() async throws -> [WebhookStatus: Int] {
        try await database.read { db in
            var counts = Dictionary(uniqueKeysWithValues: WebhookStatus.allCases.map { ($0, 0) })
            for row in try Row.fetchAll(db, sql: "SELECT status, COUNT(*) AS n FROM webhook_inbox GROUP BY status") {
                if let status = WebhookStatus(rawValue: row["status"]) { counts[status] = row["n"] }
            }
            return counts
        }
    }

    // MARK: Rows

    public func appendEvents(_ events: [NewEvent], mxUserGUID: String) async throws -> [StoredEvent] {
        try await database.write { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM users WHERE mx_user_guid = ?", arguments: [mxUserGUID]) != nil else { return [] }
            return try Self.append(events, for: mxUserGUID, at: Date().timeIntervalSince1970, in: db)
        }
    }

    private static func append(_ events: [NewEvent], for mxUserGUID: String, at now: TimeInterval, in db: Database) throws -> [StoredEvent] {
        try events.map { event in
            try db.execute(
                sql: "INSERT INTO events (mx_user_guid, kind, payload, created_at) VALUES (?, ?, ?, ?)",
                arguments: [mxUserGUID, event.kind, event.payload, now]
            )
            return StoredEvent(
                sequence: db.lastInsertedRowID,
                mxUserGUID: mxUserGUID,
                kind: event.kind,
                payload: event.payload,
                createdAt: Date(timeIntervalSince1970: now)
            )
        }
    }

    private static func storedUser(_ row: Row) -> StoredUser {
        StoredUser(
            subject: row["app_user_id"],
            mxUserID: row["mx_user_id"],
            mxUserGUID: row["mx_user_guid"],
            createdAt: Date(timeIntervalSince1970: row["created_at"]),
            membersSyncedAt: (row["members_synced_at"] as Double?).map(Date.init(timeIntervalSince1970:)),
            profileDigest: row["profile_digest"]
        )
    }

    private static func memberRecord(_ row: Row) -> MemberRecord {
        MemberRecord(
            guid: row["member_guid"],
            mxUserGUID: row["mx_user_guid"],
            institutionCode: row["institution_code"],
            name: row["name"],
            connectionStatus: row["connection_status"],
            isBeingAggregated: row["is_being_aggregated"],
            aggregatedAt: row["aggregated_at"],
            successfullyAggregatedAt: row["successfully_aggregated_at"],
            refreshedAt: Date(timeIntervalSince1970: row["refreshed_at"]),
            lastCompletedAt: row["last_completed_at"]
        )
    }

    private static func inboxItem(_ row: Row) -> InboxItem {
        InboxItem(
            id: row["id"],
            delivery: WebhookDelivery(
                dedupKey: row["dedup_key"],
                type: row["type"],
                action: row["action"],
                mxUserGUID: row["mx_user_guid"],
                memberGUID: row["member_guid"],
                body: row["body"],
                receivedAt: Date(timeIntervalSince1970: row["received_at"])
            ),
            status: WebhookStatus(rawValue: row["status"]) ?? .pending,
            attempts: row["attempts"],
            duplicates: row["duplicates"],
            nextAttemptAt: Date(timeIntervalSince1970: row["next_attempt_at"]),
            note: row["last_error"],
            processedAt: (row["processed_at"] as Double?).map(Date.init(timeIntervalSince1970:))
        )
    }

    private static func storedEvent(_ row: Row) -> StoredEvent {
        StoredEvent(
            sequence: row["seq"],
            mxUserGUID: row["mx_user_guid"],
            kind: row["kind"],
            payload: row["payload"],
            createdAt: Date(timeIntervalSince1970: row["created_at"])
        )
    }
}

extension SQLiteStore {
    // MARK: Audit log

    public func recordAudit(_ entry: AuditEntry) async throws {
        try await database.write { db in
            try db.execute(
                sql: """
                    INSERT INTO audit_log (at, route, member_guid, account_guid, micro_deposit_guid, user_hash, caller, request_id)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    entry.at.timeIntervalSince1970, entry.route, entry.memberGUID, entry.accountGUID, entry.microdepositGUID, entry.userHash,
                    entry.caller, entry.requestID,
                ]
            )
        }
    }

    public func auditEntries(matching filter: AuditFilter, page: Int, perPage: Int) async throws -> (items: [AuditRecord], total: Int) {
        try await database.read { db in
            let condition = """
                (?1 IS NULL OR user_hash = ?1) AND (?2 IS NULL OR member_guid = ?2) AND (?3 IS NULL OR at >= ?3) AND (?4 IS NULL OR at < ?4)
                """
            let arguments: StatementArguments = [
                filter.userHash, filter.memberGUID, filter.from?.timeIntervalSince1970, filter.until?.timeIntervalSince1970,
            ]
            let total = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM audit_log WHERE \(condition)", arguments: arguments) ?? 0
            let items = try Row.fetchAll(
                db,
                sql: "SELECT * FROM audit_log WHERE \(condition) ORDER BY id DESC LIMIT ?5 OFFSET ?6",
                arguments: arguments + [perPage, (page - 1) * perPage]
            )
            .map { row in
                AuditRecord(
                    id: row["id"],
                    entry: AuditEntry(
                        at: Date(timeIntervalSince1970: row["at"]),
                        route: row["route"],
                        memberGUID: row["member_guid"],
                        accountGUID: row["account_guid"],
                        microdepositGUID: row["micro_deposit_guid"],
                        userHash: row["user_hash"],
                        caller: row["caller"],
                        requestID: row["request_id"]
                    )
                )
            }
            return (items, total)
        }
    }

    public func pruneAudit(before date: Date) async throws -> Int {
        try await database.write { db in
            try db.execute(sql: "DELETE FROM audit_log WHERE at < ?", arguments: [date.timeIntervalSince1970])
            return db.changesCount
        }
    }
}

/// The SQLite schema, one migration per version.
enum SQLiteSchema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-users") { db in
            try db.execute(
                sql: """
                    CREATE TABLE users (
                        app_user_id TEXT PRIMARY KEY NOT NULL,
                        mx_user_id TEXT NOT NULL UNIQUE,
                        mx_user_guid TEXT NOT NULL UNIQUE,
                        created_at REAL NOT NULL
                    )
                    """
            )
        }
        migrator.registerMigration("v2-members-events") { db in
            try db.execute(
                sql: """
                    ALTER TABLE users ADD COLUMN members_synced_at REAL;
                    CREATE TABLE members (
                        member_guid TEXT PRIMARY KEY NOT NULL,
                        mx_user_guid TEXT NOT NULL,
                        institution_code TEXT,
                        name TEXT,
                        connection_status TEXT,
                        is_being_aggregated INTEGER NOT NULL DEFAULT 0,
                        aggregated_at TEXT,
                        successfully_aggregated_at TEXT,
                        refreshed_at REAL NOT NULL,
                        created_at REAL NOT NULL
                    );
                    CREATE INDEX members_by_user ON members (mx_user_guid);
                    CREATE TABLE events (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT,
                        mx_user_guid TEXT NOT NULL,
                        kind TEXT NOT NULL,
                        payload TEXT NOT NULL,
                        created_at REAL NOT NULL
                    );
                    CREATE INDEX events_by_user ON events (mx_user_guid, seq);
                    CREATE INDEX events_by_time ON events (created_at);
                    CREATE TABLE widget_events (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        mx_user_guid TEXT NOT NULL,
                        type TEXT NOT NULL,
                        known INTEGER NOT NULL,
                        metadata TEXT NOT NULL,
                        received_at REAL NOT NULL
                    );
                    CREATE INDEX widget_events_by_time ON widget_events (received_at);
                    CREATE INDEX widget_events_by_user ON widget_events (mx_user_guid);
                    """
            )
        }
        migrator.registerMigration("v3-webhook-inbox") { db in
            try db.execute(
                sql: """
                    ALTER TABLE members ADD COLUMN last_completed_at INTEGER;
                    CREATE TABLE webhook_inbox (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        dedup_key TEXT NOT NULL UNIQUE,
                        type TEXT,
                        action TEXT,
                        mx_user_guid TEXT,
                        member_guid TEXT,
                        body TEXT NOT NULL,
                        status TEXT NOT NULL,
                        attempts INTEGER NOT NULL DEFAULT 0,
                        duplicates INTEGER NOT NULL DEFAULT 0,
                        next_attempt_at REAL NOT NULL,
                        lease_expires_at REAL,
                        last_error TEXT,
                        received_at REAL NOT NULL,
                        processed_at REAL
                    );
                    CREATE INDEX webhook_inbox_due ON webhook_inbox (status, next_attempt_at);
                    CREATE TABLE deleted_members (
                        member_guid TEXT PRIMARY KEY NOT NULL,
                        mx_user_guid TEXT NOT NULL,
                        deleted_at REAL NOT NULL
                    );
                    CREATE INDEX deleted_members_by_user ON deleted_members (mx_user_guid);
                    """
            )
        }
        migrator.registerMigration("v4-user-profile") { db in
            try db.execute(sql: "ALTER TABLE users ADD COLUMN profile_digest TEXT")
        }
        migrator.registerMigration("v5-tombstones-per-user") { db in
            try db.execute(
                sql: """
                    CREATE TABLE deleted_members_per_user (
                        member_guid TEXT NOT NULL,
                        mx_user_guid TEXT NOT NULL,
                        deleted_at REAL NOT NULL,
                        PRIMARY KEY (member_guid, mx_user_guid)
                    );
                    INSERT INTO deleted_members_per_user SELECT member_guid, mx_user_guid, deleted_at FROM deleted_members;
                    DROP TABLE deleted_members;
                    ALTER TABLE deleted_members_per_user RENAME TO deleted_members;
                    CREATE INDEX deleted_members_by_user ON deleted_members (mx_user_guid);
                    """
            )
        }
        migrator.registerMigration("v6-audit-log") { db in
            try db.execute(
                sql: """
                    CREATE TABLE audit_log (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        at REAL NOT NULL,
                        route TEXT NOT NULL,
                        member_guid TEXT,
                        account_guid TEXT,
                        micro_deposit_guid TEXT,
                        user_hash TEXT NOT NULL,
                        caller TEXT NOT NULL,
                        request_id TEXT NOT NULL
                    );
                    CREATE INDEX audit_log_by_time ON audit_log (at);
                    CREATE INDEX audit_log_by_user ON audit_log (user_hash, id);
                    CREATE INDEX audit_log_by_member ON audit_log (member_guid, id);
                    """
            )
        }
        return migrator
    }
}
