import BrokerCore
import Foundation
import HTTPTypes
import Testing

@testable import Broker

@Suite("Widget URL request filtering")
struct WidgetURLRequestTests {
    private func parse(_ json: String, prefixes: [String] = ["https://app.example/"]) throws(BrokerError) -> WidgetURLRequest {
        let body = try! JSONDecoder().decode(JSONValue.self, from: Data(json.utf8))
        return try WidgetURLRequest(body: body, allowedRedirects: try! RedirectAllowList(prefixes: prefixes))
    }

    @Test("unknown fields are dropped, ui_message_version is forced to 4, widget_type defaults to connect_widget")
    func allowList() throws {
        let request = try parse(
            #"{"widget_url":{"user_guid":"USR-other","ui_message_version":1,"color_scheme":"dark","is_mobile_webview":true,"api_key":"x"}}"#
        )
        #expect(request.fields["user_guid"] == nil)
        #expect(request.fields["api_key"] == nil)
        #expect(request.fields["ui_message_version"] == .integer(4))
        #expect(request.fields["widget_type"] == .string("connect_widget"))
        #expect(request.fields["color_scheme"] == .string("dark"))
        #expect(request.fields["is_mobile_webview"] == .bool(true))
    }

    @Test("the SDK's full proxy body is accepted")
    func sdkBody() throws {
        let body =
            #"{"widget_url":{"widget_type":"connect_widget","is_mobile_webview":false,"ui_message_version":4,"mode":"verification,aggregation","include_transactions":true,"disable_institution_search":false,"current_institution_code":"mxbank","oauth_referral_source":"BROWSER","additional_product_option":"transactions","use_cases":["PFM"],"color_scheme":"light","update_credentials":false}}"#
        let request = try parse(body)
        #expect(request.fields.count == 12)
    }

    @Test(
        "mistyped or out-of-range fields are refused",
        arguments: [
            #"{"widget_url":{"is_mobile_webview":"yes"}}"#,
            #"{"widget_url":{"widget_type":"budgets_widget"}}"#,
            #"{"widget_url":{"mode":"spy"}}"#,
            #"{"widget_url":{"color_scheme":"neon"}}"#,
            #"{"widget_url":{"use_cases":[1]}}"#,
            #"{"widget_url":{"ui_message_webview_url_scheme":"javascript"}}"#,
            #"{"widget_url":{"ui_message_webview_url_scheme":"my app"}}"#,
            #"{"widget_url":{"client_redirect_url":"https://evil.example/"}}"#,
            #"{"widget_url":[]}"#,
            #"[1,2]"#,
        ]
    )
    func refused(json: String) {
        #expect(throws: BrokerError.self) { try parse(json) }
    }

    @Test("a client_redirect_url is kept only under an allowed prefix; with none configured, none is allowed")
    func redirects() throws {
        #expect(try parse(#"{"widget_url":{"client_redirect_url":"https://app.example/oauth"}}"#).fields["client_redirect_url"] != nil)
        #expect(throws: BrokerError.self) { try parse(#"{"widget_url":{"client_redirect_url":"https://app.example/oauth"}}"#, prefixes: []) }
    }

    @Test("a current_member_guid that cannot be an MX guid is not found")
    func memberGUIDShape() {
        let error = #expect(throws: BrokerError.self) { try parse(#"{"widget_url":{"current_member_guid":"../../users"}}"#) }
        #expect(error?.status == .notFound)
    }
}
