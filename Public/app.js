"use strict";

// Ledgerly, a demo front end of ConnectBroker. It holds no MX credential and never names an MX
// user: it signs in (here with the sandbox's test tokens), sends its bearer token with every call,
// loads the Connect widget the way MX's web SDK does in proxy mode, relays the widget's events to
// the broker, and follows the broker's event stream.
(() => {
  const TOKEN_KEY = "ledgerly.token";
  const USER_KEY = "ledgerly.user";
  const PAGE_SIZE = 25;
  const POLL_MS = 3000;

  const state = {
    token: sessionStorage.getItem(TOKEN_KEY),
    user: sessionStorage.getItem(USER_KEY),
    members: [],
    accounts: [],
    page: 1,
    filter: {},
    stream: null,
    streamGeneration: 0,
    streamRetryMs: 1000,
    lastEventId: null,
    widget: null,
    relays: Promise.resolve(),
    pollTimer: null,
    refreshTimer: null,
    // What a verification and an identification fetched, by member guid.
    verified: {},
    microdeposits: [],
    statements: [],
  };

  const $ = (id) => document.getElementById(id);
  const money = (amount, currency) =>
    new Intl.NumberFormat("en-US", { style: "currency", currency: currency || "USD" }).format(Number(amount) || 0);

  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  function el(tag, attributes, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attributes || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children.flat()) {
      if (child === undefined || child === null || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  // ---- Calls to the broker -------------------------------------------------------------------

  async function api(method, path, body) {
    const headers = { Authorization: "Bearer " + state.token };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    return answer(response);
  }

  async function answer(response) {
    const data = response.status === 204 ? null : await response.json().catch(() => null);
    if (response.ok) return data;
    const error = (data && data.error) || {};
    if (response.status === 401 && state.token) signOut("Your session has ended. Sign in again.");
    throw new ApiError(response.status, error.code, error.message || "The broker answered " + response.status + ".");
  }

  // ---- Signing in ----------------------------------------------------------------------------

  async function signIn(user) {
    const response = await fetch("/v1/sandbox/token", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ sub: user }),
    });
    const data = await answer(response);
    state.token = data.token;
    state.user = user;
    sessionStorage.setItem(TOKEN_KEY, state.token);
    sessionStorage.setItem(USER_KEY, user);
    showDashboard();
  }

  function signOut(message) {
    closeStream();
    closeWidget();
    clearTimeout(state.pollTimer);
    state.token = null;
    state.user = null;
    state.members = [];
    state.accounts = [];
    state.verified = {};
    state.microdeposits = [];
    state.statements = [];
    state.filter = {};
    state.lastEventId = null;
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(USER_KEY);
    $("dashboard").hidden = true;
    $("session").hidden = true;
    $("sign-in").hidden = false;
    $("sign-in-error").textContent = message || "";
  }

  function showDashboard() {
    $("sign-in").hidden = true;
    $("dashboard").hidden = false;
    $("session").hidden = false;
    $("who").textContent = state.user;
    $("activity").replaceChildren();
    log("Signed in as " + state.user + ".");
    openStream();
    refreshAll();
  }

  // ---- Members -------------------------------------------------------------------------------

  const ACTIONS = {
    none: { label: "Connected", tone: "good" },
    wait: { label: "Connecting", tone: "busy" },
    answer_mfa: { label: "Needs your answer", tone: "warn", text: "Your bank is asking a security question.", fix: true },
    reconnect: { label: "Sign in again", tone: "warn", text: "Sign in to your bank again to keep this connection working.", fix: true },
    visit_institution: { label: "Visit your bank", tone: "warn", text: "Your bank needs you to visit its website, then try again.", fix: true },
    contact_support: { label: "Unavailable", tone: "bad", text: "The bank could not be reached. Contact support if this lasts." },
    terminal: { label: "Closed", tone: "bad", text: "This connection can no longer be updated. Remove it and connect again." },
  };

  const isSyncing = (member) => member.is_being_aggregated || member.action_required === "wait";

  async function loadMembers() {
    const data = await api("GET", "/v1/members?records_per_page=100");
    state.members = data.members;
    renderMembers();
    schedulePoll();
  }

  function upsertMember(member) {
    const index = state.members.findIndex((known) => known.guid === member.guid);
    if (index >= 0) state.members[index] = member;
    else state.members.push(member);
    renderMembers();
    schedulePoll();
  }

  // MX asks apps not to make the user wait on a webhook: while a member is connecting, read its
  // status every few seconds as well as listening to the stream.
  function schedulePoll() {
    clearTimeout(state.pollTimer);
    if (!state.members.some(isSyncing)) return;
    state.pollTimer = setTimeout(() => loadMembers().catch(() => schedulePoll()), POLL_MS);
  }

  function memberName(guid) {
    const member = state.members.find((known) => known.guid === guid);
    return member ? member.name || member.institution_code : "your bank";
  }

  function renderMembers() {
    const list = $("members");
    list.replaceChildren(...state.members.map(renderMember));
    $("members-empty").hidden = state.members.length > 0;
    const waiting = state.members.filter((member) => ACTIONS[member.action_required] && ACTIONS[member.action_required].fix);
    const syncing = state.members.filter(isSyncing);
    if (waiting.length > 0) notice("warn", memberName(waiting[0].guid) + " needs your attention: " + ACTIONS[waiting[0].action_required].text);
    else if (syncing.length > 0) notice("busy", "Syncing " + syncing.map((member) => memberName(member.guid)).join(", ") + "…");
    else notice();
  }

  function renderMember(member) {
    const action = ACTIONS[member.action_required] || ACTIONS.none;
    const syncing = isSyncing(member);
    const status = syncing ? "Syncing accounts and transactions…" : action.text || lastSynced(member);
    return el("li", { class: "member", "data-member-guid": member.guid, "data-status": member.connection_status },
      el("div", { class: "member-main" },
        el("div", { class: "member-title" },
          el("strong", {}, member.name || member.institution_code),
          el("span", { class: "badge " + (syncing ? "busy" : action.tone) }, syncing ? "Syncing" : action.label)),
        el("p", { class: "muted" }, status),
        syncing && el("div", { class: "progress", role: "progressbar", "aria-label": "Syncing" }, el("span")),
        renderVerified(member)),
      el("div", { class: "member-actions" },
        member.action_required === "none" && !syncing && !state.verified[member.guid] &&
          el("button", { type: "button", class: "verify", onclick: () => verify(member) }, "Verify account"),
        action.fix && el("button", { type: "button", class: "fix", onclick: () => openWidget({ memberGUID: member.guid }) }, "Fix connection"),
        member.action_required === "none" && !syncing &&
          el("button", { type: "button", class: "secondary", onclick: () => aggregate(member) }, "Refresh"),
        member.action_required === "none" && !syncing && Object.entries(JOBS).map(([job, how]) =>
          el("button", { type: "button", class: "secondary job", "data-job": job, onclick: () => startJob(member, job) }, how.label)),
        el("button", { type: "button", class: "ghost", onclick: () => disconnect(member) }, "Remove")));
  }

  // ---- Fresh balances, two years of history, statements -------------------------------------

  // Each job runs at MX, announced on the stream when it is done: the page then reads again.
  const JOBS = {
    check_balance: { label: "Refresh balances", started: "Checking balances at " },
    extend_history: { label: "Load two years", started: "Loading two years of history from " },
    fetch_statements: { label: "Get statements", started: "Fetching statements from " },
  };

  async function startJob(member, job) {
    try {
      const data = await api("POST", "/v1/members/" + encodeURIComponent(member.guid) + "/" + job);
      upsertMember(data.member);
      log(JOBS[job].started + memberName(member.guid) + "…");
    } catch (error) {
      log(error.code === "product_not_supported" ? memberName(member.guid) + " does not offer this." : error.message, "warn");
    }
  }

  // Two years back from today, as the transaction filter's date.
  function twoYearsAgo() {
    const date = new Date();
    date.setUTCFullYear(date.getUTCFullYear() - 2);
    return date.toISOString().slice(0, 10);
  }

  function onHistoryExtended(data) {
    const added = (data.webhook && data.webhook.transactions_created_count) || 0;
    log("Two years of history from " + memberName(data.member_guid) + ": " + added + " more transactions.", "good");
    state.filter = { ...state.filter, from_date: twoYearsAgo() };
    $("transaction-filter").from_date.value = state.filter.from_date;
    state.page = 1;
    refreshDataSoon();
  }

  async function loadStatements() {
    const connected = state.members.filter((member) => member.successfully_aggregated_at);
    const lists = await Promise.all(connected.map((member) =>
      api("GET", "/v1/members/" + encodeURIComponent(member.guid) + "/statements?records_per_page=100")
        .then((data) => data.statements)
        .catch((error) => { if (error.code === "product_not_enabled") $("statements-card").hidden = true; return []; })));
    state.statements = lists.flat();
    const accountNames = new Map(state.accounts.map((account) => [account.guid, account.name]));
    $("statements").tBodies[0].replaceChildren(...state.statements.map((statement) =>
      el("tr", { "data-statement-guid": statement.guid },
        el("td", {}, accountNames.get(statement.account_guid) || statement.account_guid),
        el("td", { class: "muted" }, memberName(statement.member_guid)),
        el("td", { class: "date" }, (statement.created_at || "").slice(0, 10)),
        el("td", { class: "num" }, el("button", { type: "button", class: "secondary download", onclick: () => download(statement) }, "Download PDF")))));
    $("statements-empty").hidden = state.statements.length > 0;
  }

  // The PDF needs the bearer token, which a plain link cannot send: fetch it, then hand the
  // browser the bytes to save.
  async function download(statement) {
    try {
      const path = "/v1/members/" + encodeURIComponent(statement.member_guid) + "/statements/" + encodeURIComponent(statement.guid) + ".pdf";
      const response = await fetch(path, { headers: { Authorization: "Bearer " + state.token } });
      if (!response.ok) await answer(response);
      const url = URL.createObjectURL(await response.blob());
      const link = el("a", { href: url, download: "statement-" + statement.guid + ".pdf" });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60000);
      log("Downloaded a statement of " + memberName(statement.member_guid) + ".");
    } catch (error) {
      log(error.message, "bad");
    }
  }

  async function loadHoldings() {
    let data;
    try {
      data = await api("GET", "/v1/investment_holdings?records_per_page=1000");
    } catch (error) {
      if (error.code === "product_not_enabled") $("holdings-card").hidden = true;
      return;
    }
    const accountNames = new Map(state.accounts.map((account) => [account.guid, account.name]));
    $("holdings").tBodies[0].replaceChildren(...data.investment_holdings.map((holding) => {
      const gain = Number(holding.total_ugl_amount) || 0;
      return el("tr", { "data-holding-guid": holding.guid, "data-account-guid": holding.account_guid },
        el("td", {}, el("strong", {}, holding.symbol), " ", el("span", { class: "muted" }, holding.description)),
        el("td", { class: "muted" }, accountNames.get(holding.account_guid) || ""),
        el("td", { class: "num" }, Number(holding.quantity).toLocaleString("en-US", { maximumFractionDigits: 4 })),
        el("td", { class: "num" }, money(holding.current_price, holding.currency_code)),
        el("td", { class: "num market-value" }, money(holding.market_value, holding.currency_code)),
        el("td", { class: "num " + (gain < 0 ? "debit" : "credit") }, (gain < 0 ? "−" : "+") + money(Math.abs(gain), holding.currency_code)));
    }));
    $("holdings-empty").hidden = data.investment_holdings.length > 0;
  }

  // ---- Verification: account numbers and owners ---------------------------------------------

  // Verify, then identify (one job at a time on a member); each is announced on the stream when
  // it is done, and only then are the numbers and owners read. A front end sees account numbers
  // masked to their last four digits.
  async function verify(member) {
    state.verified[member.guid] = { pending: "Verifying…" };
    renderMembers();
    try {
      await api("POST", "/v1/members/" + encodeURIComponent(member.guid) + "/verify");
      log("Verifying " + memberName(member.guid) + "…");
    } catch (error) {
      delete state.verified[member.guid];
      renderMembers();
      if (error.code === "product_not_supported") {
        log(memberName(member.guid) + " cannot verify instantly: verify the account with microdeposits below.", "warn");
        $("microdeposit-form").querySelector("input").focus();
      } else {
        log(error.message, "bad");
      }
    }
  }

  async function onVerified(memberGUID) {
    const numbers = await api("GET", "/v1/members/" + encodeURIComponent(memberGUID) + "/account_numbers");
    state.verified[memberGUID] = { numbers: numbers.account_numbers, pending: "Looking up the account owners…" };
    renderMembers();
    log("Verified " + memberName(memberGUID) + ".", "good");
    try {
      await api("POST", "/v1/members/" + encodeURIComponent(memberGUID) + "/identify");
    } catch (error) {
      state.verified[memberGUID].pending = null;
      renderMembers();
    }
  }

  async function onIdentified(memberGUID) {
    const owners = await api("GET", "/v1/members/" + encodeURIComponent(memberGUID) + "/account_owners");
    state.verified[memberGUID] = { ...(state.verified[memberGUID] || {}), owners: owners.account_owners, pending: null };
    renderMembers();
  }

  function accountName(guid) {
    const account = state.accounts.find((known) => known.guid === guid);
    return account ? account.name : "Account";
  }

  function renderVerified(member) {
    const verified = state.verified[member.guid];
    if (!verified) return null;
    const owners = [...new Set((verified.owners || []).map((owner) => owner.owner_name))];
    return el("div", { class: "verified" },
      verified.numbers && el("ul", { class: "numbers" }, verified.numbers.map((entry) =>
        el("li", { "data-account-guid": entry.account_guid },
          accountName(entry.account_guid) + " · account " + entry.account_number + " · routing " + entry.routing_number))),
      owners.length > 0 && el("p", { class: "owners" }, "Owned by " + owners.join(", ")),
      verified.pending && el("p", { class: "muted" }, verified.pending));
  }

  // ---- Microdeposits -------------------------------------------------------------------------

  async function loadMicrodeposits() {
    state.microdeposits = (await api("GET", "/v1/micro_deposits")).micro_deposits;
    renderMicrodeposits();
  }

  function renderMicrodeposits() {
    $("microdeposits").replaceChildren(...state.microdeposits.map((microdeposit) =>
      el("li", { class: "microdeposit", "data-microdeposit-guid": microdeposit.guid, "data-status": microdeposit.status },
        el("span", {}, "Account " + (microdeposit.account_number || "(pre-initiated)") + " · " + microdeposit.status),
        microdeposit.status === "DEPOSITED" && el("form", { class: "amounts", onsubmit: (event) => confirmAmounts(event, microdeposit) },
          el("label", {}, "First deposit ", el("input", { name: "deposit_amount_1", inputmode: "decimal", placeholder: "0.00", required: true })),
          el("label", {}, "Second ", el("input", { name: "deposit_amount_2", inputmode: "decimal", placeholder: "0.00", required: true })),
          el("button", { type: "submit", class: "secondary" }, "Confirm")))));
  }

  async function startMicrodeposit(event) {
    event.preventDefault();
    const form = new FormData(event.target);
    const body = { micro_deposit: {
      account_number: form.get("account_number").trim(), routing_number: form.get("routing_number").trim(), account_type: form.get("account_type"),
    } };
    try {
      const data = await api("POST", "/v1/micro_deposits", body);
      state.microdeposits.push(data.micro_deposit);
      renderMicrodeposits();
      event.target.reset();
      log("Two small deposits are on their way to account " + data.micro_deposit.account_number + ".");
    } catch (error) {
      log(error.message, "bad");
    }
  }

  async function confirmAmounts(event, microdeposit) {
    event.preventDefault();
    const form = new FormData(event.target);
    const body = { micro_deposit: {
      deposit_amount_1: Number(form.get("deposit_amount_1")), deposit_amount_2: Number(form.get("deposit_amount_2")),
    } };
    try {
      const data = await api("PUT", "/v1/micro_deposits/" + encodeURIComponent(microdeposit.guid) + "/verify", body);
      log(data.micro_deposit.status === "VERIFIED" ? "Account verified by microdeposits." : "Those amounts did not match.",
        data.micro_deposit.status === "VERIFIED" ? "good" : "warn");
      await loadMicrodeposits();
    } catch (error) {
      log(error.message, "bad");
    }
  }

  function lastSynced(member) {
    if (!member.successfully_aggregated_at) return member.connection_status ? "Status: " + member.connection_status : "";
    return "Last synced " + new Date(member.successfully_aggregated_at).toLocaleString();
  }

  async function aggregate(member) {
    try {
      const data = await api("POST", "/v1/members/" + encodeURIComponent(member.guid) + "/aggregate");
      upsertMember(data.member || { ...member, is_being_aggregated: true });
      log("Asked " + memberName(member.guid) + " for fresh data.");
    } catch (error) {
      log(error.message, "bad");
    }
  }

  async function disconnect(member) {
    if (!confirm("Remove " + memberName(member.guid) + " and its accounts?")) return;
    try {
      await api("DELETE", "/v1/members/" + encodeURIComponent(member.guid));
      state.members = state.members.filter((known) => known.guid !== member.guid);
      renderMembers();
      log("Removed " + (member.name || "the connection") + ".");
      refreshData();
    } catch (error) {
      log(error.message, "bad");
    }
  }

  // ---- Accounts and transactions -------------------------------------------------------------

  async function loadAccounts() {
    const data = await api("GET", "/v1/accounts?records_per_page=100");
    state.accounts = data.accounts;
    const holder = $("accounts");
    holder.replaceChildren(...state.accounts.map((account) =>
      el("article", { class: "account", "data-account-guid": account.guid, "data-member-guid": account.member_guid },
        el("div", { class: "account-name" }, account.name),
        el("div", { class: "muted" }, memberName(account.member_guid) + " · " + titleCase(account.subtype || account.type)),
        el("div", { class: "balance" }, money(account.balance, account.currency_code)),
        account.available_balance !== null && account.available_balance !== undefined &&
          el("div", { class: "muted" }, "Available " + money(account.available_balance, account.currency_code)))));
    $("accounts-empty").hidden = state.accounts.length > 0;
    $("accounts-summary").textContent = state.accounts.length === 0 ? "" :
      state.accounts.length + (state.accounts.length === 1 ? " account" : " accounts");
  }

  async function loadTransactions() {
    const query = new URLSearchParams({ page: String(state.page), records_per_page: String(PAGE_SIZE), ...state.filter });
    $("transactions-error").textContent = "";
    let data;
    try {
      data = await api("GET", "/v1/transactions?" + query);
    } catch (error) {
      $("transactions-error").textContent = error.message;
      return;
    }
    const accountNames = new Map(state.accounts.map((account) => [account.guid, account.name]));
    $("transactions").tBodies[0].replaceChildren(...data.transactions.map((transaction) => {
      const credit = transaction.type === "CREDIT";
      return el("tr", { "data-transaction-guid": transaction.guid },
        el("td", { class: "date" }, transaction.date),
        el("td", {}, transaction.description, transaction.status === "PENDING" && el("span", { class: "pending" }, "Pending")),
        el("td", { class: "muted" }, transaction.category),
        el("td", { class: "muted" }, accountNames.get(transaction.account_guid) || ""),
        el("td", { class: "num " + (credit ? "credit" : "debit") }, (credit ? "+" : "−") + money(transaction.amount, transaction.currency_code)));
    }));
    const pagination = data.pagination || { current_page: state.page, total_pages: 1, total_entries: data.transactions.length };
    const totalPages = Math.max(1, pagination.total_pages || 1);
    $("transactions-empty").hidden = data.transactions.length > 0;
    $("page-info").textContent = "Page " + pagination.current_page + " of " + totalPages + " · " + pagination.total_entries + " transactions";
    $("previous-page").disabled = state.page <= 1;
    $("next-page").disabled = state.page >= totalPages;
  }

  function titleCase(text) {
    return String(text || "").toLowerCase().replace(/(^|_)(\w)/g, (_, gap, letter) => (gap ? " " : "") + letter.toUpperCase());
  }

  async function refreshData() {
    try {
      await loadAccounts();
      await loadTransactions();
      await loadHoldings();
      await loadStatements();
    } catch (error) {
      log(error.message, "bad");
    }
  }

  async function refreshAll() {
    try {
      await loadMembers();
    } catch (error) {
      log(error.message, "bad");
    }
    loadMicrodeposits().catch(() => {});
    await refreshData();
  }

  // Several events often arrive together (a relayed event, then the stream's): read once.
  function refreshDataSoon() {
    clearTimeout(state.refreshTimer);
    state.refreshTimer = setTimeout(refreshData, 150);
  }

  // ---- Live updates: Server-Sent Events ------------------------------------------------------

  // EventSource cannot send headers: trade the bearer token for a short-lived stream token, and
  // take a fresh one on every reconnect, resuming after the last event seen.
  async function openStream() {
    closeStream();
    const generation = ++state.streamGeneration;
    setLive("connecting");
    let token;
    try {
      token = (await api("POST", "/v1/events/token")).access_token;
    } catch (error) {
      if (state.token) retryStream(generation);
      return;
    }
    if (generation !== state.streamGeneration) return;
    const query = new URLSearchParams({ access_token: token });
    if (state.lastEventId) query.set("last_event_id", state.lastEventId);
    const stream = new EventSource("/v1/events?" + query);
    state.stream = stream;
    stream.onopen = () => {
      state.streamRetryMs = 1000;
      setLive("online");
    };
    stream.onerror = () => {
      stream.close();
      if (generation === state.streamGeneration) retryStream(generation);
    };
    const kinds = ["member.updated", "member.deleted", "aggregation.completed", "connection.action_required", "verification.completed",
      "identity.completed", "micro_deposit.updated", "balances.updated", "history.extended", "statements.ready"];
    for (const kind of kinds) {
      stream.addEventListener(kind, (event) => {
        if (event.lastEventId) state.lastEventId = event.lastEventId;
        let data = {};
        try { data = JSON.parse(event.data); } catch (_) { return; }
        onBrokerEvent(kind, data);
      });
    }
  }

  function retryStream(generation) {
    setLive("reconnecting");
    const delay = state.streamRetryMs;
    state.streamRetryMs = Math.min(state.streamRetryMs * 2, 30000);
    setTimeout(() => { if (generation === state.streamGeneration && state.token) openStream(); }, delay);
  }

  function closeStream() {
    state.streamGeneration++;
    if (state.stream) state.stream.close();
    state.stream = null;
    setLive("offline");
  }

  function setLive(status) {
    const labels = { online: "Live", connecting: "Connecting…", reconnecting: "Reconnecting…", offline: "Offline" };
    $("live").dataset.state = status;
    $("live").textContent = labels[status];
  }

  function onBrokerEvent(kind, data) {
    switch (kind) {
      case "member.updated": {
        const known = state.members.some((member) => member.guid === data.member.guid);
        upsertMember(data.member);
        log((known ? "Updated " : "New connection: ") + memberName(data.member.guid) + " (" + data.member.connection_status + ").");
        break;
      }
      case "member.deleted":
        state.members = state.members.filter((member) => member.guid !== data.member_guid);
        renderMembers();
        refreshDataSoon();
        log("A connection was removed.");
        break;
      case "aggregation.completed":
        log("New data from " + memberName(data.member_guid) + ".", "good");
        refreshDataSoon();
        break;
      case "connection.action_required":
        log(memberName(data.member_guid) + " needs your attention (" + data.connection_status + ").", "warn");
        loadMembers().catch(() => {});
        break;
      case "verification.completed":
        onVerified(data.member_guid).catch((error) => log(error.message, "bad"));
        break;
      case "identity.completed":
        onIdentified(data.member_guid).catch((error) => log(error.message, "bad"));
        break;
      case "balances.updated":
        log("Fresh balances from " + memberName(data.member_guid) + ".", "good");
        refreshDataSoon();
        break;
      case "history.extended":
        onHistoryExtended(data);
        break;
      case "statements.ready":
        log("Statements from " + memberName(data.member_guid) + " are ready.", "good");
        refreshDataSoon();
        break;
      case "micro_deposit.updated":
        log("A microdeposit is now " + data.status + ".");
        loadMicrodeposits().catch(() => {});
        break;
    }
  }

  // ---- The Connect widget --------------------------------------------------------------------

  // What MX's web widget SDK does in proxy mode: POST its widget_url body to the app's backend
  // and load the URL it answers in an iframe. The SDK's request preprocessor is where an app
  // adds its Authorization header; this page does the same by hand.
  async function openWidget(options) {
    closeWidget();
    const dialog = $("widget-dialog");
    $("widget-title").textContent = options && options.memberGUID ? "Fix " + memberName(options.memberGUID) : "Connect a bank";
    $("widget-holder").replaceChildren(el("p", { class: "muted loading" }, "Loading the Connect widget…"));
    if (!dialog.open) dialog.showModal();
    const widgetURL = { widget_type: "connect_widget", is_mobile_webview: false, ui_message_version: 4 };
    if (options && options.memberGUID) widgetURL.current_member_guid = options.memberGUID;
    try {
      const response = await fetch("/v1/widget_urls", {
        method: "POST",
        mode: "cors",
        headers: {
          Accept: "application/vnd.mx.api.v1+json",
          "Content-Type": "application/json",
          "Accept-Language": navigator.language || "en-US",
          Authorization: "Bearer " + state.token,
        },
        body: JSON.stringify({ widget_url: widgetURL }),
      });
      const url = (await answer(response)).widget_url.url;
      const frame = el("iframe", { src: url, title: "MX Connect widget", allow: "clipboard-write" });
      state.widget = { frame, origin: new URL(url, location.href).origin };
      $("widget-holder").replaceChildren(frame);
    } catch (error) {
      $("widget-holder").replaceChildren(el("p", { class: "error" }, "The widget could not be loaded: " + error.message));
    }
  }

  function closeWidget() {
    state.widget = null;
    $("widget-holder").replaceChildren();
    const dialog = $("widget-dialog");
    if (dialog.open) dialog.close();
  }

  // Only messages from the widget's own frame and origin, in MX's v4 shape, are relayed.
  function onMessage(event) {
    const widget = state.widget;
    if (!widget || event.source !== widget.frame.contentWindow || event.origin !== widget.origin) return;
    let message = event.data;
    if (typeof message === "string") {
      try { message = JSON.parse(message); } catch (_) { return; }
    }
    if (!message || message.mx !== true || typeof message.type !== "string") return;
    relay(message);
    onWidgetEvent(message);
  }

  // Relayed one after another, in the order the widget sent them.
  function relay(message) {
    state.relays = state.relays.then(async () => {
      try {
        const result = await api("POST", "/v1/widget_events", message);
        const outcome = (result.events || [])[0] || {};
        if (outcome.member) upsertMember(outcome.member);
        if (outcome.action === "member_refreshed") refreshDataSoon();
      } catch (error) {
        log("Relaying " + message.type + " failed: " + error.message, "bad");
      }
    });
  }

  function onWidgetEvent(message) {
    const metadata = message.metadata || {};
    switch (message.type) {
      case "mx/connect/memberConnected":
        log("Connected " + memberName(metadata.member_guid) + ". Loading accounts…", "good");
        break;
      case "mx/connect/connected/primaryAction":
      case "mx/connect/backToSearch":
        closeWidget();
        break;
    }
  }

  // ---- Activity and notices ------------------------------------------------------------------

  function log(text, tone) {
    const list = $("activity");
    const time = new Date().toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
    list.prepend(el("li", { class: tone || "" }, el("time", {}, time), " ", text));
    while (list.children.length > 30) list.lastElementChild.remove();
  }

  function notice(tone, text) {
    const box = $("notice");
    box.hidden = !text;
    box.className = "notice " + (tone || "");
    box.textContent = text || "";
  }

  // ---- Wiring --------------------------------------------------------------------------------

  document.addEventListener("DOMContentLoaded", () => {
    $("sign-in-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const user = new FormData(event.target).get("user").trim();
      try {
        await signIn(user);
      } catch (error) {
        $("sign-in-error").textContent = error.message;
      }
    });
    $("sign-out").addEventListener("click", () => signOut());
    $("connect-bank").addEventListener("click", () => openWidget());
    $("widget-close").addEventListener("click", closeWidget);
    $("widget-dialog").addEventListener("close", () => { state.widget = null; $("widget-holder").replaceChildren(); });
    $("transaction-filter").addEventListener("submit", (event) => {
      event.preventDefault();
      const form = new FormData(event.target);
      state.filter = {};
      for (const key of ["from_date", "to_date"]) if (form.get(key)) state.filter[key] = form.get(key);
      state.page = 1;
      loadTransactions();
    });
    $("transaction-filter").addEventListener("reset", () => {
      state.filter = {};
      state.page = 1;
      setTimeout(loadTransactions);
    });
    $("microdeposit-form").addEventListener("submit", startMicrodeposit);
    $("previous-page").addEventListener("click", () => { state.page = Math.max(1, state.page - 1); loadTransactions(); });
    $("next-page").addEventListener("click", () => { state.page += 1; loadTransactions(); });
    window.addEventListener("message", onMessage);
    if (state.token) showDashboard();
    else signOut();
  });
})();
