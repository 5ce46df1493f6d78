import BrokerStore
import Foundation
import GRDB

/// Deletes a broker's user mapping behind its back, as a lost database row would.
struct BrokerStoreReset {
    let database: DatabaseQueue

    init(dataDirectory: String) throws {
        database = try DatabaseQueue(path: (dataDirectory as NSString).appendingPathComponent("broker.sqlite"))
    }

    func forget(subject: String) async throws {
        try await database.write { db in
            try db.execute(sql: "DELETE FROM users WHERE app_user_id = ?", arguments: [subject])
        }
    }
}
