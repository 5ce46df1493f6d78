import Foundation

/// The Connect widget page: a small script that walks the user through search, credentials,
/// MFA or OAuth, and delivers each widget event the session API returns to the host — with
/// `postMessage` on the web, or as `<scheme>://…?metadata=` navigations in a mobile webview.
struct SandboxWidgetPage {
    let body: String

    init(session: String, grant: WidgetGrant, initialStep: String, targetOrigin: String, pollMilliseconds: Int) throws {
        let events = WidgetEventFactory(grant: grant, session: session)
        let config = SandboxJSON.object([
            ("session_guid", .string(session)), ("user_guid", .string(grant.userGUID)), ("mobile", .bool(grant.isMobileWebview)),
            ("scheme", .string(grant.webviewURLScheme)), ("target_origin", .string(targetOrigin)), ("poll_ms", .int(Int64(pollMilliseconds))),
            ("initial_step", .string(initialStep)), ("current_member_guid", .string(grant.currentMemberGUID)),
            ("current_institution_code", .string(grant.currentInstitutionCode)),
            ("current_microdeposit_guid", .string(grant.currentMicrodepositGUID)), ("verification", .bool(grant.jobs.contains(.verification))),
            (
                "microdeposit_hint",
                .string(
                    "In the sandbox the two deposits are always \(Self.dollars(SandboxMicrodeposit.depositAmounts.0)) and \(Self.dollars(SandboxMicrodeposit.depositAmounts.1))."
                )
            ),
            ("institutions", .array(SandboxInstitution.all.map { $0.json(.v20250224) })),
            ("initial_events", .array([WidgetEventFactory.load, events.make("mx/connect/loaded", [("initial_step", .string(initialStep))])])),
            (
                "hint",
                .string(
                    "Username \(SandboxInstitution.validUsername), password \(SandboxInstitution.validPassword); MFA answers: mxcity, the checking account, and the code in the image."
                )
            ),
        ])
        let configText = config.text.replacingOccurrences(of: "<", with: "\\u003c")
        body = """
            <main id="app" aria-live="polite"><p>Loading…</p></main>
            <noscript><form method="post" action="sessions/\(MXSandbox.escape(session))/connect">
              <label>Institution <select name="institution_code">\(SandboxInstitution.all.map { "<option value=\"\(MXSandbox.escape($0.code))\">\(MXSandbox.escape($0.name))</option>" }.joined())</select></label>
              <label>Username <input name="username"></label><label>Password <input name="password" type="password"></label>
              <button type="submit">Connect</button></form></noscript>
            <script type="application/json" id="widget-config">\(configText)</script>
            <script>\(Self.script)</script>
            """
    }

    private static func dollars(_ cents: Int) -> String { String(format: "%d.%02d", cents / 100, cents % 100) }

    static let style = """
        :root{color-scheme:light;--ink:#1d2433;--muted:#5b6475;--line:#dfe3ea;--brand:#2c64e3;--bad:#b42318;--good:#067647}
        body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;max-width:26rem;margin:0 auto;padding:1.5rem 1rem;color:var(--ink)}
        h1{font-size:1.25rem;margin:.2rem 0 1rem}label{display:block;margin:.8rem 0;font-size:.95rem}
        input,select{display:block;width:100%;padding:.6rem;margin-top:.3rem;box-sizing:border-box;border:1px solid var(--line);border-radius:6px;font:inherit}
        input[type=radio]{display:inline-block;width:auto;margin:0 .5rem 0 0;vertical-align:middle}
        fieldset{border:1px solid var(--line);border-radius:6px;margin:.8rem 0}fieldset label{margin:.4rem 0}
        .challenge-image{display:block;margin:.4rem 0;border-radius:6px}
        button{padding:.65rem 1.2rem;background:var(--brand);color:#fff;border:0;border-radius:6px;font:inherit;cursor:pointer}
        button.link{background:none;color:var(--brand);padding:.4rem 0}
        ul.institutions{list-style:none;padding:0;margin:.5rem 0}ul.institutions button{width:100%;text-align:left;background:#f5f7fb;color:var(--ink);margin:.25rem 0}
        .hint{color:var(--muted);font-size:.85rem}.error{color:var(--bad)}.ok{color:var(--good)}
        .spinner{width:1.4rem;height:1.4rem;border:3px solid var(--line);border-top-color:var(--brand);border-radius:50%;animation:spin 1s linear infinite;display:inline-block;vertical-align:middle;margin-right:.5rem}
        @keyframes spin{to{transform:rotate(360deg)}}
        """

    static let script = #"""
        (() => {
          const config = JSON.parse(document.getElementById("widget-config").textContent);
          const app = document.getElementById("app");
          const base = "sessions/" + config.session_guid;
          const queue = [];
          let navigating = false;

          function deliver(event) {
            if (config.mobile) {
              queue.push(event);
              pump();
              return;
            }
            if (window.parent !== window) window.parent.postMessage(event, config.target_origin);
            if (window.opener) window.opener.postMessage(event, config.target_origin);
          }
          function pump() {
            if (navigating || queue.length === 0) return;
            navigating = true;
            const event = queue.shift();
            const hasMetadata = Object.keys(event.metadata || {}).length > 0;
            const query = hasMetadata ? "?metadata=" + encodeURIComponent(JSON.stringify(event.metadata)) : "";
            window.location.href = config.scheme + "://" + event.type.slice(3) + query;
            setTimeout(() => { navigating = false; pump(); }, 80);
          }
          function emit(events) { (events || []).forEach(deliver); }

          async function call(method, path, body) {
            const response = await fetch(path, {
              method, headers: { "Content-Type": "application/json" }, body: body ? JSON.stringify(body) : undefined,
            });
            const data = await response.json().catch(() => ({}));
            emit(data.events);
            if (!response.ok) throw new Error((data.error && data.error.message) || "Something went wrong.");
            return data;
          }
          function el(tag, attributes, ...children) {
            const node = document.createElement(tag);
            Object.entries(attributes || {}).forEach(([key, value]) => {
              if (key.startsWith("on")) node.addEventListener(key.slice(2), value); else node.setAttribute(key, value);
            });
            children.flat().forEach((child) => node.append(child instanceof Node ? child : document.createTextNode(String(child))));
            return node;
          }
          function show(...children) { app.replaceChildren(...children); }
          function fail(message, retry) {
            show(el("h1", {}, "Something went wrong"), el("p", { class: "error" }, message),
              el("button", { onclick: retry || search }, "Try again"));
          }

          function search(list) {
            const results = el("ul", { class: "institutions" });
            const render = (institutions) => results.replaceChildren(...institutions.map((institution) =>
              el("li", {}, el("button", { "data-code": institution.code, onclick: () => select(institution.code) }, institution.name))));
            const input = el("input", { type: "search", placeholder: "Search for your bank", "aria-label": "Search" });
            let timer;
            input.addEventListener("input", () => {
              clearTimeout(timer);
              timer = setTimeout(async () => {
                try { render((await call("POST", base + "/search", { query: input.value })).institutions); } catch (error) { fail(error.message); }
              }, 250);
            });
            render(list || config.institutions);
            show(el("h1", {}, "Connect your bank"), input, results, el("p", { class: "hint" }, config.hint));
          }

          async function select(code) {
            try {
              const data = await call("POST", base + "/select", { institution_code: code });
              if (data.step === "microdeposits") return microdepositNumbers(data.institution.name);
              if (data.credentials.length === 0) return oauth(data.institution);
              const fields = data.credentials.map((field) => el("label", {}, field.label,
                el("input", { name: field.field_name, type: field.type === "PASSWORD" ? "password" : "text", autocomplete: "off", required: "" })));
              const form = el("form", {}, ...fields, el("button", { type: "submit" }, "Connect"));
              form.addEventListener("submit", (event) => {
                event.preventDefault();
                const values = Object.fromEntries(new FormData(form));
                connect({ institution_code: code, username: values.username, password: values.password });
              });
              show(el("h1", {}, data.institution.name), form, el("button", { class: "link", onclick: () => search() }, "Back to search"),
                el("p", { class: "hint" }, config.hint));
            } catch (error) { fail(error.message); }
          }

          async function oauth(institution) {
            try {
              const data = await call("POST", base + "/members", { institution_code: institution.code });
              const open = el("button", { onclick: () => window.open(data.oauth_window_uri, "_blank", "noopener") }, "Go to " + institution.name);
              show(el("h1", {}, institution.name), el("p", {}, "Sign in at your bank to authorize this connection."), open);
              poll(data.member.guid);
            } catch (error) { fail(error.message); }
          }

          async function connect(body) {
            try {
              const data = await call("POST", base + "/members", body);
              connecting(data.member.guid);
            } catch (error) { fail(error.message); }
          }

          function connecting(guid) {
            show(el("h1", {}, "Connecting"), el("p", {}, el("span", { class: "spinner" }), "Verifying your credentials…"));
            poll(guid);
          }

          async function poll(guid) {
            try {
              const data = await call("GET", base + "/members/" + guid);
              const member = data.member;
              if (member.connection_status === "CHALLENGED") return mfa(member);
              if (member.connection_status === "CONNECTED" && !member.is_being_aggregated) return connected();
              if (["DENIED", "REJECTED"].includes(member.connection_status)) {
                return fail(member.connection_status === "DENIED" ? "The credentials you entered were not accepted." : "The answers you gave were not accepted.");
              }
              setTimeout(() => poll(guid), config.poll_ms);
            } catch (error) { fail(error.message); }
          }

          function mfa(member) {
            const fields = member.challenges.map((challenge) => challenge.type === "OPTIONS"
              ? el("fieldset", {}, el("legend", {}, challenge.label), ...challenge.options.map((option) =>
                  el("label", {}, el("input", { type: "radio", name: challenge.guid, value: option.value, required: "" }), option.label)))
              : el("label", {}, challenge.label,
                  challenge.image_data ? el("img", { src: challenge.image_data, alt: "Code image", class: "challenge-image" }) : "",
                  el("input", { name: challenge.guid, autocomplete: "off", required: "" })));
            const form = el("form", {}, ...fields, el("button", { type: "submit" }, "Continue"));
            form.addEventListener("submit", async (event) => {
              event.preventDefault();
              try {
                await call("POST", base + "/members/" + member.guid + "/mfa", { answers: Object.fromEntries(new FormData(form)) });
                connecting(member.guid);
              } catch (error) { fail(error.message); }
            });
            show(el("h1", {}, "Verify your identity"), form, el("p", { class: "hint" }, config.hint));
          }

          function microdepositNumbers(name) {
            const form = el("form", {},
              el("label", {}, "Account number", el("input", { name: "account_number", inputmode: "numeric", autocomplete: "off", required: "" })),
              el("label", {}, "Routing number", el("input", { name: "routing_number", inputmode: "numeric", autocomplete: "off", required: "" })),
              el("label", {}, "Account type", el("select", { name: "account_type" }, el("option", {}, "CHECKING"), el("option", {}, "SAVINGS"))),
              el("button", { type: "submit" }, "Send deposits"));
            form.addEventListener("submit", async (event) => {
              event.preventDefault();
              try {
                const data = await call("POST", base + "/micro_deposits", Object.fromEntries(new FormData(form)));
                show(el("h1", {}, "Deposits on their way"),
                  el("p", {}, "Two small deposits will arrive in this account. Come back to confirm their amounts."),
                  el("p", { class: "hint", "data-microdeposit-guid": data.micro_deposit.guid }, config.microdeposit_hint),
                  el("button", { onclick: () => call("POST", base + "/done").catch(() => {}) }, "Done"));
              } catch (error) { fail(error.message, () => microdepositNumbers(name)); }
            });
            show(el("h1", {}, "Verify " + (name || "your account") + " with microdeposits"),
              el("p", {}, "This bank cannot be verified instantly. Enter the account's numbers to receive two small deposits."), form);
          }

          async function microdepositStep(guid) {
            try {
              const microdeposit = (await call("GET", base + "/micro_deposits/" + guid)).micro_deposit;
              if (microdeposit.status === "PREINITIATED") return microdepositNumbers();
              if (microdeposit.status === "VERIFIED") return show(el("h1", { class: "ok" }, "Account verified"));
              if (microdeposit.status === "DENIED") return fail("The amounts did not match; this account could not be verified.", () => search());
              if (microdeposit.status !== "DEPOSITED") {
                return show(el("h1", {}, "Deposits on their way"), el("p", {}, "Come back once the two deposits have arrived."));
              }
              const form = el("form", {},
                el("label", {}, "First deposit", el("input", { name: "deposit_amount_1", inputmode: "decimal", placeholder: "0.00", required: "" })),
                el("label", {}, "Second deposit", el("input", { name: "deposit_amount_2", inputmode: "decimal", placeholder: "0.00", required: "" })),
                el("button", { type: "submit" }, "Verify"));
              form.addEventListener("submit", async (event) => {
                event.preventDefault();
                try {
                  const data = await call("POST", base + "/micro_deposits/" + guid + "/verify", Object.fromEntries(new FormData(form)));
                  if (data.micro_deposit.status === "VERIFIED") show(el("h1", { class: "ok" }, "Account verified"),
                    el("button", { onclick: () => call("POST", base + "/done").catch(() => {}) }, "Done"));
                  else fail("The amounts did not match; this account could not be verified.", () => search());
                } catch (error) { fail(error.message, () => microdepositStep(guid)); }
              });
              show(el("h1", {}, "Confirm the deposits"), el("p", {}, "Enter the two amounts deposited into account " + microdeposit.account_number + "."),
                form, el("p", { class: "hint" }, config.microdeposit_hint));
            } catch (error) { fail(error.message); }
          }

          function connected() {
            show(el("h1", { class: "ok" }, "Connected"), el("p", {}, "Your accounts are connected."),
              el("button", { onclick: () => call("POST", base + "/done").catch(() => {}) }, "Done"));
          }

          emit(config.initial_events);
          if (config.current_microdeposit_guid) microdepositStep(config.current_microdeposit_guid);
          else if (config.current_member_guid) poll(config.current_member_guid);
          else if (config.current_institution_code) select(config.current_institution_code);
          else search();
        })();
        """#
}
