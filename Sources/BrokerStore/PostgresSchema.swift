/// The PostgreSQL schema, one migration per version, each a list of statements applied in one
/// transaction.
enum PostgresSchema {
    static let migrations: [(version: String, statements: [String])] = [
        (
            "v1-users",
            [
                """
                CREATE TABLE users (
                    app_user_id text PRIMARY KEY,
                    mx_user_id text NOT NULL UNIQUE,
                    mx_user_guid text NOT NULL UNIQUE,
                    created_at double precision NOT NULL,
                    members_synced_at double precision
                )
                """
            ]
        ),
        (
            "v2-members-events",
            [
                """
                CREATE TABLE members (
                    member_guid text PRIMARY KEY,
                    mx_user_guid text NOT NULL,
                    institution_code text,
                    name text,
                    connection_status text,
                    is_being_aggregated boolean NOT NULL DEFAULT false,
                    aggregated_at text,
                    successfully_aggregated_at text,
                    refreshed_at double precision NOT NULL,
                    last_completed_at bigint,
                    created_at double precision NOT NULL
                )
                """,
                "CREATE INDEX members_by_user ON members (mx_user_guid)",
                """
                CREATE TABLE deleted_members (
                    member_guid text PRIMARY KEY,
                    mx_user_guid text NOT NULL,
                    deleted_at double precision NOT NULL
                )
                """,
                "CREATE INDEX deleted_members_by_user ON deleted_members (mx_user_guid)",
                """
                CREATE TABLE events (
                    seq bigserial PRIMARY KEY,
                    mx_user_guid text NOT NULL,
                    kind text NOT NULL,
                    payload text NOT NULL,
                    created_at double precision NOT NULL
                )
                """,
                "CREATE INDEX events_by_user ON events (mx_user_guid, seq)",
                "CREATE INDEX events_by_time ON events (created_at)",
                """
                CREATE TABLE widget_events (
                    id bigserial PRIMARY KEY,
                    mx_user_guid text NOT NULL,
                    type text NOT NULL,
                    known boolean NOT NULL,
                    metadata text NOT NULL,
                    received_at double precision NOT NULL
                )
                """,
                "CREATE INDEX widget_events_by_time ON widget_events (received_at)",
                "CREATE INDEX widget_events_by_user ON widget_events (mx_user_guid)",
            ]
        ),
        (
            "v3-webhook-inbox",
            [
                """
                CREATE TABLE webhook_inbox (
                    id bigserial PRIMARY KEY,
                    dedup_key text NOT NULL UNIQUE,
                    type text,
                    action text,
                    mx_user_guid text,
                    member_guid text,
                    body text NOT NULL,
                    status text NOT NULL,
                    attempts integer NOT NULL DEFAULT 0,
                    duplicates integer NOT NULL DEFAULT 0,
                    next_attempt_at double precision NOT NULL,
                    lease_expires_at double precision,
                    last_error text,
                    received_at double precision NOT NULL,
                    processed_at double precision
                )
                """,
                "CREATE INDEX webhook_inbox_due ON webhook_inbox (status, next_attempt_at)",
            ]
        ),
        (version: "v4-user-profile", statements: ["ALTER TABLE users ADD COLUMN profile_digest text"]),
        (
            version: "v5-tombstones-per-user",
            statements: [
                "ALTER TABLE deleted_members DROP CONSTRAINT deleted_members_pkey",
                "ALTER TABLE deleted_members ADD PRIMARY KEY (member_guid, mx_user_guid)",
            ]
        ),
        (
            version: "v6-audit-log",
            statements: [
                """
                CREATE TABLE audit_log (
                    id bigserial PRIMARY KEY,
                    at double precision NOT NULL,
                    route text NOT NULL,
                    member_guid text,
                    account_guid text,
                    micro_deposit_guid text,
                    user_hash text NOT NULL,
                    caller text NOT NULL,
                    request_id text NOT NULL
                )
                """,
                "CREATE INDEX audit_log_by_time ON audit_log (at)",
                "CREATE INDEX audit_log_by_user ON audit_log (user_hash, id)",
                "CREATE INDEX audit_log_by_member ON audit_log (member_guid, id)",
            ]
        ),
    ]
}
