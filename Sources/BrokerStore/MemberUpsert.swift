/// The one statement both stores write a member with: insert or update, but only for a stored
/// user, never under another user, and never for a member deleted before under the same user.
/// A tombstone belongs to the user it was written for: another user's probe of a guid (which MX
/// answers 404 for them) must not stop the owner's member from updating.
enum MemberUpsert {
    /// The statement, with `placeholder(n)` for the n-th parameter (1-based): `?n` in SQLite,
    /// `$n` in PostgreSQL. Parameters: the eleven member columns in order, then the user guid and
    /// the member guid again for the guards.
    static func sql(placeholder: (Int) -> String) -> String {
        let values = (1...11).map(placeholder).joined(separator: ", ")
        return """
            INSERT INTO members (member_guid, mx_user_guid, institution_code, name, connection_status, is_being_aggregated,
                aggregated_at, successfully_aggregated_at, refreshed_at, last_completed_at, created_at)
            SELECT \(values)
            WHERE EXISTS (SELECT 1 FROM users WHERE mx_user_guid = \(placeholder(12)))
                AND NOT EXISTS (
                    SELECT 1 FROM deleted_members WHERE member_guid = \(placeholder(13)) AND mx_user_guid = \(placeholder(12))
                )
            ON CONFLICT (member_guid) DO UPDATE SET
                institution_code = excluded.institution_code, name = excluded.name,
                connection_status = excluded.connection_status, is_being_aggregated = excluded.is_being_aggregated,
                aggregated_at = excluded.aggregated_at, successfully_aggregated_at = excluded.successfully_aggregated_at,
                refreshed_at = excluded.refreshed_at, last_completed_at = excluded.last_completed_at
            WHERE members.mx_user_guid = excluded.mx_user_guid
            """
    }
}
