// Publish log: every attempt, newest first; what failed says what to do next.

import { api } from "./api.js";
import { reschedulePost, unknownActions } from "./actions.js";
import { emptyState, h, pageHeading, uid } from "./dom.js";
import { capitalise, formatDateTime, formatDuration, formatLateness, snippet } from "./format.js";
import * as store from "./store.js";
import { announce, errorBox, networkBadge } from "./ui.js";

const PAGE = 50;
const POLL_MS = 4000;
const OUTCOMES = ["published", "retrying", "failed", "missed", "unknown", "due", "skipped"];
const ATTENTION = ["failed", "missed", "unknown"];

export async function renderLog(main) {
  await store.loadAccounts({ fresh: true });
  const outcome = h(
    "select",
    { id: uid("outcome") },
    h("option", { value: "" }, "All outcomes"),
    h("option", { value: "attention" }, "Needs attention"),
    OUTCOMES.map((o) => h("option", { value: o }, capitalise(o))),
  );
  const notice = h("div", { class: "log-notice" });
  const body = h("div", { class: "log" });
  const olderButton = h(
    "button",
    { type: "button", class: "secondary", hidden: true, onclick: () => load({ older: true }) },
    "Show older attempts",
  );

  main.append(
    h("div", { class: "page-head" }, pageHeading("Publish log")),
    h(
      "p",
      { class: "lede" },
      "Every attempt to publish, newest first. Times are in ",
      h("strong", {}, store.preferredTimeZone()),
      ".",
    ),
    h(
      "div",
      { class: "toolbar", role: "group", "aria-label": "Log options" },
      h("div", { class: "field inline" }, h("label", { for: outcome.id }, "Outcome"), outcome),
      h("button", { type: "button", class: "secondary", onclick: () => load() }, "Refresh"),
    ),
    notice,
    body,
    olderButton,
  );

  let attempts = [];
  let cursor = null;
  const posts = new Map(); // post id -> post, for the text and state beside each attempt
  const answered = new Set(); // posts whose unknown outcome already has its buttons in a row

  function query(extra = {}) {
    const q = new URLSearchParams({ limit: String(PAGE), ...extra });
    const chosen = outcome.value === "attention" ? ATTENTION : outcome.value ? [outcome.value] : [];
    for (const o of chosen) q.append("outcome", o);
    return q;
  }

  async function fetchPosts(items) {
    const missing = [...new Set(items.map((a) => a.post_id))].filter((id) => !posts.has(id));
    await Promise.all(
      missing.map(async (id) => {
        try {
          posts.set(id, (await api(`/posts/${id}`)).data);
        } catch {
          posts.set(id, null);
        }
      }),
    );
  }

  async function load({ older = false, quiet = false } = {}) {
    try {
      const q = query(older && cursor ? { cursor } : {});
      const { data } = await api(`/publish-log?${q}`);
      if (!older) posts.clear(); // states change as posts are published or rescheduled
      await fetchPosts(data.items);
      attempts = older ? [...attempts, ...data.items] : data.items;
      cursor = data.next_cursor;
      olderButton.hidden = !cursor;
      notice.replaceChildren();
      draw();
      if (!quiet) announce(attempts.length ? `${attempts.length} attempts shown.` : "No attempts yet.");
    } catch (error) {
      if (error.status !== 401) notice.replaceChildren(errorBox(error));
    }
  }

  // New attempts appear on their own, unless the user is working inside the table.
  async function poll() {
    if (document.hidden || body.contains(document.activeElement) || document.querySelector("dialog[open]"))
      return;
    try {
      const { data } = await api(`/publish-log?${query({ limit: "1" })}`);
      const newest = data.items[0]?.id;
      const known = attempts[0]?.id;
      if (newest !== undefined && newest !== known) await load({ quiet: true });
    } catch {
      // The next poll or a manual refresh will tell.
    }
  }

  function draw() {
    if (!attempts.length) {
      body.replaceChildren(
        emptyState(
          outcome.value
            ? "No attempts with this outcome."
            : "Nothing has been published yet. Scheduled posts appear here when Handpost sends them.",
          h("a", { href: "#/queue", class: "button secondary" }, "See the queue"),
        ),
      );
      return;
    }
    const tz = store.preferredTimeZone();
    answered.clear();
    const headers = ["Outcome", "Post", "Due", "Sent", "Lateness", "Result"];
    body.replaceChildren(
      h(
        "div",
        { class: "table-wrap" },
        h(
          "table",
          { class: "log-table" },
          h("caption", { class: "visually-hidden" }, "Publish attempts, newest first"),
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              headers.map((x) => h("th", { scope: "col" }, x)),
            ),
          ),
          h(
            "tbody",
            {},
            attempts.map((a) => row(a, tz)),
          ),
        ),
      ),
    );
  }

  function row(a, tz) {
    const post = posts.get(a.post_id);
    const account = store.accountById(a.account_id);
    const attention = ATTENTION.includes(a.outcome);
    const postLinkId = uid("post");
    return h(
      "tr",
      { class: `outcome-${a.outcome}${attention ? " attention" : ""}` },
      h(
        "td",
        { "data-label": "Outcome" },
        h("span", { class: `state state-${a.outcome}` }, capitalise(a.outcome)),
        a.attempt > 1 ? h("span", { class: "hint" }, ` attempt ${a.attempt}`) : null,
      ),
      h(
        "td",
        { "data-label": "Post" },
        networkBadge(a.network, store.networkName(a.network)),
        " ",
        h("span", { class: "handle" }, account ? account.display_name || account.handle : ""),
        h("br"),
        h(
          "a",
          { href: `#/compose/${a.post_id}`, id: postLinkId },
          post ? `“${snippet(post.text, 50)}”` : "Open the post",
        ),
      ),
      h(
        "td",
        { "data-label": "Due" },
        h("time", { datetime: a.due_at }, formatDateTime(a.due_at, tz, { seconds: true })),
      ),
      h(
        "td",
        { "data-label": "Sent" },
        h("time", { datetime: a.started_at }, formatDateTime(a.started_at, tz, { seconds: true })),
        h("span", { class: "hint" }, ` took ${formatDuration(a.duration_ms)}`),
      ),
      h("td", { "data-label": "Lateness" }, formatLateness(a.lateness_ms)),
      h("td", { "data-label": "Result" }, result(a, post, postLinkId)),
    );
  }

  function result(a, post, postLinkId) {
    const parts = [];
    if (a.outcome === "published") {
      parts.push(
        a.external_url
          ? h(
              "a",
              { href: a.external_url, target: "_blank", rel: "noopener" },
              `View on ${store.networkName(a.network)}`,
            )
          : "Published",
      );
      if (a.message) parts.push(h("p", { class: "hint" }, a.message));
      return parts;
    }
    const plain = plainWords(a);
    if (plain) parts.push(h("p", { class: "plain" }, plain));
    if (a.message) parts.push(h("p", { class: "hint" }, a.message));
    if (a.outcome === "retrying") parts.push(h("p", {}, "Handpost will try again by itself."));
    const current = post?.state;
    if (
      (a.outcome === "failed" || a.outcome === "missed") &&
      (current === "failed" || current === "missed")
    ) {
      parts.push(
        h(
          "div",
          { class: "actions" },
          h(
            "button",
            {
              type: "button",
              class: "small primary",
              onclick: async () => {
                if (await reschedulePost(a.post_id)) {
                  posts.delete(a.post_id);
                  await load({ quiet: true });
                  announce("Rescheduled. It is back in the queue.");
                }
              },
            },
            "Reschedule",
          ),
        ),
      );
    } else if (a.outcome === "unknown" && current === "unknown" && !answered.has(a.post_id)) {
      // Only the post's newest attempt asks; the answer goes in the log as a new row.
      answered.add(a.post_id);
      parts.push(
        h("p", { class: "todo" }, `Check ${store.networkName(a.network)}, then say what happened:`),
        unknownActions(post, {
          describedBy: postLinkId,
          done: async () => {
            posts.delete(a.post_id);
            await load({ quiet: true });
            // The row's buttons are gone: start again at the top, where the answer now is.
            main.querySelector("h1")?.focus();
          },
        }),
      );
    } else if (a.outcome === "unknown" && current && current !== "unknown") {
      parts.push(h("p", { class: "hint" }, `Answered since: the post is ${current} now.`));
    }
    return parts;
  }

  outcome.addEventListener("change", () => load());
  await load({ quiet: true });
  const timer = setInterval(poll, POLL_MS);
  return () => clearInterval(timer);
}

/** What an outcome means for the user, before the network's own message. */
function plainWords(a) {
  const network = store.networkName(a.network);
  const byHand = store.accountById(a.account_id)?.mode === "hand";
  if (a.outcome === "due") return `Handed to you to publish by hand on ${network}: it is in the queue.`;
  if (a.outcome === "skipped") return "You chose not to publish it.";
  if (a.outcome === "missed" && byHand) return "Nobody marked it published or skipped in time.";
  if (a.outcome === "missed")
    return "Its time had passed too long ago (Handpost was not running then), so it was not sent late.";
  if (a.outcome === "unknown") return `${network} did not answer clearly: the post may or may not be up.`;
  if (a.http_status === 401 || a.http_status === 403)
    return `${network} refused the account's credentials: reconnect the account.`;
  if (a.http_status === 429) return `${network} asked Handpost to slow down.`;
  if (a.http_status && a.http_status >= 500) return `${network} had a problem on its side.`;
  if (a.http_status && a.http_status >= 400) return `${network} refused the post.`;
  if (a.outcome === "failed") return "The post was not published.";
  return null;
}
