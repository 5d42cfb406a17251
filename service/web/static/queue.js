// Queue: what goes out this week, day by day in the user's time zone, then later, then drafts.

import { api, listAll } from "./api.js";
import { cancelPost, reschedulePost, tailorPost, unknownActions } from "./actions.js";
import { emptyState, h, pageHeading, select, uid } from "./dom.js";
import { dayKey, formatDateTime, formatDay, formatTime, snippet } from "./format.js";
import * as store from "./store.js";
import { errorBox, networkBadge, stateBadge } from "./ui.js";
import { dueByHandSection } from "./hand.js";
import { reviewBanner, strategyOrNull } from "./strategy-parts.js";
import { reconnectButton } from "./connect.js";

const DAYS = 7;

export async function renderQueue(main) {
  const [accounts, strategy] = await Promise.all([store.loadAccounts({ fresh: true }), strategyOrNull()]);
  const networks = [...new Set(accounts.map((a) => a.network))];
  const filter = h(
    "select",
    { id: uid("net") },
    h("option", { value: "" }, "All networks"),
    networks.map((n) => h("option", { value: n }, store.networkName(n))),
  );
  const zone = h("select", { id: uid("zone") });
  const fillZones = () =>
    zone.replaceChildren(
      ...store
        .zoneChoices(store.preferredTimeZone())
        .map((z) => h("option", { value: z, selected: z === store.preferredTimeZone() }, z)),
    );
  fillZones();
  const body = h("div", { class: "queue" });
  const refresh = h("button", { type: "button", class: "secondary", onclick: () => load() }, "Refresh");

  main.append(
    h(
      "div",
      { class: "page-head" },
      pageHeading("Queue"),
      h("a", { href: "#/compose", class: "button primary" }, "Write a post"),
    ),
    reviewBanner(strategy, { link: true }) ?? "",
    reconnectBanner(accounts),
    h(
      "div",
      { class: "toolbar", role: "group", "aria-label": "Queue options" },
      h("div", { class: "field inline" }, h("label", { for: filter.id }, "Network"), filter),
      h("div", { class: "field inline" }, h("label", { for: zone.id }, "Times in"), zone),
      refresh,
    ),
    body,
  );

  let posts = [];
  let drafts = [];
  let attention = [];
  let due = [];
  let more = false;

  async function load() {
    body.setAttribute("aria-busy", "true");
    try {
      const [scheduled, draftPage, troublePage, dueByHand] = await Promise.all([
        listAll("/posts", { state: "scheduled", order: "scheduled_at", limit: 100 }),
        listAll("/posts", { state: "draft", limit: 50 }, 1),
        listAll("/posts", { state: ["failed", "missed", "unknown"], limit: 50 }, 1),
        api("/due-by-hand"),
      ]);
      due = dueByHand.data;
      posts = scheduled.items;
      more = scheduled.more;
      drafts = draftPage.items;
      attention = troublePage.items;
      draw();
    } catch (error) {
      if (error.status !== 401) body.replaceChildren(errorBox(error));
    } finally {
      body.removeAttribute("aria-busy");
    }
  }

  function draw() {
    const tz = zone.value;
    const only = filter.value;
    const mine = (list) => list.filter((p) => !only || p.network === only);
    const shown = mine(posts);
    const sections = [];
    if (!accounts.length) {
      body.replaceChildren(
        emptyState(
          "No posts scheduled yet. Start by adding the networks you write for.",
          h("a", { href: "#/accounts", class: "button primary" }, "Add an account"),
        ),
      );
      return;
    }
    const dueSection = dueByHandSection(
      due.filter((d) => !only || d.account.network === only),
      { tz, done: marked },
    );
    if (dueSection) sections.push(dueSection);
    if (mine(attention).length) {
      sections.push(
        h(
          "section",
          { class: "attention", "aria-labelledby": "attention-title" },
          h("h2", { id: "attention-title", tabindex: "-1" }, "Needs attention"),
          h(
            "ul",
            { class: "cards" },
            mine(attention).map((p) => card(p, tz, { withDate: true })),
          ),
        ),
      );
    }
    if (shown.length) sections.push(...weekSections(shown, tz));
    else {
      sections.push(
        emptyState(
          only
            ? `No ${store.networkName(only)} posts scheduled yet — write one.`
            : "No posts scheduled yet — write one.",
          h("a", { href: "#/compose", class: "button primary" }, "Write a post"),
        ),
      );
    }
    if (mine(drafts).length) {
      sections.push(
        h(
          "section",
          { "aria-labelledby": "drafts-title" },
          h("h2", { id: "drafts-title" }, "Drafts"),
          h(
            "ul",
            { class: "cards" },
            mine(drafts).map((p) => card(p, tz, { withDate: true })),
          ),
        ),
      );
    }
    body.replaceChildren(...sections);
  }

  function weekSections(shown, tz) {
    const today = new Date();
    const week = [];
    for (let i = 0; i < DAYS; i += 1) week.push(dayKey(new Date(today.getTime() + i * 86_400_000), tz));
    const byDay = new Map(week.map((k) => [k, []]));
    const later = [];
    for (const p of shown) {
      const key = dayKey(new Date(p.scheduled_at), tz);
      // Overdue posts are being published now: show them under today.
      if (key < week[0]) byDay.get(week[0]).push(p);
      else if (byDay.has(key)) byDay.get(key).push(p);
      else later.push(p);
    }
    const sections = [
      h(
        "section",
        { class: "week", "aria-labelledby": "week-title" },
        h("h2", { id: "week-title" }, "The coming week"),
        week.map((key, i) => day(key, i, byDay.get(key), tz)),
      ),
    ];
    if (later.length || more) {
      sections.push(
        h(
          "section",
          { "aria-labelledby": "later-title" },
          h("h2", { id: "later-title" }, "Later"),
          h(
            "ul",
            { class: "cards" },
            later.map((p) => card(p, tz, { withDate: true })),
          ),
          more
            ? h(
                "p",
                { class: "hint" },
                "More posts are scheduled further ahead; filter by network to see them.",
              )
            : null,
        ),
      );
    }
    return sections;
  }

  function day(key, index, items, tz) {
    const label =
      index === 0 ? `Today, ${formatDay(key)}` : index === 1 ? `Tomorrow, ${formatDay(key)}` : formatDay(key);
    return h(
      "section",
      { class: `day${items.length ? "" : " day-empty"}`, "aria-label": label },
      h("h3", {}, label),
      items.length
        ? h(
            "ul",
            { class: "cards" },
            items.map((p) => card(p, tz, { level: "h4" })),
          )
        : h("p", { class: "hint" }, "Nothing scheduled."),
    );
  }

  // After an unknown post is answered: its card again where it is now (a requeued post is in
  // today's list), or the section it left, or the top of the screen.
  async function resolved(postId) {
    await load();
    const target =
      body.querySelector(`[data-post="${postId}"] .actions a`) ||
      body.querySelector("#attention-title") ||
      main.querySelector("h1");
    target?.focus();
  }

  // After a post due by hand is marked: the next one due, or the top of the screen.
  async function marked() {
    await load();
    (body.querySelector(".due-card .actions button") || main.querySelector("h1"))?.focus();
  }

  // Cards sit under a day (h3) in the week, directly under a section (h2) elsewhere.
  function card(post, tz, { withDate = false, level = "h3" } = {}) {
    const account = store.accountById(post.account_id);
    const titleId = uid("post");
    const when = post.scheduled_at
      ? withDate
        ? formatDateTime(post.scheduled_at, tz)
        : formatTime(post.scheduled_at, tz)
      : "No time yet";
    const act = (label, onclick, extra = {}) =>
      h(
        "button",
        { type: "button", class: "small secondary", "aria-describedby": titleId, onclick, ...extra },
        label,
      );
    const after = async (promise) => {
      if (await promise) await load();
    };
    return h(
      "li",
      {},
      h(
        "article",
        { class: `post-card net-edge-${post.network}`, dataset: { post: post.id } },
        h(
          level,
          { id: titleId, class: "post-card-title" },
          h("time", { datetime: post.scheduled_at || "" }, when),
          " ",
          networkBadge(post.network, store.networkName(post.network)),
          " ",
          h("span", { class: "handle" }, account ? account.display_name || account.handle : ""),
          account && account.mode === "hand" ? [" ", h("span", { class: "state" }, "by hand")] : null,
          post.state !== "scheduled" ? [" ", stateBadge(post.state)] : null,
        ),
        h("p", { class: "post-text" }, snippet(post.text, 180)),
        post.needs_tailoring
          ? h("p", { class: "tag-warn" }, "Still a copy: rewrite it for this audience before scheduling.")
          : null,
        post.state === "unknown"
          ? [
              h(
                "p",
                { class: "todo" },
                `Check ${store.networkName(post.network)} to see whether it went out, then say what happened:`,
              ),
              unknownActions(post, { describedBy: titleId, done: () => resolved(post.id) }),
            ]
          : null,
        (post.state === "failed" || post.state === "missed") && post.last_error
          ? h("p", { class: "hint" }, post.last_error)
          : null,
        h(
          "div",
          { class: "actions" },
          h(
            "a",
            { href: `#/compose/${post.id}`, class: "button small secondary", "aria-describedby": titleId },
            post.state === "unknown" ? "Open" : "Edit",
          ),
          post.state === "unknown"
            ? null
            : [
                act(post.state === "draft" ? "Schedule" : "Reschedule", () => after(reschedulePost(post.id))),
                act("Cancel", () => after(cancelPost(post.id)), { class: "small danger-outline" }),
              ],
          act("Tailor for another network", () => tailorPost(post)),
        ),
      ),
    );
  }

  filter.addEventListener("change", draw);
  zone.addEventListener("change", () => {
    store.setPreferredTimeZone(zone.value);
    draw();
  });
  await load();
  return null;
}

/** Accounts whose access broke: their posts fail until reconnected, so say so first. */
function reconnectBanner(accounts) {
  const broken = accounts.filter((a) => a.status === "needs_reconnect");
  if (!broken.length) return "";
  return h(
    "div",
    { class: "notice notice-error needs-reconnect", role: "alert" },
    h("p", {}, h("strong", {}, "Reconnect before your posts go out. "), "These accounts lost their access; their posts fail until you reconnect them. Reconnecting keeps their posts and history."),
    h(
      "ul",
      {},
      broken.map((a) => {
        const { button, problem } = reconnectButton(a, { label: `Reconnect ${store.accountLabel(a)}` });
        return h("li", {}, h("p", {}, `${store.accountLabel(a)}: ${a.status_message || "access refused"}`), button, problem);
      }),
    ),
  );
}
