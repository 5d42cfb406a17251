// Accounts: the handful of networks the user writes for, each with a purpose and an audience.

import { api } from "./api.js";
import { clearError, emptyState, field, h, pageHeading, select, showError, uid } from "./dom.js";
import * as store from "./store.js";
import { announce, confirmDialog, describeError, errorBox, networkBadge } from "./ui.js";
import { showFieldErrors } from "./actions.js";
import { activeSwitch, refocusSwitch, sphereHint, sphereLabel, sphereSelect } from "./strategy-parts.js";
import {
  accessFacts,
  connectBluesky,
  connectGhost,
  historyDisclosure,
  loadConnectNetworks,
  loadConnections,
  reconnectButton,
  startFlow,
} from "./connect.js";

const PURPOSES = ["family and friends", "colleagues", "professionals", "society"];
// Networks where the user's own server matters (a Mastodon instance, a Bluesky PDS, a blog).
const SERVER_NETWORKS = new Set(["mastodon", "bluesky", "wordpress", "ghost"]);
const DOCS = "docs/connect.md";
const MODE_LABELS = {
  sandbox: "Sandbox: records what it would send, sends nothing",
  live: "Live",
  hand: "By hand: you are told when a post is due, and publish it yourself",
};

export async function renderAccounts(main, { params = [] } = {}) {
  const justConnected = params[0] || null;
  const networks = await store.loadNetworks();
  const connectable = await loadConnectNetworks();
  const zone = store.preferredTimeZone();
  // The strategy says how many networks may be in use; the screen works without it.
  const strategy = await store.loadStrategy({ fresh: true }).catch((error) => {
    if (error.status === 401) throw error;
    return null;
  });
  const list = h("div", { class: "accounts" });
  const inUse = h("p", { class: "in-use", hidden: !strategy });

  const network = field({
    label: "Network",
    control: select(
      [...networks.values()].map((n) => ({ value: n.network, label: n.display_name })),
      { name: "network" },
    ),
  });
  const handle = field({
    label: "Handle",
    control: h("input", { name: "handle", autocomplete: "off", autocapitalize: "none", spellcheck: "false" }),
    hint: "Your username, page id or DID on that network. Connect finds it for you, except on Bluesky.",
  });
  const purposeList = h(
    "datalist",
    { id: uid("purposes") },
    PURPOSES.map((p) => h("option", { value: p })),
  );
  const sphere = field({
    label: "Sphere",
    optional: true,
    control: sphereSelect(null, { name: "sphere" }),
    hint: sphereHint(null),
  });
  const purpose = field({
    label: "Purpose",
    control: h("input", { name: "purpose", list: purposeList.id, autocomplete: "off" }),
    hint: "Why you use this network, e.g. professionals, or family and friends.",
  });
  const audience = field({
    label: "Audience",
    control: h("input", { name: "audience", autocomplete: "off" }),
    hint: "Who reads you there. You will write each post for them.",
  });
  const baseUrl = field({
    label: "Server",
    optional: true,
    control: h("input", {
      name: "base_url",
      type: "url",
      inputmode: "url",
      placeholder: "https://fosstodon.org",
    }),
  });
  const appPassword = field({
    label: "App password",
    control: h("input", { name: "app_password", type: "password", autocomplete: "off", spellcheck: "false" }),
    hint: "Bluesky: an app password (Settings → Privacy and security → App passwords), never your account password. Ghost: a custom integration's Admin API key (Settings → Integrations).",
  });
  const credentials = field({
    label: "Credentials (JSON)",
    optional: true,
    control: h("textarea", { name: "credentials", rows: 4, spellcheck: "false", autocomplete: "off" }),
    hint: 'Tokens you obtained yourself, e.g. {"access_token": "…"}; the account then publishes for real. Stored encrypted, never shown again.',
  });
  const mode = field({
    label: "Publishing",
    control: select(
      [
        { value: "sandbox", label: "Sandbox: Handpost records what it would send" },
        { value: "hand", label: "By hand: Handpost tells me when it is time" },
      ],
      { name: "mode" },
    ),
    hint: "By hand is for places without a publishing API, such as a personal Facebook profile or a group.",
  });
  const fields = {
    network,
    handle,
    sphere,
    purpose,
    audience,
    mode,
    base_url: baseUrl,
    app_password: appPassword,
    credentials,
  };
  const formError = h("div", { class: "form-error", id: uid("add-problem") });
  const submit = h("button", { type: "submit", class: "secondary" }, "Add account");
  const connectButton = h("button", { type: "button", class: "primary", onclick: () => onConnect() }, "Connect");
  const connectStatus = h("div", { class: "connect-status", "aria-live": "polite" });

  const syncServer = () => {
    const chosen = network.control.value;
    const how = connectable.get(chosen);
    // A network Handpost cannot send to is published by hand, or not at all.
    const noApi = networks.get(chosen)?.has_api === false;
    mode.control.querySelector('option[value="sandbox"]').disabled = noApi;
    if (noApi) mode.control.value = "hand";
    const byHand = mode.control.value === "hand";
    baseUrl.wrap.hidden = !byHand && !SERVER_NETWORKS.has(chosen);
    const blog = chosen === "wordpress" || chosen === "ghost";
    baseUrl.label.firstChild.textContent = byHand ? "Where to publish" : blog ? "Site" : "Server";
    baseUrl.control.placeholder = byHand
      ? "https://www.facebook.com/groups/…"
      : blog ? "https://blog.example.org" : "https://fosstodon.org";
    appPassword.wrap.hidden = byHand || (chosen !== "bluesky" && chosen !== "ghost");
    // The same secret field: Bluesky's app password, or a Ghost integration's key.
    appPassword.label.firstChild.textContent = chosen === "ghost" ? "Admin API key" : "App password";
    credentials.wrap.hidden = byHand;
    const name = store.networkName(chosen);
    connectButton.textContent = `Connect ${name}`;
    connectButton.hidden = byHand || !how || !how.configured;
    connectStatus.replaceChildren(...(byHand ? [] : connectHelp(how, name)));
  };
  network.control.addEventListener("change", syncServer);
  mode.control.addEventListener("change", syncServer);
  syncServer();
  // The sphere says what the purpose is, unless the user wrote their own.
  let suggestedPurpose = "";
  sphere.control.addEventListener("change", () => {
    sphere.hint.textContent = sphereHint(sphere.control.value);
    const current = purpose.control.value.trim();
    if (!current || current === suggestedPurpose) {
      suggestedPurpose = sphere.control.value ? sphereLabel(sphere.control.value).toLowerCase() : "";
      purpose.control.value = suggestedPurpose;
    }
  });

  function connectHelp(how, name) {
    if (!how) return [];
    if (!how.configured) {
      return [
        h(
          "p",
          { class: "notice notice-info" },
          `${name} is not set up on this server. Its administrator registers an app with ${name} `,
          "and sets its client id and secret (see ",
          h("a", { href: how.docs_url, target: "_blank", rel: "noopener" }, DOCS),
          "). Redirect URI to register: ",
          h("code", {}, how.redirect_uri || ""),
          ". You can still add the account in sandbox mode.",
        ),
      ];
    }
    const parts = [how.notes];
    if (how.kind === "oauth") parts.unshift(`Connect takes you to ${name} to allow Handpost, then back here.`);
    if (how.kind === "instance") parts.unshift("Type your instance under Server, then Connect.");
    if (how.kind === "site") parts.unshift("Type your site's address under Server, then Connect.");
    if (how.kind === "admin_key") parts.unshift("Type your site's address under Server and paste the key, then Connect.");
    if (how.kind === "app_password") parts.unshift("Give your handle and an app password, then Connect.");
    return [h("p", { class: "hint" }, parts.join(" "))];
  }

  function profile() {
    const body = { purpose: purpose.control.value.trim(), audience: audience.control.value.trim() };
    if (sphere.control.value) body.sphere = sphere.control.value;
    return body;
  }

  function requireProfile(extra = []) {
    const body = profile();
    const missing = [
      ["purpose", "Say why you use this network."],
      ["audience", "Say who reads you there."],
      ...extra,
    ].filter(([name]) => !(body[name] ?? fields[name].control.value.trim()));
    for (const [name, message] of missing) showError(fields[name], message);
    if (missing.length) fields[missing[0][0]].control.focus();
    return missing.length ? null : body;
  }

  async function onConnect() {
    formError.replaceChildren();
    for (const f of Object.values(fields)) clearError(f);
    const chosen = network.control.value;
    const extra = [];
    if (chosen === "mastodon") extra.push(["base_url", "Name your instance, such as fosstodon.org."]);
    if (chosen === "wordpress") extra.push(["base_url", "Give your site's address, such as blog.example.com."]);
    if (chosen === "ghost") {
      extra.push(["base_url", "Give your site's address."], ["app_password", "Paste the Admin API key."]);
    }
    if (chosen === "bluesky") {
      extra.push(["handle", "Enter your Bluesky handle."], ["app_password", "Paste an app password."]);
    }
    const body = requireProfile(extra);
    if (!body) return;
    connectButton.disabled = true;
    try {
      if (chosen === "bluesky") {
        const data = await connectBluesky({
          ...body,
          handle: handle.control.value.trim(),
          app_password: appPassword.control.value.trim(),
        });
        appPassword.control.value = "";
        announce(`Connected ${store.accountLabel(data)}.`);
        await draw(data.id);
        return;
      }
      if (chosen === "ghost") {
        const data = await connectGhost({
          ...body,
          site: baseUrl.control.value.trim(),
          admin_api_key: appPassword.control.value.trim(),
        });
        appPassword.control.value = "";
        announce(`Connected ${store.accountLabel(data)}.`);
        await draw(data.id);
        return;
      }
      if (chosen === "mastodon") body.instance = baseUrl.control.value.trim();
      if (chosen === "wordpress") body.site = baseUrl.control.value.trim();
      await startFlow({ network: chosen, ...body });
    } catch (error) {
      if (error.kind === "too-many-accounts") {
        formError.replaceChildren(tooMany(error));
        return;
      }
      const left = error.status === 422 ? showFieldErrors(error, { ...fields, instance: baseUrl, site: baseUrl, admin_api_key: appPassword }) : [null];
      if (left.length) formError.replaceChildren(errorBox(error));
    } finally {
      connectButton.disabled = false;
    }
  }

  async function onSubmit(event) {
    event.preventDefault();
    formError.replaceChildren();
    for (const f of Object.values(fields)) clearError(f);
    const body = {
      network: network.control.value,
      handle: handle.control.value.trim(),
      purpose: purpose.control.value.trim(),
      audience: audience.control.value.trim(),
      mode: mode.control.value,
    };
    if (sphere.control.value) body.sphere = sphere.control.value;
    if (!baseUrl.wrap.hidden && baseUrl.control.value.trim()) body.base_url = baseUrl.control.value.trim();
    const pasted = credentials.wrap.hidden ? "" : credentials.control.value.trim();
    if (pasted) {
      try {
        body.credentials = JSON.parse(pasted);
        body.mode = "live";
      } catch {
        showError(credentials, "This is not JSON: write it as {\"name\": \"value\", …}.");
        credentials.control.focus();
        return;
      }
    }
    const missing = [
      ["handle", "Enter the handle."],
      ["purpose", "Say why you use this network."],
      ["audience", "Say who reads you there."],
    ].filter(([name]) => !body[name]);
    for (const [name, message] of missing) showError(fields[name], message);
    if (missing.length) {
      fields[missing[0][0]].control.focus();
      return;
    }
    submit.disabled = true;
    try {
      const { data } = await api("/accounts", { method: "POST", body });
      announce(`Added ${store.accountLabel(data)}.`);
      for (const f of [handle, purpose, audience, baseUrl, credentials]) f.control.value = "";
      sphere.control.value = "";
      sphere.hint.textContent = sphereHint(null);
      suggestedPurpose = "";
      await draw();
      handle.control.focus();
    } catch (error) {
      if (error.kind === "too-many-accounts") {
        formError.replaceChildren(tooMany(error));
        return;
      }
      const left = error.status === 422 ? showFieldErrors(error, fields) : [null];
      if (left.length) formError.replaceChildren(errorBox(error));
    } finally {
      submit.disabled = false;
    }
  }

  // "A handful of networks, each for a purpose": the refusal in plain words, with the way out.
  function tooMany(error) {
    return h(
      "div",
      { class: "notice notice-error too-many", role: "alert" },
      h("p", { class: "notice-title" }, h("strong", {}, "You already have your handful of networks.")),
      h("p", {}, error.problem.detail || describeError(error)),
      h(
        "p",
        {},
        "Turn off “In use” on an account above to make room; its posts and publish log stay.",
      ),
    );
  }

  function drawInUse(accounts) {
    if (!strategy) return;
    const active = store.activeAccounts(accounts).length;
    const max = strategy.max_active_accounts;
    inUse.replaceChildren(
      h("strong", {}, `${active} of ${max}`),
      " networks in use.",
      active >= max ? " That is your handful: take one out of use before adding another." : "",
    );
  }

  async function afterSwitch(account) {
    await draw();
    formError.replaceChildren();
    refocusSwitch(list, account.id);
  }

  async function draw(highlight = null) {
    const [accounts, connections] = await Promise.all([
      store.loadAccounts({ fresh: true }),
      loadConnections(),
    ]);
    drawInUse(accounts);
    if (!accounts.length) {
      list.replaceChildren(emptyState("No accounts yet — add the first network you write for below."));
      return;
    }
    list.replaceChildren(
      h(
        "ul",
        { class: "cards" },
        accounts.map((a) => {
          const titleId = uid("acct");
          const resting = a.active === false;
          const toggle = activeSwitch(a, { describedBy: titleId, onChange: afterSwitch });
          return h(
            "li",
            {},
            h(
              "article",
              {
                class: `account-card net-edge-${a.network}${resting ? " resting-card" : ""}`,
                dataset: { account: a.id },
              },
              h(
                "div",
                { class: "network-head" },
                h(
                  "h3",
                  { id: titleId },
                  networkBadge(a.network, store.networkName(a.network)),
                  " ",
                  a.display_name || a.handle,
                  resting ? [" ", h("span", { class: "state state-resting" }, "Not in use")] : null,
                ),
                toggle.wrap,
              ),
              toggle.problem,
              h(
                "dl",
                { class: "facts" },
                h("dt", {}, "Sphere"),
                h("dd", {}, a.sphere ? sphereLabel(a.sphere) : h("span", { class: "hint" }, "Not chosen yet")),
                h("dt", {}, "Purpose"),
                h("dd", {}, a.purpose),
                h("dt", {}, "Audience"),
                h("dd", {}, a.audience),
                h("dt", {}, "Mode"),
                h(
                  "dd",
                  {},
                  MODE_LABELS[a.mode] || a.mode,
                ),
                a.base_url
                  ? [h("dt", {}, a.mode === "hand" ? "Where to publish" : "Server"), h("dd", {}, a.base_url)]
                  : null,
                accessFacts(a, connections.get(a.id), zone),
              ),
              a.status !== "active" ? needsReconnect(a, titleId) : null,
              h(
                "div",
                { class: "actions" },
                resting
                  ? null
                  : h(
                      "a",
                      { href: "#/compose", class: "button small secondary", "aria-describedby": titleId },
                      "Write a post",
                    ),
                a.mode === "live" && a.status === "active" && connectable.get(a.network)?.configured
                  ? reconnectButton(a, { describedBy: titleId, label: "Reconnect", onDone: () => draw(a.id) }).button
                  : null,
                h(
                  "button",
                  {
                    type: "button",
                    class: "small danger-outline",
                    "aria-describedby": titleId,
                    onclick: () => remove(a),
                  },
                  "Remove",
                ),
              ),
              a.mode === "live" ? historyDisclosure(a, zone) : null,
            ),
          );
        }),
      ),
    );
    if (highlight) {
      const card = list.querySelector(`[data-account="${highlight}"]`);
      const heading = card?.querySelector("h3");
      if (heading) {
        heading.setAttribute("tabindex", "-1");
        heading.focus();
      }
    }
  }

  function needsReconnect(account, titleId) {
    const { button, problem } = reconnectButton(account, { describedBy: titleId, onDone: () => draw(account.id) });
    return h(
      "div",
      { class: "notice notice-error needs-reconnect", role: "alert" },
      h("p", {}, h("strong", {}, "Needs reconnecting. "), account.status_message || "The network refused its access."),
      h("p", {}, "Reconnecting keeps this account, its history and its scheduled posts."),
      connectable.get(account.network)?.configured ? button : null,
      problem,
    );
  }

  async function remove(account) {
    const ok = await confirmDialog(
      `Remove ${store.accountLabel(account)}?`,
      "Only an account without posts can be removed; cancel its posts instead to keep their history.",
      "Remove account",
      { danger: true },
    );
    if (!ok) return;
    try {
      await api(`/accounts/${account.id}`, { method: "DELETE" });
      announce(`Removed ${store.accountLabel(account)}.`);
      await draw();
    } catch (error) {
      announce(describeError(error), { tone: "error" });
    }
  }

  main.append(
    h("div", { class: "page-head" }, pageHeading("Accounts")),
    h("p", { class: "lede" }, "A handful of networks, each for a purpose. Write every post for one of them."),
    inUse,
    list,
    h(
      "section",
      { class: "card", "aria-labelledby": "add-title" },
      h("h2", { id: "add-title" }, "Add an account"),
      h(
        "p",
        { class: "hint" },
        "Connect signs you in at the network, and the account publishes for real. Add account alone creates it in sandbox mode: Handpost records exactly what it would send, and sends nothing. Where a network has no publishing API, choose By hand: at each post's time Handpost tells you (see Calendar & webhooks for email and push), and you publish it yourself.",
      ),
      h(
        "form",
        { novalidate: true, onsubmit: onSubmit },
        h("div", { class: "row" }, network.wrap, handle.wrap),
        connectStatus,
        sphere.wrap,
        h("div", { class: "row" }, purpose.wrap, audience.wrap),
        mode.wrap,
        baseUrl.wrap,
        appPassword.wrap,
        h("details", { class: "advanced" }, h("summary", {}, "Advanced: paste credentials instead"), credentials.wrap),
        purposeList,
        formError,
        h("div", { class: "actions" }, connectButton, submit),
      ),
    ),
  );
  await draw(justConnected);
  if (justConnected) {
    const account = store.accountById(justConnected);
    if (account) announce(`Connected ${store.accountLabel(account)}.`);
  }
  return null;
}
