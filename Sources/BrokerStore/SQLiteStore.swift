import Foundation
import GRDB

/// The embedded store: one SQLite file in WAL mode (many readers, one writer).
public final class SQLiteStore: Store {
    private let database: DatabasePool
    private let migrator: DatabaseMigrator

    /// Opens (creating if needed) the database at `path`; its folder must exist.
    public init(path: String) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        database = try DatabasePool(path: path, configuration: configuration)
        migrator = Self.makeMigrator()
    }

    private static func makeMigrator() -> DatabaseMigrator {
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
        return migrator
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

    public func user(subject: String) async throws -> StoredUser? {
        try await database.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM users WHERE app_user_id = ?", arguments: [subject]).map(Self.storedUser)
        }
    }

    public func insertUser(_ user: StoredUser) async throws -> StoredUser {
        try await database.write { db in
            try db.execute(
                sql: "INSERT INTO users (app_user_id, mx_user_id, mx_user_guid, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (app_user_id) DO NOTHING",
                arguments: [user.subject, user.mxUserID, user.mxUserGUID, user.createdAt.timeIntervalSince1970]
            )
            let row = try Row.fetchOne(db, sql: "SELECT * FROM users WHERE app_user_id = ?", arguments: [user.subject])
            return Self.storedUser(row!)
        }
    }

    private static func storedUser(_ row: Row) -> StoredUser {
        StoredUser(
            subject: row["app_user_id"],
            mxUserID: row["mx_user_id"],
            mxUserGUID: row["mx_user_guid"],
            createdAt: Date(timeIntervalSince1970: row["created_at"])
        )
    }
}

/// A store that cannot serve requests.
public enum StoreError: Error, Sendable, Equatable {
    /// The schema is older than this build expects.
    case migrationsPending
}
