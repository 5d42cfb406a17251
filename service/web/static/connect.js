// Connecting accounts: the network's own sign-in (a redirect and back), Bluesky's app
// password, Reconnect, Facebook's Page choice, and what each account's access looks like.

import { api } from "./api.js";
import { h, pageHeading, uid } from "./dom.js";
import { formatDateTime } from "./format.js";
import * as store from "./store.js";
import { announce, describeError, errorBox, openDialog } from "./ui.js";

let connectNetworks = null; // Map network -> how it connects here

export async function loadConnectNetworks() {
  if (!connectNetworks) {
    const { data } = await api("/connect/networks");
    connectNetworks = new Map(data.map((n) => [n.network, n]));
  }
  return connectNetworks;
}

export async function loadConnections() {
  const { data } = await api("/connect/connections");
  return new Map(data.map((c) => [c.account_id, c]));
}

/**
 * Start the network's sign-in and leave for it. `body` is {network, purpose, audience,
 * sphere, instance} for a new account, or {network, account_id} to reconnect one. The
 * answer sets the cookie that lets this browser (and only this one) finish the flow.
 */
export async function startFlow(body) {
  const { data } = await api("/connect/flows", { method: "POST", body });
  window.location.assign(data.authorize_url);
}

/** Bluesky needs no redirect: the handle and an app password connect (or reconnect) it. */
export async function connectBluesky(body) {
  const { data } = await api("/connect/bluesky", { method: "POST", body });
  return data;
}

export async function connectGhost(body) {
  const { data } = await api("/connect/ghost", { method: "POST", body });
  return data;
}

/** Reconnect an account, keeping it with its posts and history. */
export async function reconnect(account) {
  if (account.network === "ghost") {
    const key = await askAppPassword(account, GHOST_KEY);
    if (!key) return null;
    const data = await connectGhost({ site: account.base_url, admin_api_key: key, account_id: account.id });
    announce(`Reconnected ${store.accountLabel(data)}.`);
    return data;
  }
  if (account.network === "bluesky") {
    const password = await askAppPassword(account);
    if (!password) return null;
    const data = await connectBluesky({
      handle: account.handle,
      app_password: password,
      account_id: account.id,
    });
    announce(`Reconnected ${store.accountLabel(data)}.`);
    return data;
  }
  await startFlow({ network: account.network, account_id: account.id });
  return null;
}

const BLUESKY_PASSWORD = {
  label: "App password",
  help: "Create a new app password in Bluesky (Settings → Privacy and security → App passwords) and paste it here.",
};
const GHOST_KEY = {
  label: "Admin API key",
  help: "Copy the Admin API key of a custom integration in Ghost (Settings → Integrations) and paste it here.",
};

function askAppPassword(account, words = BLUESKY_PASSWORD) {
  return openDialog(`Reconnect ${store.accountLabel(account)}`, (close) => {
    const id = uid("app-password");
    const input = h("input", { id, type: "password", autocomplete: "off", spellcheck: "false" });
    const form = h(
      "form",
      {
        onsubmit: (event) => {
          event.preventDefault();
          close(input.value.trim() || null);
        },
      },
      h("p", {}, words.help),
      h("div", { class: "field" }, h("label", { for: id }, words.label), input),
      h(
        "div",
        { class: "actions" },
        h("button", { type: "submit", class: "primary" }, "Reconnect"),
        h("button", { type: "button", class: "secondary", onclick: () => close(null) }, "Cancel"),
      ),
    );
    requestAnimationFrame(() => input.focus());
    return form;
  });
}

/** A Reconnect button that reports its own failures next to it. */
export function reconnectButton(account, { describedBy = null, onDone = null, label = "Reconnect" } = {}) {
  const problem = h("div", { class: "reconnect-problem" });
  const button = h(
    "button",
    {
      type: "button",
      class: "small primary",
      "aria-describedby": describedBy,
      onclick: async () => {
        problem.replaceChildren();
        button.disabled = true;
        try {
          const done = await reconnect(account);
          if (done && onDone) await onDone(done);
        } catch (error) {
          problem.replaceChildren(errorBox(error));
        } finally {
          button.disabled = false;
        }
      },
    },
    label,
  );
  return { button, problem };
}

/** What the account's access looks like: renewed automatically, or ending on a date. */
export function accessFacts(account, connection, zone) {
  if (account.mode !== "live" || !connection) return [];
  let words;
  if (connection.access_ends_at) {
    words = h(
      "span",
      { class: "tag-warn" },
      `Ends ${formatDateTime(connection.access_ends_at, zone)}: reconnect before then (${store.networkName(account.network)} gives no way to renew it).`,
    );
  } else if (connection.refreshable) {
    words = "Renewed automatically";
  } else {
    words = "Does not expire";
  }
  return [h("dt", {}, "Access"), h("dd", {}, words)];
}

/** The account's log of connects, renewals, failures and warnings, loaded when opened. */
export function historyDisclosure(account, zone) {
  const list = h("ol", { class: "events" });
  const details = h("details", { class: "history" }, h("summary", {}, "Connection history"), list);
  details.addEventListener("toggle", async () => {
    if (!details.open || list.dataset.loaded) return;
    try {
      const { data } = await api(`/accounts/${account.id}/events?limit=20`);
      list.dataset.loaded = "1";
      list.replaceChildren(
        ...(data.items.length
          ? data.items.map((e) =>
              h(
                "li",
                { class: `event event-${e.kind}` },
                h("time", { datetime: e.at }, formatDateTime(e.at, zone)),
                " ",
                e.message,
              ),
            )
          : [h("li", {}, "Nothing yet.")]),
      );
    } catch (error) {
      list.replaceChildren(h("li", {}, describeError(error)));
    }
  });
  return details;
}

/** Facebook: back from Facebook, choose which Page to connect. */
export async function renderConnectChoice(main, { params }) {
  const [flowId] = params;
  const { data: flow } = await api(`/connect/flows/${flowId}`);
  const name = store.networkName(flow.network);
  main.append(pageHeading(`Choose a ${name} Page`));
  if (flow.status !== "choosing" || !flow.pages.length) {
    main.append(
      h("p", { class: "notice notice-error", role: "alert" }, "This connection is finished or has expired. Start again from the accounts page."),
      h("a", { href: "#/accounts", class: "button" }, "Back to your accounts"),
    );
    return null;
  }
  const legendId = uid("pages");
  const choices = flow.pages.map((p, index) => {
    const id = uid("page");
    return h(
      "div",
      { class: "choice" },
      h("input", { type: "radio", name: "page", id, value: p.id, checked: index === 0 }),
      " ",
      h("label", { for: id }, p.name),
    );
  });
  const problem = h("div", {});
  const submit = h("button", { type: "submit", class: "primary" }, "Connect this Page");
  const form = h(
    "form",
    {
      onsubmit: async (event) => {
        event.preventDefault();
        const chosen = form.querySelector("input[name=page]:checked");
        submit.disabled = true;
        problem.replaceChildren();
        try {
          const { data } = await api(`/connect/flows/${flowId}/page`, {
            method: "POST",
            body: { page_id: chosen.value },
          });
          window.location.hash = `#/accounts?connected=${data.id}`;
        } catch (error) {
          problem.replaceChildren(errorBox(error));
          submit.disabled = false;
        }
      },
    },
    h("fieldset", { "aria-labelledby": legendId }, h("legend", { id: legendId }, "Your Pages"), choices),
    problem,
    h("div", { class: "actions" }, submit, h("a", { href: "#/accounts", class: "button secondary" }, "Cancel")),
  );
  main.append(
    h("p", { class: "lede" }, `${name} lists the Pages you manage. Handpost posts to the one you choose, with its own Page token.`),
    form,
  );
  return null;
}
