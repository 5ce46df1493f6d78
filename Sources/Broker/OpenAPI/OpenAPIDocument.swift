/// The broker's own API, described in OpenAPI 3.0 and served at `GET /openapi.yaml`.
///
/// A test keeps it true: every route the broker registers is described here, and every
/// operation described here is registered.
enum OpenAPIDocument {
    static let yaml = #"""
        openapi: 3.0.3
        info:
          title: ConnectBroker
          version: "1"
          description: >-
            Connects an app's users' bank accounts through MX. Every /v1 route except the webhook
            receiver, the event stream (which also takes an events token) and the sandbox token
            needs a bearer JWT whose `sub` is the app's user id. MX bodies pass through unaltered.
        servers:
          - url: /
        security:
          - bearer: []
        tags:
          - name: connect
          - name: data
          - name: events
          - name: operations
        paths:
          /v1/widget_urls:
            post:
              tags: [connect]
              summary: Mint a Connect widget URL (MX web SDK proxy mode)
              operationId: mintWidgetURL
              parameters:
                - $ref: "#/components/parameters/AcceptLanguage"
              requestBody:
                required: true
                content:
                  application/json:
                    schema: { $ref: "#/components/schemas/WidgetURLRequest" }
              responses:
                "200":
                  description: MX's answer; the URL is single use and expires in 10 minutes.
                  content:
                    application/json:
                      schema: { $ref: "#/components/schemas/WidgetURLResponse" }
                "400": { $ref: "#/components/responses/Error" }
                "401": { $ref: "#/components/responses/Error" }
                "404": { $ref: "#/components/responses/Error" }
                "413": { $ref: "#/components/responses/Error" }
                "415": { $ref: "#/components/responses/Error" }
                "422": { $ref: "#/components/responses/Error" }
                "429": { $ref: "#/components/responses/Error" }
                "502": { $ref: "#/components/responses/Error" }
                "503": { $ref: "#/components/responses/Error" }
                "504": { $ref: "#/components/responses/Error" }
          /v1/widget_events:
            post:
              tags: [connect]
              summary: Relay widget events (postMessage or mobile URL form, or a batch of up to 50)
              operationId: relayWidgetEvents
              requestBody:
                required: true
                content:
                  application/json:
                    schema:
                      oneOf:
                        - $ref: "#/components/schemas/WidgetEvent"
                        - type: array
                          minItems: 1
                          maxItems: 50
                          items: { $ref: "#/components/schemas/WidgetEvent" }
              responses:
                "202":
                  description: What became of each event.
                  content:
                    application/json:
                      schema:
                        type: object
                        required: [events]
                        properties:
                          events:
                            type: array
                            items: { $ref: "#/components/schemas/RelayOutcome" }
                "400": { $ref: "#/components/responses/Error" }
                "401": { $ref: "#/components/responses/Error" }
                "403": { $ref: "#/components/responses/Error" }
                "404": { $ref: "#/components/responses/Error" }
                "413": { $ref: "#/components/responses/Error" }
                "415": { $ref: "#/components/responses/Error" }
                "429": { $ref: "#/components/responses/Error" }
                "502": { $ref: "#/components/responses/Error" }
                "503": { $ref: "#/components/responses/Error" }
                "504": { $ref: "#/components/responses/Error" }
          /v1/members:
            get:
              tags: [data]
              summary: The caller's members
              operationId: listMembers
              responses:
                "200":
                  description: Members, refreshed from MX when stale.
                  content:
                    application/json:
                      schema:
                        type: object
                        required: [members]
                        properties:
                          members:
                            type: array
                            items: { $ref: "#/components/schemas/Member" }
                "401": { $ref: "#/components/responses/Error" }
                "429": { $ref: "#/components/responses/Error" }
                "502": { $ref: "#/components/responses/Error" }
                "503": { $ref: "#/components/responses/Error" }
                "504": { $ref: "#/components/responses/Error" }
            post:
              tags: [connect]
              summary: Connect a member with the user's credentials (no widget)
              operationId: createMember
              description: >-
                Creates the caller's MX user on first use. Credential values go to MX only:
                never stored, logged or echoed. With no credentials the member is an OAuth one:
                open GET /v1/members/{member_guid}/oauth_window_uri next.
              requestBody:
                required: true
                content:
                  application/json:
                    schema:
                      type: object
                      required: [institution_code]
                      properties:
                        institution_code: { type: string }
                        credentials: { $ref: "#/components/schemas/SecretValues" }
                        referral_source: { type: string, enum: [BROWSER, APP] }
                        client_redirect_url: { type: string }
                        ui_message_webview_url_scheme: { type: string }
              responses:
                "202": { $ref: "#/components/responses/MemberStatus" }
                "400": { $ref: "#/components/responses/Error" }
                "401": { $ref: "#/components/responses/Error" }
                "409": { $ref: "#/components/responses/Error" }
                "413": { $ref: "#/components/responses/Error" }
                "415": { $ref: "#/components/responses/Error" }
                "422": { $ref: "#/components/responses/Error" }
                "429": { $ref: "#/components/responses/Error" }
                "502": { $ref: "#/components/responses/Error" }
                "503": { $ref: "#/components/responses/Error" }
                "504": { $ref: "#/components/responses/Error" }
          /v1/members/{member_guid}:
            parameters:
              - $ref: "#/components/parameters/MemberGUID"
            get:
              tags: [data]
              summary: One of the caller's members
              operationId: readMember
              responses:
                "200":
                  description: The member.
                  content:
                    application/json:
                      schema:
                        type: object
                        required: [member]
                        properties:
                          member: { $ref: "#/components/schemas/Member" }
                "401": { $ref: "#/components/responses/Error" }
                "404": { $ref: "#/components/responses/Error" }
                "429": { $ref: "#/components/responses/Error" }
                "502": { $ref: "#/components/responses/Error" }
                "503": { $ref: "#/components/responses/Error" }
                "504": { $ref: "#/components/responses/Error" }
            delete:
              tags: [connect]
              summary: Disconnect a member (deleted at MX and locally)
              operationId: deleteMember
              responses:
                "204": { description: Deleted. }
                "401": { $ref: "#/components/responses/Error" }
                "404": { $ref: "#/components/responses/Error" }
                "429": { $ref: "#/components/responses/Error" }
                "502": { $ref: "#/components/responses/Error" }
                "503": { $ref: "#/components/responses/Error" }
                "504": { $ref: "#/components/responses/Error" }
          /v1/members/{member_guid}/aggregate:
            parameters:
              - $ref: "#/components/parameters/MemberGUID"
            post:
              tags: [connect]
              summary: Ask MX to refresh a member's data
              operationId: aggregateMember
              responses:
                "202":
                  description: Started, or already running.
                  content:
                    application/json:
                      schema:
                        type: object
                        required: [aggregation, member]
                        properties:
                          aggregation: { type: string, enum: [started, already_running] }
                          member: { $ref: "#/components/schemas/Member" }
                "401": { $ref: "#/components/responses/Error" }
                "404": { $ref: "#/components/responses/Error" }
                "409": { $ref: "#/components/responses/Error" }
                "429": { $ref: "#/components/responses/Error" }
                "502": { $ref: "#/components/responses/Error" }
                "503": { $ref: "#/components/responses/Error" }
                "504": { $ref: "#/components/responses/Error" }
          /v1/members/{member_guid}/accounts:
            parameters:
              - $ref: "#/components/parameters/MemberGUID"
            get:
              tags: [data]
              summary: A member's accounts (MX's shape)
              operationId: listMemberAccounts
              parameters:
                - $ref: "#/components/parameters/Page"
                - $ref: "#/components/parameters/RecordsPerPage"
              responses:
                "200": { $ref: "#/components/responses/Accounts" }
                "400": { $ref: "#/components/responses/Error" }
                "401": { $ref: "#/components/responses/Error" }
                "404": { $ref: "#/components/responses/Error" }
                "429": { $ref: "#/components/responses/Error" }
                "502": { $ref: "#/components/responses/Error" }
                "503": { $ref: "#/components/responses/Error" }
                "504": { $ref: "#/components/responses/Error" }
          /v1/members/{member_guid}/transactions:
            parameters:
              - $ref: "#/components/parameters/MemberGUID"
            get:
              tags: [data]
              summary: A member's transactions (MX's shape)
              operationId: listMemberTransactions
              parameters:
                - $ref: "#/components/parameters/Page"
                - $ref: "#/components/parameters/RecordsPerPage"
                - $ref: "#/components/parameters/FromDate"
                - $ref: "#/components/parameters/ToDate"
              responses:
                "200": { $ref: "#/components/responses/Transactions" }
                "400": { $ref: "#/components/responses/Error" }
                "401": { $ref: "#/components/responses/Error" }
                "404": { $ref: "#/components/responses/Error" }
                "429": { $ref: "#/components/responses/Error" }
                "502": { $ref: "#/components/responses/Error" }
                "503": { $ref: "#/components/responses/Error" }
                "504": { $ref: "#/components/responses/Error" }
          /v1/members/{member_guid}/status:
            parameters:
              - $ref: "#/components/parameters/MemberGUID"
            get:
              tags: [connect]
              summary: A member's status, with when to poll again (no faster than every 3 s)
              operationId: memberStatus
              responses:
                "200": { $ref: "#/components/responses/MemberStatus" }
                "401": { $ref: "#/components/responses/Error" }
                "404": { $ref: "#/components/responses/Error" }
                "429": { $ref: "#/components/responses/Error" }
                "502": { $ref: "#/components/responses/Error" }
                "503": { $ref: "#/components/responses/Error" }
                "504": { $ref: "#/components/responses/Error" }
          /v1/members/{member_guid}/challenges:
            parameters:
              - $ref: "#/components/parameters/MemberGUID"
            get:
              tags: [connect]
              summary: The MFA questions a challenged member waits on (MX's shape)
              operationId: memberChallenges
              responses:
                "200":
                  description: "`{\"challenges\": [{\"guid\", \"label\", \"type\", \"options\", \"image_data\", …}]}` as MX sent it."
                  content:
                    application/json:
                      schema: { type: object, required: [challenges], properties: { challenges: { type: array, items: { type: object } } } }
                "204": { description: No questions are waiting. }
                "401": { $ref: "#/components/responses/Error" }
                "404": { $ref: "#/components/responses/Error" }
                "429": { $ref: "#/components/responses/Error" }
                "502": { $ref: "#/components/responses/Error" }
                "503": { $ref: "#/components/responses/Error" }
                "504": { $ref: "#/components/responses/Error" }
          /v1/members/{member_guid}/resume:
            parameters:
              - $ref: "#/components/parameters/MemberGUID"
            put:
              tags: [connect]
              summary: Answer a member's MFA questions
              operationId: resumeMember
              requestBody:
                required: true
                content:
                  application/json:
                    schema:
                      type: object
                      required: [challenges]
                      properties:
                        challenges: { $ref: "#/components/schemas/SecretValues" }
              responses:
                "202": { $ref: "#/components/responses/MemberStatus" }
                "400": { $ref: "#/components/responses/Error" }
                "401": { $ref: "#/components/responses/Error" }
                "404": { $ref: "#/components/responses/Error" }
                "409": { $ref: "#/components/responses/Error" }
                "413": { $ref: "#/components/responses/Error" }
                "415": { $ref: "#/components/responses/Error" }
                "422": { $ref: "#/components/responses/Error" }
                "429": { $ref: "#/components/responses/Error" }
                "502": { $ref: "#/components/responses/Error" }
                "503": { $ref: "#/components/responses/Error" }
                "504": { $ref: "#/components/responses/Error" }
          /v1/members/{member_guid}/credentials:
            parameters:
              - $ref: "#/components/parameters/MemberGUID"
            put:
              tags: [connect]
              summary: Give a member new credentials; MX tries them at once
              operationId: updateMemberCredentials
              requestBody:
                required: true
                content:
                  application/json:
                    schema:
                      type: object
                      required: [credentials]
                      properties:
                        credentials: { $ref: "#/components/schemas/SecretValues" }
              responses:
                "202": { $ref: "#/components/responses/MemberStatus" }
                "400": { $ref: "#/components/responses/Error" }
                "401": { $ref: "#/components/responses/Error" }
                "404": { $ref: "#/components/responses/Error" }
                "409": { $ref: "#/components/responses/Error" }
                "413": { $ref: "#/components/responses/Error" }
                "415": { $ref: "#/components/responses/Error" }
                "422": { $ref: "#/components/responses/Error" }
                "429": { $ref: "#/components/responses/Error" }
                "502": { $ref: "#/components/responses/Error" }
                "503": { $ref: "#/components/responses/Error" }
                "504": { $ref: "#/components/responses/Error" }
          /v1/members/{member_guid}/oauth_window_uri:
            parameters:
              - $ref: "#/components/parameters/MemberGUID"
            get:
              tags: [connect]
              summary: The bank's sign-in page for an OAuth member (a single-use secret)
              operationId: memberOAuthWindow
              parameters:
                - { name: referral_source, in: query, required: false, schema: { type: string, enum: [BROWSER, APP] } }
                - { name: client_redirect_url, in: query, required: false, schema: { type: string } }
                - { name: ui_message_webview_url_scheme, in: query, required: false, schema: { type: string } }
              responses:
                "200":
                  description: "`{\"member\": {\"guid\", \"oauth_window_uri\"}}` as MX sent it."
                  content:
                    application/json:
                      schema: { type: object, required: [member], properties: { member: { type: object } } }
                "400": { $ref: "#/components/responses/Error" }
                "401": { $ref: "#/components/responses/Error" }
                "404": { $ref: "#/components/responses/Error" }
                "422": { $ref: "#/components/responses/Error" }
                "429": { $ref: "#/components/responses/Error" }
                "502": { $ref: "#/components/responses/Error" }
                "503": { $ref: "#/components/responses/Error" }
                "504": { $ref: "#/components/responses/Error" }
          /v1/institutions:
            get:
              tags: [connect]
              summary: Search institutions (MX's shape), for apps that connect without the widget
              operationId: searchInstitutions
              parameters:
                - { name: name, in: query, required: false, schema: { type: string, minLength: 1, maxLength: 100 } }
                - $ref: "#/components/parameters/Page"
                - $ref: "#/components/parameters/InstitutionsPerPage"
              responses:
                "200":
                  description: "`{\"institutions\": [...], \"pagination\": {...}}` as MX sent it."
                  content:
                    application/json:
                      schema:
                        type: object
                        required: [institutions]
                        properties:
                          institutions: { type: array, items: { type: object } }
                          pagination: { $ref: "#/components/schemas/Pagination" }
                "400": { $ref: "#/components/responses/Error" }
                "401": { $ref: "#/components/responses/Error" }
                "429": { $ref: "#/components/responses/Error" }
                "502": { $ref: "#/components/responses/Error" }
                "503": { $ref: "#/components/responses/Error" }
                "504": { $ref: "#/components/responses/Error" }
          /v1/institutions/{institution_code}:
            parameters:
              - $ref: "#/components/parameters/InstitutionCode"
            get:
              tags: [connect]
              summary: One institution (MX's shape)
              operationId: readInstitution
              responses:
                "200":
                  description: "`{\"institution\": {...}}` as MX sent it."
                  content:
                    application/json:
                      schema: { type: object, required: [institution], properties: { institution: { type: object } } }
                "401": { $ref: "#/components/responses/Error" }
                "404": { $ref: "#/components/responses/Error" }
                "429": { $ref: "#/components/responses/Error" }
                "502": { $ref: "#/components/responses/Error" }
                "503": { $ref: "#/components/responses/Error" }
                "504": { $ref: "#/components/responses/Error" }
          /v1/institutions/{institution_code}/credentials:
            parameters:
              - $ref: "#/components/parameters/InstitutionCode"
            get:
              tags: [connect]
              summary: The credential fields to ask the user for (MX's shape)
              operationId: readInstitutionCredentials
              responses:
                "200":
                  description: "`{\"credentials\": [{\"guid\", \"label\", \"type\", …}]}` as MX sent it."
                  content:
                    application/json:
                      schema: { type: object, required: [credentials], properties: { credentials: { type: array, items: { type: object } } } }
                "401": { $ref: "#/components/responses/Error" }
                "404": { $ref: "#/components/responses/Error" }
                "429": { $ref: "#/components/responses/Error" }
                "502": { $ref: "#/components/responses/Error" }
                "503": { $ref: "#/components/responses/Error" }
                "504": { $ref: "#/components/responses/Error" }
          /v1/accounts:
            get:
              tags: [data]
              summary: The caller's accounts (MX's shape)
              operationId: listAccounts
              parameters:
                - $ref: "#/components/parameters/Page"
                - $ref: "#/components/parameters/RecordsPerPage"
              responses:
                "200": { $ref: "#/components/responses/Accounts" }
                "400": { $ref: "#/components/responses/Error" }
                "401": { $ref: "#/components/responses/Error" }
                "429": { $ref: "#/components/responses/Error" }
                "502": { $ref: "#/components/responses/Error" }
                "503": { $ref: "#/components/responses/Error" }
                "504": { $ref: "#/components/responses/Error" }
          /v1/accounts/{account_guid}:
            parameters:
              - $ref: "#/components/parameters/AccountGUID"
            get:
              tags: [data]
              summary: One of the caller's accounts (MX's shape)
              operationId: readAccount
              responses:
                "200":
                  description: "`{\"account\": {...}}` as MX sent it."
                  content:
                    application/json:
                      schema:
                        type: object
                        required: [account]
                        properties:
                          account: { type: object }
                "401": { $ref: "#/components/responses/Error" }
                "404": { $ref: "#/components/responses/Error" }
                "429": { $ref: "#/components/responses/Error" }
                "502": { $ref: "#/components/responses/Error" }
                "503": { $ref: "#/components/responses/Error" }
                "504": { $ref: "#/components/responses/Error" }
          /v1/accounts/{account_guid}/transactions:
            parameters:
              - $ref: "#/components/parameters/AccountGUID"
            get:
              tags: [data]
              summary: An account's transactions (MX's shape)
              operationId: listAccountTransactions
              parameters:
                - $ref: "#/components/parameters/Page"
                - $ref: "#/components/parameters/RecordsPerPage"
                - $ref: "#/components/parameters/FromDate"
                - $ref: "#/components/parameters/ToDate"
              responses:
                "200": { $ref: "#/components/responses/Transactions" }
                "400": { $ref: "#/components/responses/Error" }
                "401": { $ref: "#/components/responses/Error" }
                "404": { $ref: "#/components/responses/Error" }
                "429": { $ref: "#/components/responses/Error" }
                "502": { $ref: "#/components/responses/Error" }
                "503": { $ref: "#/components/responses/Error" }
                "504": { $ref: "#/components/responses/Error" }
          /v1/transactions:
            get:
              tags: [data]
              summary: The caller's transactions (MX's shape)
              operationId: listTransactions
              parameters:
                - $ref: "#/components/parameters/Page"
                - $ref: "#/components/parameters/RecordsPerPage"
                - $ref: "#/components/parameters/FromDate"
                - $ref: "#/components/parameters/ToDate"
              responses:
                "200": { $ref: "#/components/responses/Transactions" }
                "400": { $ref: "#/components/responses/Error" }
                "401": { $ref: "#/components/responses/Error" }
                "429": { $ref: "#/components/responses/Error" }
                "502": { $ref: "#/components/responses/Error" }
                "503": { $ref: "#/components/responses/Error" }
                "504": { $ref: "#/components/responses/Error" }
          /v1/events:
            get:
              tags: [events]
              summary: Server-Sent Events for the caller
              operationId: streamEvents
              description: >-
                member.updated, member.deleted, aggregation.completed and
                connection.action_required, with store sequence numbers as ids. Takes a bearer
                token or an events token as access_token. Opening one spends a read of the
                caller's budget; a caller holds at most MAX_STREAMS_PER_USER streams (429
                too_many_streams), and the broker stops short of its open-file limit (503
                streams_unavailable). A stream ends when its token expires, and never creates
                the caller's MX user: without one it waits for it.
              security:
                - bearer: []
                - eventsToken: []
              parameters:
                - name: Last-Event-ID
                  in: header
                  required: false
                  schema: { type: string, pattern: "^[0-9]+$" }
                - name: last_event_id
                  in: query
                  required: false
                  schema: { type: string, pattern: "^[0-9]+$" }
              responses:
                "200":
                  description: The stream.
                  content:
                    text/event-stream:
                      schema: { type: string }
                "400": { $ref: "#/components/responses/Error" }
                "401": { $ref: "#/components/responses/Error" }
                "429": { $ref: "#/components/responses/Error" }
                "503": { $ref: "#/components/responses/Error" }
          /v1/events/token:
            post:
              tags: [events]
              summary: A short-lived token that opens only the event stream (for EventSource)
              operationId: mintEventsToken
              responses:
                "200":
                  description: The token.
                  content:
                    application/json:
                      schema:
                        type: object
                        required: [access_token, expires_in]
                        properties:
                          access_token: { type: string }
                          expires_in: { type: string }
                "401": { $ref: "#/components/responses/Error" }
                "429": { $ref: "#/components/responses/Error" }
          /v1/me:
            delete:
              tags: [connect]
              summary: Erase the caller (their MX user and every local row about them)
              operationId: eraseMe
              responses:
                "204": { description: Erased. }
                "401": { $ref: "#/components/responses/Error" }
                "429": { $ref: "#/components/responses/Error" }
                "502": { $ref: "#/components/responses/Error" }
                "503": { $ref: "#/components/responses/Error" }
                "504": { $ref: "#/components/responses/Error" }
          /v1/webhooks/mx:
            post:
              tags: [operations]
              summary: MX's webhooks (HTTP Basic with the configured webhook credentials)
              operationId: receiveWebhook
              security:
                - webhookBasic: []
              requestBody:
                required: true
                content:
                  application/json:
                    schema: { type: object }
              responses:
                "204": { description: Committed to the inbox. }
                "400": { $ref: "#/components/responses/Error" }
                "401": { $ref: "#/components/responses/Error" }
                "403": { $ref: "#/components/responses/Error" }
                "413": { $ref: "#/components/responses/Error" }
                "415": { $ref: "#/components/responses/Error" }
                "503": { $ref: "#/components/responses/Error" }
          /v1/admin/webhooks:
            get:
              tags: [operations]
              summary: The webhook inbox, paged (only with ADMIN_TOKEN)
              operationId: listWebhooks
              security:
                - adminToken: []
              parameters:
                - name: status
                  in: query
                  schema: { type: string, enum: [pending, processing, processed, ignored, dead, all] }
                - $ref: "#/components/parameters/Page"
                - $ref: "#/components/parameters/RecordsPerPage"
              responses:
                "200":
                  description: Deliveries with a total.
                  content:
                    application/json:
                      schema: { type: object, required: [webhooks], properties: { webhooks: { type: array, items: { type: object } } } }
                "400": { $ref: "#/components/responses/Error" }
                "401": { $ref: "#/components/responses/Error" }
                "403": { $ref: "#/components/responses/Error" }
          /v1/admin/webhooks/counts:
            get:
              tags: [operations]
              summary: Inbox counts by status
              operationId: countWebhooks
              security:
                - adminToken: []
              responses:
                "200":
                  description: Counts.
                  content:
                    application/json:
                      schema: { type: object }
                "401": { $ref: "#/components/responses/Error" }
                "403": { $ref: "#/components/responses/Error" }
          /v1/admin/webhooks/{id}:
            parameters:
              - $ref: "#/components/parameters/WebhookID"
            get:
              tags: [operations]
              summary: One delivery, with its body
              operationId: readWebhook
              security:
                - adminToken: []
              responses:
                "200":
                  description: The delivery.
                  content:
                    application/json:
                      schema: { type: object, required: [webhook], properties: { webhook: { type: object } } }
                "401": { $ref: "#/components/responses/Error" }
                "403": { $ref: "#/components/responses/Error" }
                "404": { $ref: "#/components/responses/Error" }
          /v1/admin/webhooks/{id}/replay:
            parameters:
              - $ref: "#/components/parameters/WebhookID"
            post:
              tags: [operations]
              summary: Process a delivery again
              operationId: replayWebhook
              security:
                - adminToken: []
              responses:
                "202":
                  description: Queued again.
                  content:
                    application/json:
                      schema: { type: object }
                "401": { $ref: "#/components/responses/Error" }
                "403": { $ref: "#/components/responses/Error" }
                "404": { $ref: "#/components/responses/Error" }
                "409": { $ref: "#/components/responses/Error" }
          /v1/sandbox/token:
            post:
              tags: [operations]
              summary: A one-hour test token (sandbox mode only)
              operationId: mintSandboxToken
              security: []
              requestBody:
                required: true
                content:
                  application/json:
                    schema:
                      type: object
                      required: [sub]
                      properties:
                        sub: { type: string, minLength: 1, maxLength: 255 }
                        email: { type: string, maxLength: 255 }
                        given_name: { type: string, maxLength: 255 }
                        family_name: { type: string, maxLength: 255 }
              responses:
                "200":
                  description: The token.
                  content:
                    application/json:
                      schema:
                        type: object
                        required: [token, token_type, expires_in]
                        properties:
                          token: { type: string }
                          token_type: { type: string }
                          expires_in: { type: string }
                "400": { $ref: "#/components/responses/Error" }
                "413": { $ref: "#/components/responses/Error" }
                "415": { $ref: "#/components/responses/Error" }
          /healthz:
            get:
              tags: [operations]
              summary: Liveness
              operationId: healthz
              security: []
              responses:
                "200":
                  description: Alive.
                  content:
                    application/json:
                      schema: { type: object, required: [status], properties: { status: { type: string } } }
          /readyz:
            get:
              tags: [operations]
              summary: Readiness (store reachable, migrations applied)
              operationId: readyz
              security: []
              responses:
                "200":
                  description: Ready.
                  content:
                    application/json:
                      schema: { type: object, required: [status], properties: { status: { type: string } } }
                "503": { $ref: "#/components/responses/Error" }
          /metrics:
            get:
              tags: [operations]
              summary: Prometheus metrics
              operationId: metrics
              security: []
              responses:
                "200":
                  description: Prometheus text exposition.
                  content:
                    text/plain:
                      schema: { type: string }
          /openapi.yaml:
            get:
              tags: [operations]
              summary: This document
              operationId: openapi
              security: []
              responses:
                "200":
                  description: OpenAPI 3.0 in YAML.
                  content:
                    application/yaml:
                      schema: { type: string }
        components:
          securitySchemes:
            bearer: { type: http, scheme: bearer, bearerFormat: JWT }
            eventsToken: { type: apiKey, in: query, name: access_token }
            webhookBasic: { type: http, scheme: basic }
            adminToken: { type: http, scheme: bearer }
          parameters:
            MemberGUID: { name: member_guid, in: path, required: true, schema: { type: string } }
            InstitutionCode: { name: institution_code, in: path, required: true, schema: { type: string } }
            AccountGUID: { name: account_guid, in: path, required: true, schema: { type: string } }
            WebhookID: { name: id, in: path, required: true, schema: { type: integer, format: int64 } }
            Page: { name: page, in: query, required: false, schema: { type: integer, minimum: 1, maximum: 1000000 } }
            RecordsPerPage: { name: records_per_page, in: query, required: false, schema: { type: integer, minimum: 1, maximum: 1000 } }
            InstitutionsPerPage: { name: records_per_page, in: query, required: false, schema: { type: integer, minimum: 1, maximum: 100 } }
            FromDate: { name: from_date, in: query, required: false, schema: { type: string, format: date } }
            ToDate: { name: to_date, in: query, required: false, schema: { type: string, format: date } }
            AcceptLanguage: { name: Accept-Language, in: header, required: false, schema: { type: string } }
          responses:
            Error:
              description: An error, always in this shape.
              content:
                application/json:
                  schema: { $ref: "#/components/schemas/Error" }
            Accounts:
              description: "`{\"accounts\": [...], \"pagination\": {...}}` as MX sent it."
              content:
                application/json:
                  schema:
                    type: object
                    required: [accounts]
                    properties:
                      accounts: { type: array, items: { type: object } }
                      pagination: { $ref: "#/components/schemas/Pagination" }
            MemberStatus:
              description: The member, and while it connects or aggregates, how long to wait before reading its status again.
              content:
                application/json:
                  schema:
                    type: object
                    required: [member]
                    properties:
                      member: { $ref: "#/components/schemas/Member" }
                      poll_after_ms: { type: integer, minimum: 3000 }
            Transactions:
              description: "`{\"transactions\": [...], \"pagination\": {...}}` as MX sent it."
              content:
                application/json:
                  schema:
                    type: object
                    required: [transactions]
                    properties:
                      transactions: { type: array, items: { type: object } }
                      pagination: { $ref: "#/components/schemas/Pagination" }
          schemas:
            Error:
              type: object
              required: [error]
              properties:
                error:
                  type: object
                  required: [code, message, request_id]
                  properties:
                    code: { type: string }
                    message: { type: string }
                    request_id: { type: string }
            SecretValues:
              type: array
              description: Values for MX's credential fields or MFA challenges, sent to MX and nowhere else.
              maxItems: 20
              items:
                type: object
                required: [guid, value]
                properties:
                  guid: { type: string }
                  value: { type: string, minLength: 1 }
            Pagination:
              type: object
              properties:
                current_page: { type: integer }
                per_page: { type: integer }
                total_entries: { type: integer }
                total_pages: { type: integer }
            WidgetURLRequest:
              type: object
              required: [widget_url]
              properties:
                widget_url:
                  type: object
                  description: >-
                    MX's widget_url fields; unknown ones are dropped, ui_message_version is
                    forced to 4, client_redirect_url must start with a configured prefix and
                    current_member_guid must be the caller's.
                  properties:
                    widget_type: { type: string }
                    mode: { type: string, enum: [aggregation, verification] }
                    color_scheme: { type: string, enum: [light, dark] }
                    current_member_guid: { type: string }
                    current_institution_code: { type: string }
                    current_institution_guid: { type: string }
                    include_transactions: { type: boolean }
                    is_mobile_webview: { type: boolean }
                    ui_message_webview_url_scheme: { type: string }
                    client_redirect_url: { type: string }
                    oauth_referral_source: { type: string, enum: [BROWSER, APP] }
                    update_credentials: { type: boolean }
                    disable_institution_search: { type: boolean }
                    include_identity: { type: boolean }
                    ui_message_version: { type: integer }
            WidgetURLResponse:
              type: object
              required: [widget_url]
              properties:
                widget_url:
                  type: object
                  required: [url]
                  properties:
                    type: { type: string }
                    url: { type: string }
                    user_id: { type: string }
            WidgetEvent:
              type: object
              description: >-
                Web form {"mx": true, "type": "mx/connect/…", "metadata": {…}}, or mobile form
                {"url": "<scheme>://connect/<event>?metadata=…"}.
              properties:
                mx: { type: boolean }
                type: { type: string }
                metadata: { type: object }
                url: { type: string }
            RelayOutcome:
              type: object
              required: [type, recorded, action]
              properties:
                type: { type: string }
                known: { type: boolean }
                recorded: { type: boolean }
                action: { type: string, enum: [recorded, member_refreshed, member_deleted, member_still_exists, rejected] }
                member: { $ref: "#/components/schemas/Member" }
                error: { type: string }
            Member:
              type: object
              required: [guid, action_required, is_being_aggregated]
              properties:
                guid: { type: string }
                name: { type: string, nullable: true }
                institution_code: { type: string, nullable: true }
                connection_status: { type: string, nullable: true }
                connection_status_id: { type: integer, nullable: true }
                action_required:
                  type: string
                  enum: [none, wait, answer_mfa, reconnect, visit_institution, contact_support, terminal]
                is_being_aggregated: { type: boolean }
                aggregated_at: { type: string, nullable: true }
                successfully_aggregated_at: { type: string, nullable: true }
        """#
}
