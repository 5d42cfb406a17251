// Handpost's front end: a hash router over seven screens, all talking to /api/v1.

import { api, token } from "./api.js";
import { clear, h } from "./dom.js";
import { announce, errorBox } from "./ui.js";
import * as store from "./store.js";
import { renderLogin } from "./login.js";
import { renderCompose } from "./compose.js";
import { renderQueue } from "./queue.js";
import { renderLog } from "./log.js";
import { renderAccounts } from "./accounts.js";
import { renderConnectChoice } from "./connect.js";
import { renderStrategy } from "./strategy.js";
import { renderIntegrations } from "./integrations.js";

const ROUTES = [
  { pattern: /^#\/login$/, render: renderLogin, title: "Log in", public: true },
  { pattern: /^#\/compose(?:\/([\w-]+))?$/, render: renderCompose, title: "Compose", nav: "compose" },
  { pattern: /^#\/queue$/, render: renderQueue, title: "Queue", nav: "queue" },
  { pattern: /^#\/log$/, render: renderLog, title: "Publish log", nav: "log" },
  { pattern: /^#\/accounts(?:\?connected=([0-9a-f]{1,32}))?$/, render: renderAccounts, title: "Accounts", nav: "accounts" },
  { pattern: /^#\/connect\/([0-9a-f]{1,32})$/, render: renderConnectChoice, title: "Choose a Page", nav: "accounts" },
  { pattern: /^#\/strategy$/, render: renderStrategy, title: "Strategy", nav: "strategy" },
  { pattern: /^#\/integrations$/, render: renderIntegrations, title: "Calendar & webhooks", nav: "integrations" },
];
const HOME = "#/queue";

const main = document.getElementById("main");
const nav = document.getElementById("nav");
const userBox = document.getElementById("user");
let cleanup = null;
let renderCount = 0;
let afterLogin = HOME;

function showSignedIn(me) {
  nav.hidden = !me;
  userBox.hidden = !me;
  document.getElementById("username").textContent = me ? me.username : "";
}

async function route() {
  const hash = location.hash || HOME;
  const match = ROUTES.map((r) => ({ r, m: hash.match(r.pattern) })).find((x) => x.m);
  if (!match) {
    location.replace(HOME);
    return;
  }
  const { r, m } = match;
  if (!r.public && !token.get()) {
    afterLogin = hash;
    location.replace("#/login");
    return;
  }
  if (r.public && token.get()) {
    location.replace(HOME);
    return;
  }
  if (cleanup) cleanup();
  cleanup = null;
  const mine = ++renderCount;
  document.title = `${r.title} · Handpost`;
  for (const link of nav.querySelectorAll("a")) {
    if (link.dataset.nav === r.nav) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  clear(main);
  main.setAttribute("aria-busy", "true");
  try {
    if (!r.public) await Promise.all([store.loadNetworks(), ensureMe()]);
    if (mine !== renderCount) return;
    const result = await r.render(main, { params: m.slice(1), afterLogin: () => afterLogin });
    if (mine !== renderCount) {
      if (typeof result === "function") result();
      return;
    }
    cleanup = typeof result === "function" ? result : null;
  } catch (error) {
    if (mine !== renderCount || error.status === 401) return;
    clear(main).append(
      h("h1", { class: "page-title", tabindex: "-1" }, r.title),
      errorBox(error, [
        h("button", { type: "button", class: "secondary", onclick: () => route() }, "Try again"),
      ]),
    );
  } finally {
    if (mine === renderCount) main.removeAttribute("aria-busy");
  }
  if (mine === renderCount) {
    // Focus the new screen's heading: keyboard and screen-reader users start at the top.
    const heading = main.querySelector("h1");
    if (heading && !main.contains(document.activeElement)) heading.focus({ preventScroll: true });
  }
}

let me = null;
async function ensureMe() {
  if (!me) {
    me = (await api("/me")).data;
    showSignedIn(me);
  }
  return me;
}

async function logout() {
  try {
    await api("/auth/logout", { method: "POST" });
  } catch {
    // Logging out locally is what matters; an expired token cannot be revoked anyway.
  }
  signedOut();
  announce("You are logged out.");
}

function signedOut() {
  token.clear();
  me = null;
  store.forgetAll();
  showSignedIn(null);
  if (location.hash !== "#/login") {
    afterLogin = location.hash && location.hash !== "#/login" ? location.hash : HOME;
    location.hash = "#/login";
  }
}

// Any 401 (expired or revoked token) sends the user to the login, then back to where they were.
window.addEventListener("handpost:unauthenticated", () => {
  signedOut();
  announce("Your session ended. Log in again to continue.", { tone: "error" });
});
window.addEventListener("handpost:signed-in", () => {
  me = null;
  location.hash = afterLogin && afterLogin !== "#/login" ? afterLogin : HOME;
  afterLogin = HOME;
});
window.addEventListener("hashchange", route);
// The skip link must not change the hash: the router owns it.
document.querySelector(".skip-link").addEventListener("click", (event) => {
  event.preventDefault();
  main.focus();
});
document.getElementById("logout").addEventListener("click", logout);
route();
