// Calendar & webhooks: the schedule in the person's own calendar, and signed events for their
// own scripts. Secrets (the feed's address, a webhook's signing secret) are shown once.

import { api } from "./api.js";
import { showFieldErrors } from "./actions.js";
import { clearError, emptyState, field, h, pageHeading, showError, uid } from "./dom.js";
import { capitalise, formatDateTime, formatDuration, snippet } from "./format.js";
import * as store from "./store.js";
import { announce, confirmDialog, copyToClipboard, errorBox } from "./ui.js";

const LOG_PAGE = 25;
const LOG_POLL_MS = 2000;

export async function renderIntegrations(main) {
  const [eventTypes, initialHooks, initialFeed, initialNotify] = await Promise.all([
    api("/webhooks/event-types").then((r) => r.data),
    api("/webhooks").then((r) => r.data),
    loadFeed(),
    api("/notification-settings").then((r) => r.data),
  ]);
  const calendar = calendarSection(initialFeed);
  const hooks = webhookSection(eventTypes, initialHooks);
  main.append(
    h("div", { class: "page-head" }, pageHeading("Calendar & webhooks")),
    h(
      "p",
      { class: "lede" },
      "See your schedule in the calendar you already use, and let your own scripts react when a post goes out, fails or needs you.",
    ),
    notificationSection(initialNotify),
    calendar.element,
    hooks.element,
  );
  return hooks.cleanup;
}

// --- notifications for posts published by hand --------------------------------------------

function notificationSection(initial) {
  const email = field({
    label: "Email",
    optional: true,
    control: h("input", { type: "email", name: "email", value: initial.email ?? "", autocomplete: "email" }),
    hint: initial.email_available
      ? "Where Handpost writes when a post you publish by hand is due."
      : "This install sends no email yet (its administrator sets HANDPOST_SMTP_HOST).",
  });
  const push = field({
    label: "Push address",
    optional: true,
    control: h("input", {
      type: "url",
      name: "push_url",
      inputmode: "url",
      value: initial.push_url ?? "",
      placeholder: "https://ntfy.sh/your-secret-topic",
    }),
    hint: "An ntfy topic, or any address that takes a POST of plain text.",
  });
  const fields = { email, push_url: push };
  const problem = h("div", { class: "form-error" });
  const submit = h("button", { type: "submit", class: "primary" }, "Save");
  async function onSubmit(event) {
    event.preventDefault();
    problem.replaceChildren();
    for (const f of Object.values(fields)) clearError(f);
    submit.disabled = true;
    try {
      await api("/notification-settings", {
        method: "PUT",
        body: {
          email: email.control.value.trim() || null,
          push_url: push.control.value.trim() || null,
        },
      });
      announce("Saved where to tell you.");
    } catch (error) {
      const left = error.status === 422 ? showFieldErrors(error, fields) : [null];
      if (left.length) problem.replaceChildren(errorBox(error));
    } finally {
      submit.disabled = false;
    }
  }
  return h(
    "section",
    { class: "card", "aria-labelledby": "notify-title" },
    h("h2", { id: "notify-title" }, "When a post is due by hand"),
    h(
      "p",
      { class: "hint" },
      "For accounts you publish by hand, Handpost tells you at each post's time, and the queue shows it with its text ready to copy.",
    ),
    h(
      "form",
      { novalidate: true, onsubmit: onSubmit },
      h("div", { class: "row" }, email.wrap, push.wrap),
      problem,
      h("div", { class: "actions" }, submit),
    ),
  );
}

async function loadFeed() {
  try {
    return (await api("/calendar-feed")).data;
  } catch (error) {
    if (error.status === 404) return null;
    throw error;
  }
}

/** A secret shown once: a read-only field with Copy, and what to do with it. */
function secretBox({ label, value, hint, extra = null }) {
  const id = uid("secret");
  const input = h("input", { id, type: "text", readonly: true, value, spellcheck: "false", class: "secret-value" });
  input.addEventListener("focus", () => input.select());
  const copy = h(
    "button",
    {
      type: "button",
      class: "secondary small",
      onclick: () =>
        copyToClipboard(
          value,
          () => {
            input.focus();
            input.select();
          },
          `Copied the ${label.toLowerCase()}.`,
        ),
    },
    "Copy",
  );
  return h(
    "div",
    { class: "notice notice-info secret-box" },
    h("label", { for: id }, label),
    h("div", { class: "secret-row" }, input, copy, extra),
    h("p", { class: "hint" }, hint),
  );
}

// --- the calendar feed -------------------------------------------------------------------------

function calendarSection(initial) {
  let feed = initial;
  let shown = null; // the address just made, shown until the screen is left
  const body = h("div", { class: "calendar-body" });
  const element = h(
    "section",
    { class: "card", "aria-labelledby": "calendar-title" },
    h("h2", { id: "calendar-title" }, "Calendar feed"),
    h(
      "p",
      {},
      "A private address your calendar application subscribes to: every scheduled post is an event, with how recent posts went. Posts you publish by hand come with a reminder.",
    ),
    body,
  );

  async function act(path, method, message) {
    try {
      const { data } = await api(path, { method });
      feed = data;
      shown = data.url;
      announce(message);
    } catch (error) {
      body.prepend(errorBox(error));
      return;
    }
    draw();
    body.querySelector(".secret-value")?.focus();
  }

  function draw() {
    const tz = store.preferredTimeZone();
    if (!feed) {
      body.replaceChildren(
        h(
          "div",
          { class: "actions" },
          h(
            "button",
            {
              type: "button",
              class: "primary",
              onclick: () => act("/calendar-feed", "POST", "Your calendar link is ready. Copy it now."),
            },
            "Create calendar link",
          ),
        ),
      );
      return;
    }
    body.replaceChildren(
      shown
        ? secretBox({
            label: "Calendar link",
            value: shown,
            hint: "Shown once: add it to your calendar now (subscribe to a calendar by URL). Anyone with this link can read your schedule; make a new one if it leaks.",
            extra: h(
              "a",
              { class: "button secondary small", href: shown.replace(/^https?:/, "webcal:") },
              "Subscribe",
            ),
          })
        : null,
      h(
        "dl",
        { class: "facts" },
        h("dt", {}, "Link made"),
        h("dd", {}, formatDateTime(feed.created_at, tz)),
        h("dt", {}, "Last fetched"),
        h(
          "dd",
          { class: "last-fetched" },
          feed.last_fetched_at ? formatDateTime(feed.last_fetched_at, tz) : "Not yet by any calendar",
        ),
      ),
      shown ? null : h("p", { class: "hint" }, "The link is shown only when it is made. Lost it? Make a new one."),
      h(
        "div",
        { class: "actions" },
        h(
          "button",
          {
            type: "button",
            class: "secondary",
            onclick: async () => {
              const sure = await confirmDialog(
                "Make a new calendar link?",
                "The current link stops working at once; calendars subscribed to it stop updating until you give them the new one.",
                "Make a new link",
              );
              if (sure) await act("/calendar-feed/rotate", "POST", "A new calendar link is ready; the old one no longer works.");
            },
          },
          "Make a new link",
        ),
        h(
          "button",
          {
            type: "button",
            class: "danger-outline",
            onclick: async () => {
              const sure = await confirmDialog(
                "Turn the calendar feed off?",
                "The link stops working at once. You can make a new one later.",
                "Turn it off",
                { danger: true },
              );
              if (!sure) return;
              try {
                await api("/calendar-feed", { method: "DELETE" });
              } catch (error) {
                body.prepend(errorBox(error));
                return;
              }
              feed = null;
              shown = null;
              announce("The calendar feed is off; its link no longer works.");
              draw();
            },
          },
          "Turn off",
        ),
      ),
    );
  }

  draw();
  return { element };
}

// --- webhooks ----------------------------------------------------------------------------------

function webhookSection(eventTypes, initialHooks) {
  let hooks = initialHooks;
  const secrets = new Map(); // webhook id -> secret just made or rotated, shown until left
  const openLogs = new Map(); // webhook id -> {attempts, cursor, loaded}
  const logSlots = new Map(); // webhook id -> the element its delivery log is drawn in
  const list = h("div", { class: "webhook-list" });
  const formError = h("div", { class: "form-error" });

  const url = field({
    label: "Endpoint URL",
    control: h("input", { name: "url", type: "url", inputmode: "url", autocomplete: "off", placeholder: "https://example.org/handpost-hook" }),
    hint: "Handpost POSTs each event here as JSON, signed. Private and local addresses are refused unless this server allows them.",
  });
  const description = field({
    label: "Description",
    optional: true,
    control: h("input", { name: "description", maxlength: "200", autocomplete: "off" }),
  });
  const choices = h(
    "fieldset",
    { class: "event-choices" },
    h("legend", {}, "Events"),
    eventTypes.map((t) => {
      const id = uid("event");
      return h(
        "div",
        { class: "check-option" },
        h("input", { type: "checkbox", id, name: "events", value: t.type, checked: true }),
        h("label", { for: id }, h("code", {}, t.type), " ", h("span", { class: "hint" }, t.description)),
      );
    }),
  );
  const eventsError = h("p", { class: "field-error", hidden: true });
  choices.append(eventsError);
  const submit = h("button", { type: "submit", class: "primary" }, "Add webhook");

  async function add(event) {
    event.preventDefault();
    formError.replaceChildren();
    clearError(url);
    clearError(description);
    eventsError.hidden = true;
    const chosen = [...choices.querySelectorAll("input:checked")].map((c) => c.value);
    if (!url.control.value.trim()) {
      showError(url, "Give the address of your endpoint.");
      url.control.focus();
      return;
    }
    if (!chosen.length) {
      eventsError.textContent = "Choose at least one event.";
      eventsError.hidden = false;
      choices.querySelector("input")?.focus();
      return;
    }
    const body = { url: url.control.value.trim(), events: chosen };
    if (description.control.value.trim()) body.description = description.control.value.trim();
    submit.disabled = true;
    try {
      const { data } = await api("/webhooks", { method: "POST", body });
      secrets.set(data.id, data.secret);
      hooks = [...hooks, data];
      url.control.value = "";
      description.control.value = "";
      announce("Webhook added. Copy its signing secret now.");
      draw();
      list.querySelector(`[data-webhook="${data.id}"] .secret-value`)?.focus();
    } catch (error) {
      const left = error.status === 422 ? showFieldErrors(error, { url, description }) : [null];
      if (left.length) formError.replaceChildren(errorBox(error));
    } finally {
      submit.disabled = false;
    }
  }

  const form = h(
    "form",
    { class: "add-webhook", novalidate: true, onsubmit: add, "aria-labelledby": "add-webhook-title" },
    h("h3", { id: "add-webhook-title" }, "Add a webhook"),
    url.wrap,
    description.wrap,
    choices,
    formError,
    h("div", { class: "actions" }, submit),
  );

  const element = h(
    "section",
    { class: "card", "aria-labelledby": "webhooks-title" },
    h("h2", { id: "webhooks-title" }, "Webhooks"),
    h(
      "p",
      {},
      "Handpost tells your scripts what happened, as it happens: each event is signed following ",
      h("a", { href: "https://www.standardwebhooks.com", target: "_blank", rel: "noopener" }, "Standard Webhooks"),
      " (headers webhook-id, webhook-timestamp and webhook-signature), and retried with growing pauses if your endpoint does not answer 2xx.",
    ),
    list,
    form,
  );

  /** Draw every card again; focus goes back to the button that was used, if any. */
  function draw(focus = null) {
    logSlots.clear();
    if (!hooks.length) {
      list.replaceChildren(emptyState("No webhooks yet."));
      return;
    }
    list.replaceChildren(h("ul", { class: "cards" }, hooks.map((hook) => h("li", {}, hookCard(hook)))));
    if (focus) list.querySelector(`[data-webhook="${focus.id}"] [data-action="${focus.action}"]`)?.focus();
  }

  function drawLog(hookId) {
    const slot = logSlots.get(hookId);
    const hook = hooks.find((x) => x.id === hookId);
    const log = openLogs.get(hookId);
    if (slot && hook) slot.replaceChildren(log ? logTable(hook, log) : "");
  }

  function replace(updated) {
    hooks = hooks.map((x) => (x.id === updated.id ? updated : x));
  }

  function hookCard(hook) {
    const titleId = uid("hook");
    const secret = secrets.get(hook.id);
    const log = openLogs.get(hook.id);
    const problem = h("div", { class: "form-error" });
    const slot = h("div", { class: "delivery-log-slot" }, log ? logTable(hook, log) : null);
    logSlots.set(hook.id, slot);
    const run = async (work) => {
      problem.replaceChildren();
      try {
        await work();
      } catch (error) {
        problem.replaceChildren(errorBox(error));
      }
    };
    return h(
      "article",
      { class: `webhook-card${hook.enabled ? "" : " disabled"}`, dataset: { webhook: hook.id } },
      h(
        "h3",
        { id: titleId, class: "webhook-url" },
        hook.url,
        hook.enabled ? null : h("span", { class: "state state-off" }, "off"),
      ),
      hook.description ? h("p", { class: "hint" }, hook.description) : null,
      h("p", { class: "webhook-events" }, "Events: ", hook.events.map((e, i) => [i ? ", " : "", h("code", {}, e)])),
      secret
        ? secretBox({
            label: "Signing secret",
            value: secret,
            hint: "Shown once: your endpoint verifies each event's webhook-signature with it (any Standard Webhooks library does). Only an encrypted copy is kept here.",
          })
        : null,
      problem,
      h(
        "div",
        { class: "actions" },
        h(
          "button",
          {
            type: "button",
            class: "small primary",
            "aria-describedby": titleId,
            disabled: !hook.enabled,
            dataset: { action: "test" },
            onclick: () =>
              run(async () => {
                await api(`/webhooks/${hook.id}/test`, { method: "POST" });
                announce("Test event queued; its delivery shows in the log within seconds.");
                if (!openLogs.has(hook.id)) {
                  openLogs.set(hook.id, { attempts: [], cursor: null, loaded: false });
                  draw({ id: hook.id, action: "test" });
                }
                await loadLog(hook.id);
              }),
          },
          "Send test event",
        ),
        h(
          "button",
          {
            type: "button",
            class: "small secondary",
            "aria-describedby": titleId,
            "aria-expanded": log ? "true" : "false",
            dataset: { action: "log" },
            onclick: () =>
              run(async () => {
                if (openLogs.has(hook.id)) {
                  openLogs.delete(hook.id);
                } else {
                  openLogs.set(hook.id, { attempts: [], cursor: null, loaded: false });
                }
                draw({ id: hook.id, action: "log" });
                await loadLog(hook.id);
              }),
          },
          log ? "Hide delivery log" : "Delivery log",
        ),
        h(
          "button",
          {
            type: "button",
            class: "small secondary",
            "aria-describedby": titleId,
            dataset: { action: "toggle" },
            onclick: () =>
              run(async () => {
                const { data } = await api(`/webhooks/${hook.id}`, { method: "PATCH", body: { enabled: !hook.enabled } });
                replace(data);
                announce(data.enabled ? "Webhook turned on." : "Webhook turned off: it gets no events.");
                draw({ id: hook.id, action: "toggle" });
              }),
          },
          hook.enabled ? "Turn off" : "Turn on",
        ),
        h(
          "button",
          {
            type: "button",
            class: "small secondary",
            "aria-describedby": titleId,
            onclick: () =>
              run(async () => {
                const sure = await confirmDialog(
                  "Make a new signing secret?",
                  "For the next 24 hours each event is signed with both the old and the new secret, so your endpoint can switch without missing any.",
                  "Make a new secret",
                );
                if (!sure) return;
                const { data } = await api(`/webhooks/${hook.id}/rotate-secret`, { method: "POST" });
                secrets.set(hook.id, data.secret);
                replace({ ...hook, previous_secret_until: data.previous_secret_until });
                announce("New signing secret made. Copy it now.");
                draw();
                list.querySelector(`[data-webhook="${hook.id}"] .secret-value`)?.focus();
              }),
          },
          "New secret",
        ),
        h(
          "button",
          {
            type: "button",
            class: "small danger-outline",
            "aria-describedby": titleId,
            onclick: () =>
              run(async () => {
                const sure = await confirmDialog(
                  "Delete this webhook?",
                  `${hook.url} gets no more events, and its delivery log is deleted.`,
                  "Delete",
                  { danger: true },
                );
                if (!sure) return;
                await api(`/webhooks/${hook.id}`, { method: "DELETE" });
                hooks = hooks.filter((x) => x.id !== hook.id);
                secrets.delete(hook.id);
                openLogs.delete(hook.id);
                announce("Webhook deleted.");
                draw();
                element.querySelector("h2")?.focus();
              }),
          },
          "Delete",
        ),
      ),
      slot,
    );
  }

  async function loadLog(hookId, { older = false } = {}) {
    const state = openLogs.get(hookId);
    if (!state) return;
    const q = new URLSearchParams({ limit: String(LOG_PAGE) });
    if (older && state.cursor) q.set("cursor", state.cursor);
    const { data } = await api(`/webhooks/${hookId}/attempts?${q}`);
    state.attempts = older ? [...state.attempts, ...data.items] : data.items;
    state.cursor = data.next_cursor;
    state.loaded = true;
    drawLog(hookId);
  }

  function logTable(hook, log) {
    const problem = h("div", { class: "form-error" });
    const run = async (work) => {
      problem.replaceChildren();
      try {
        await work();
      } catch (error) {
        problem.replaceChildren(errorBox(error));
      }
    };
    const tz = store.preferredTimeZone();
    if (!log.loaded) return h("p", { class: "hint" }, "Loading the delivery log…");
    if (!log.attempts.length)
      return h("p", { class: "hint delivery-log-empty" }, "No deliveries yet. Send a test event to see one.");
    return h(
      "div",
      { class: "delivery-log" },
      h("h4", {}, "Delivery log"),
      problem,
      h(
        "div",
        { class: "table-wrap" },
        h(
          "table",
          { class: "log-table" },
          h("caption", { class: "visually-hidden" }, `Deliveries to ${hook.url}, newest first`),
          h(
            "thead",
            {},
            h("tr", {}, ["Outcome", "Event", "Sent", "Answer", ""].map((x) => h("th", { scope: "col" }, x))),
          ),
          h(
            "tbody",
            {},
            log.attempts.map((a) =>
              h(
                "tr",
                { class: `outcome-${a.outcome}${a.outcome === "failed" ? " attention" : ""}` },
                h(
                  "td",
                  { "data-label": "Outcome" },
                  h("span", { class: `state state-${a.outcome === "delivered" ? "published" : a.outcome}` }, capitalise(a.outcome)),
                  a.attempt > 1 ? h("span", { class: "hint" }, ` attempt ${a.attempt}`) : null,
                ),
                h("td", { "data-label": "Event" }, h("code", {}, a.event_type), h("span", { class: "hint" }, a.event_id)),
                h(
                  "td",
                  { "data-label": "Sent" },
                  h("time", { datetime: a.started_at }, formatDateTime(a.started_at, tz, { seconds: true })),
                  h("span", { class: "hint" }, ` took ${formatDuration(a.duration_ms)}`),
                ),
                h(
                  "td",
                  { "data-label": "Answer" },
                  a.response_status ? h("strong", {}, `HTTP ${a.response_status}`) : null,
                  a.error ? h("p", { class: "plain" }, a.error) : null,
                  a.response_body ? h("p", { class: "hint response-body" }, snippet(a.response_body, 120)) : null,
                  a.next_attempt_at
                    ? h("p", { class: "hint" }, `Next try ${formatDateTime(a.next_attempt_at, tz, { seconds: true })}`)
                    : null,
                ),
                h(
                  "td",
                  { "data-label": "" },
                  a.outcome === "retrying"
                    ? null
                    : h(
                        "button",
                        {
                          type: "button",
                          class: "small secondary",
                          onclick: () =>
                            run(async () => {
                              await api(`/webhooks/${hook.id}/deliveries/${a.delivery_id}/redeliver`, { method: "POST" });
                              announce("Sent again shortly, as the same message.");
                              await loadLog(hook.id);
                            }),
                        },
                        "Redeliver",
                      ),
                ),
              ),
            ),
          ),
        ),
      ),
      h(
        "div",
        { class: "actions" },
        h("button", { type: "button", class: "small secondary", onclick: () => run(() => loadLog(hook.id)) }, "Refresh"),
        log.cursor
          ? h(
              "button",
              { type: "button", class: "small secondary", onclick: () => run(() => loadLog(hook.id, { older: true })) },
              "Show older",
            )
          : null,
      ),
    );
  }

  // Open logs follow new deliveries by themselves, unless the user is working inside one.
  const timer = setInterval(async () => {
    if (document.hidden || document.querySelector("dialog[open]")) return;
    for (const [id, slot] of logSlots) {
      if (!openLogs.has(id) || slot.contains(document.activeElement)) continue;
      try {
        await loadLog(id);
      } catch (error) {
        if (error.status === 401) return;
      }
    }
  }, LOG_POLL_MS);

  draw();
  return { element, cleanup: () => clearInterval(timer) };
}

