// Pieces several screens use: the live status line, error boxes and modal dialogs.

import { h } from "./dom.js";

const STATUS_MS = 8000;
let statusTimer = null;

/** Say something to everyone: shown in the status bar and read by screen readers. */
export function announce(message, { tone = "info" } = {}) {
  const status = document.getElementById("status");
  status.dataset.tone = tone;
  // Clearing first makes screen readers repeat a message that is the same as the last one.
  status.textContent = "";
  clearTimeout(statusTimer);
  requestAnimationFrame(() => {
    status.textContent = message;
    statusTimer = setTimeout(() => {
      status.textContent = "";
    }, STATUS_MS);
  });
}

/** Plain words for an error, with the problem's own explanation where it has one. */
export function describeError(error) {
  if (!error || !error.problem) return "Something went wrong. Try again.";
  const { problem, status } = error;
  if (status === 0) return problem.detail;
  if (status === 429 && error.headers?.get("Retry-After")) {
    return `${problem.detail || "Too many requests."}`;
  }
  // A problem the service foresaw (busy, a network that did not answer, no secret key) says
  // what it is; only an unforeseen error gets the generic words.
  if (status >= 500 && (error.kind === "internal-error" || !problem.detail)) {
    return "Handpost hit an internal error. Nothing was changed; try again in a moment.";
  }
  return problem.detail || problem.title || `Handpost answered ${status}.`;
}

/** An alert box for an error; `actions` are extra buttons (e.g. Reload). */
export function errorBox(error, actions = []) {
  return h(
    "div",
    { class: "notice notice-error", role: "alert" },
    h("p", {}, describeError(error)),
    actions.length ? h("div", { class: "actions" }, actions) : null,
  );
}

/**
 * A modal <dialog>: Esc and "Close" close it, focus returns to where it was.
 * `build(close)` returns the dialog's content. Resolves with what close() was given.
 */
export function openDialog(title, build) {
  const opener = document.activeElement;
  return new Promise((resolve) => {
    const heading = h("h2", { id: `dialog-title-${Date.now()}` }, title);
    const dialog = h("dialog", { class: "dialog", "aria-labelledby": heading.id });
    let result;
    const close = (value) => {
      result = value;
      dialog.close();
    };
    dialog.addEventListener("close", () => {
      dialog.remove();
      if (opener && opener.isConnected) opener.focus();
      resolve(result);
    });
    dialog.append(heading, build(close));
    document.body.append(dialog);
    dialog.showModal();
  });
}

export function confirmDialog(title, message, confirmLabel, { danger = false } = {}) {
  return openDialog(title, (close) =>
    h(
      "div",
      {},
      h("p", {}, message),
      h(
        "div",
        { class: "actions" },
        h(
          "button",
          { type: "button", class: danger ? "danger" : "primary", onclick: () => close(true) },
          confirmLabel,
        ),
        h("button", { type: "button", class: "secondary", onclick: () => close(false) }, "Keep it"),
      ),
    ),
  );
}

/** A short "network" tag with the network's name; colour comes from CSS per network. */
export function networkBadge(network, name) {
  return h("span", { class: `badge net-${network}` }, name);
}

export function stateBadge(state) {
  return h("span", { class: `state state-${state}` }, state);
}

/** Copy to the clipboard; where the Clipboard API is refused (plain HTTP), `select()` the text
 * on the page instead and say how to copy it. */
export async function copyToClipboard(text, select, done = "Copied.") {
  try {
    await navigator.clipboard.writeText(text);
    announce(done);
  } catch {
    select();
    announce("Select the text and copy it (Ctrl+C or ⌘C).");
  }
}
