// Accounts: the handful of networks the user writes for, each with a purpose and an audience.

import { api } from "./api.js";
import { clearError, emptyState, field, h, pageHeading, select, showError, uid } from "./dom.js";
import * as store from "./store.js";
import { announce, confirmDialog, describeError, errorBox, networkBadge } from "./ui.js";
import { showFieldErrors } from "./actions.js";
import { activeSwitch, refocusSwitch, sphereHint, sphereLabel, sphereSelect } from "./strategy-parts.js";

const PURPOSES = ["family and friends", "colleagues", "professionals", "society"];
// Networks where the user's own server matters (a Mastodon instance, a Bluesky PDS).
const SERVER_NETWORKS = new Set(["mastodon", "bluesky"]);
const MODE_LABELS = {
  sandbox: "Sandbox: records what it would send, sends nothing",
  live: "Live",
  hand: "By hand: you are told when a post is due, and publish it yourself",
};

export async function renderAccounts(main) {
  const networks = await store.loadNetworks();
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
    hint: "Your username, page id or DID on that network.",
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
  const fields = { network, handle, sphere, purpose, audience, mode, base_url: baseUrl };
  const formError = h("div", { class: "form-error", id: uid("add-problem") });
  const submit = h("button", { type: "submit", class: "primary" }, "Add account");

  const syncServer = () => {
    // A network Handpost cannot send to is published by hand, or not at all.
    const noApi = networks.get(network.control.value)?.has_api === false;
    mode.control.querySelector('option[value="sandbox"]').disabled = noApi;
    if (noApi) mode.control.value = "hand";
    const byHand = mode.control.value === "hand";
    baseUrl.wrap.hidden = !byHand && !SERVER_NETWORKS.has(network.control.value);
    baseUrl.label.firstChild.textContent = byHand ? "Where to publish" : "Server";
    baseUrl.control.placeholder = byHand ? "https://www.facebook.com/groups/…" : "https://fosstodon.org";
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
      for (const f of [handle, purpose, audience, baseUrl]) f.control.value = "";
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

  async function draw() {
    const accounts = await store.loadAccounts({ fresh: true });
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
              { class: `account-card net-edge-${a.network}${resting ? " resting-card" : ""}` },
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
              ),
              a.status !== "active"
                ? h(
                    "p",
                    { class: "notice notice-error" },
                    a.status_message || "This account needs reconnecting.",
                  )
                : null,
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
            ),
          );
        }),
      ),
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
        "New accounts start in sandbox mode: Handpost records exactly what it would send, and sends nothing. Live credentials are added through the API. Where a network has no publishing API, choose By hand: at each post's time Handpost tells you (see Calendar & webhooks for email and push), and you publish it yourself.",
      ),
      h(
        "form",
        { novalidate: true, onsubmit: onSubmit },
        h("div", { class: "row" }, network.wrap, handle.wrap),
        sphere.wrap,
        h("div", { class: "row" }, purpose.wrap, audience.wrap),
        mode.wrap,
        baseUrl.wrap,
        purposeList,
        formError,
        h("div", { class: "actions" }, submit),
      ),
    ),
  );
  await draw();
  return null;
}
