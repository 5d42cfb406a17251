// Compose: one post for one account, checked by the server's own rules as the user types.

import { api } from "./api.js";
import { EDITABLE, showFieldErrors, staleMessage, tailorPost, whenFields } from "./actions.js";
import { append, clearError, debounce, emptyState, field, h, pageHeading, select, showError, uid } from "./dom.js";
import { formatDateTime, percent, snippet, toLocalInput, toLocalTime } from "./format.js";
import * as store from "./store.js";
import { announce, describeError, errorBox, stateBadge } from "./ui.js";

const PREVIEW_DELAY_MS = 250;
const GOALS = ["builds relationships", "advances my cause", "builds my personal brand"];

export async function renderCompose(main, { params }) {
  const postId = params[0] || null;
  const accounts = await store.loadAccounts({ fresh: true });
  let post = null;
  let etag = null;
  if (postId) ({ data: post, etag } = await api(`/posts/${postId}`));

  if (!accounts.length) {
    main.append(
      pageHeading("Write a post"),
      emptyState(
        "Connect an account first: Handpost needs to know which network you are writing for.",
        h("a", { href: "#/accounts", class: "button primary" }, "Add an account"),
      ),
    );
    return null;
  }

  const editable = !post || EDITABLE.has(post.state);
  const title = !post ? "Write a post" : post.needs_tailoring ? "Tailor this draft" : "Edit post";

  // --- fields ---------------------------------------------------------------------------
  const account = field({
    label: "Account",
    control: select(
      accounts.map((a) => ({ value: a.id, label: `${store.accountLabel(a)} — ${a.purpose}` })),
      { name: "account_id", value: post ? post.account_id : accounts[0].id, disabled: Boolean(post) },
    ),
    hint: post ? "A post belongs to one account. For another network, use “Tailor for another network”." : null,
  });
  const counter = h("span", { class: "counter", id: uid("counter") });
  const text = field({
    label: "Text",
    control: h("textarea", { name: "text", rows: "7", value: post ? post.text : "", spellcheck: "true" }),
  });
  text.label.append(" ", counter);
  text.control.setAttribute("aria-describedby", counter.id);
  const titleField = field({ label: "Title", control: h("input", { name: "title", value: post?.title ?? "" }) });
  const link = field({
    label: "Link",
    optional: true,
    control: h("input", { name: "link", type: "url", inputmode: "url", placeholder: "https://", value: post?.link ?? "" }),
  });
  const visibility = field({ label: "Who can see it", control: select([], { name: "visibility" }) });
  const goalList = h("datalist", { id: uid("goals") }, GOALS.map((g) => h("option", { value: g })));
  const goal = field({
    label: "Goal it serves",
    control: h("input", { name: "goal", list: goalList.id, value: post?.goal ?? "", autocomplete: "off" }),
    hint: "Does it build relationships, advance your cause, or build your brand in a way that is valuable to others?",
  });
  const cta = field({
    label: "Call to action",
    control: h("input", { name: "call_to_action", value: post?.call_to_action ?? "" }),
  });
  const zone = post?.time_zone || store.preferredTimeZone();
  const planned = post?.scheduled_at && new Date(post.scheduled_at) > new Date() ? toLocalInput(post.scheduled_at, zone) : "";
  const { when, zone: zoneField } = whenFields({ value: planned, zone });
  const byName = {
    account_id: account,
    text,
    title: titleField,
    link,
    visibility,
    goal,
    call_to_action: cta,
    local_time: when,
    scheduled_at: when,
    publish_now: when,
    time_zone: zoneField,
  };

  // --- checks panel and buttons ----------------------------------------------------------
  const summary = h("p", { class: "checks-summary", "aria-live": "polite" });
  const details = h("div", { class: "checks-details" });
  const checks = h(
    "section",
    { class: "checks", "aria-labelledby": "checks-title" },
    h("h2", { id: "checks-title" }, "Checks"),
    summary,
    details,
  );
  const formError = h("div", { class: "form-error" });
  const why = h("p", { class: "hint", id: uid("why") });
  const scheduleButton = h("button", { type: "submit", class: "primary", "aria-describedby": why.id }, "Schedule");
  const draftButton = h("button", { type: "button", class: "secondary", onclick: () => save("draft") }, "Save draft");
  const tailorButton = post && post.state !== "cancelled"
    ? h("button", { type: "button", class: "secondary", onclick: () => tailorPost(post) }, "Tailor for another network")
    : null;

  let lastPreview = null;
  let serverCrossPost = null; // a 409 from the last save, until the next preview
  const touched = new Set();
  let submitted = false;

  function currentAccount() {
    return accounts.find((a) => a.id === account.control.value);
  }

  // Fit the fields to the chosen network: its title rule and its visibilities.
  function fitToNetwork() {
    const info = store.networkInfo(currentAccount().network);
    text.label.firstChild.textContent = `Text for ${info.display_name}`;
    titleField.wrap.hidden = !info.supports_title;
    titleField.label.firstChild.textContent = info.requires_title ? "Title" : "Title (optional)";
    titleField.control.maxLength = info.title_limit || 1000;
    const keep = visibility.control.value || post?.visibility || info.default_visibility;
    visibility.control.replaceChildren(
      ...info.visibilities.map((v) => h("option", { value: v, selected: v === keep }, visibilityLabel(v))),
    );
    visibility.wrap.hidden = info.visibilities.length < 2;
    cta.hint?.remove();
    cta.hint = h(
      "p",
      { class: "hint", id: `${cta.control.id}-hint` },
      info.expects_call_to_action
        ? `${info.display_name} readers expect an invitation: follow, reply, visit a link…`
        : "What should readers do next? (optional)",
    );
    cta.control.after(cta.hint);
    cta.control.setAttribute("aria-describedby", cta.hint.id);
    renderCounter(lastPreview ? lastPreview.text_length : null, info.text_limit);
  }

  function content() {
    const info = store.networkInfo(currentAccount().network);
    const value = (f) => f.control.value.trim() || null;
    return {
      text: text.control.value,
      link: value(link),
      title: info.supports_title ? value(titleField) : null,
      visibility: visibility.control.value || null,
      call_to_action: value(cta),
      goal: value(goal),
    };
  }

  function renderCounter(length, limit) {
    const info = store.networkInfo(currentAccount().network);
    if (length === null) {
      counter.textContent = `– / ${limit}`;
      return;
    }
    counter.textContent = `${length} / ${limit}`;
    counter.classList.toggle("over", length > limit);
    counter.setAttribute("aria-label", `${length} of ${limit}, as ${info.display_name} counts it`);
  }

  // --- the dry run -----------------------------------------------------------------------
  let previewSeq = 0;
  let previewAbort = null;
  const preview = debounce(async () => {
    const seq = ++previewSeq;
    previewAbort?.abort();
    previewAbort = new AbortController();
    counter.classList.add("pending");
    try {
      const { data } = await api("/posts/preview", {
        method: "POST",
        body: { account_id: account.control.value, ...content() },
        signal: previewAbort.signal,
      });
      if (seq !== previewSeq) return;
      lastPreview = data;
      serverCrossPost = null;
      renderChecks();
    } catch (error) {
      if (error.name === "AbortError" || seq !== previewSeq) return;
      lastPreview = null;
      summary.textContent = `The post could not be checked: ${describeError(error)}`;
      details.replaceChildren();
      updateButtons();
    } finally {
      if (seq === previewSeq) counter.classList.remove("pending");
    }
  }, PREVIEW_DELAY_MS);

  function shownViolations() {
    if (!lastPreview) return [];
    // Don't scold an empty text box before the user has written anything.
    return lastPreview.violations.filter(
      (v) => !(v.code === "text-required" && !touched.has("text") && !submitted),
    );
  }

  function renderChecks() {
    const info = store.networkInfo(currentAccount().network);
    renderCounter(lastPreview.text_length, lastPreview.text_limit);
    const violations = shownViolations();
    for (const [name, f] of Object.entries(byName)) {
      if (["local_time", "scheduled_at", "publish_now", "time_zone", "account_id"].includes(name)) continue;
      const v = violations.find((x) => x.field === name);
      if (v && (touched.has(name) || submitted || name === "text")) showError(f, v.message);
      else clearError(f);
    }
    const cross = serverCrossPost || lastPreview.cross_post;
    const parts = [];
    if (cross) parts.push(crossPostPanel(cross, info));
    if (violations.length) {
      parts.push(
        h("div", { class: "check check-error" },
          h("h3", {}, violations.length === 1 ? "1 thing to fix" : `${violations.length} things to fix`),
          h("ul", {}, violations.map((v) => h("li", {}, v.message)))),
      );
    }
    if (lastPreview.warnings.length) {
      parts.push(
        h("div", { class: "check check-advice" },
          h("h3", {}, "Worth a thought"),
          h("ul", {}, lastPreview.warnings.map((w) => h("li", {}, w.message)))),
      );
    }
    const blank = !text.control.value.trim();
    const sayNow = cross
      ? `Same text as your ${store.networkName(cross.conflicting_post.network)} post: rewrite it before scheduling.`
      : violations.length
        ? `${violations.length === 1 ? "1 thing" : `${violations.length} things`} to fix before scheduling.`
        : blank
          ? `Write your post for ${info.display_name}: it is checked as you type.`
          : `Fits ${info.display_name}${lastPreview.warnings.length ? ", with advice below" : ""}.`;
    if (summary.textContent !== sayNow) summary.textContent = sayNow;
    summary.className = `checks-summary ${cross || violations.length ? "bad" : blank ? "" : "good"}`;
    details.replaceChildren(...parts);
    updateButtons();
  }

  function crossPostPanel(cross, info) {
    const other = cross.conflicting_post;
    const otherName = store.networkName(other.network);
    const isSource = post && post.copied_from_id === other.id;
    return h(
      "div",
      { class: "check check-crosspost", role: "group", "aria-labelledby": "crosspost-title" },
      h("h3", { id: "crosspost-title" }, `Same text as your ${otherName} post`),
      h(
        "p",
        {},
        `${percent(cross.similarity)} the same as your ${otherName} post “${snippet(other.text || "", 40)}”`,
        other.state ? ` (${other.state})` : "",
        `. Handpost never puts the same words on two networks: rewrite this version for its audience on ${info.display_name}.`,
      ),
      isSource ? h("p", { class: "hint" }, "This draft started as a copy of that post. You can save it as a draft while you rewrite it.") : null,
      other.text ? h("blockquote", {}, snippet(other.text, 240)) : null,
      h("p", {}, h("a", { href: `#/compose/${other.id}` }, `Open the ${otherName} post`)),
    );
  }

  function updateButtons() {
    const cross = serverCrossPost || lastPreview?.cross_post;
    const violations = lastPreview ? lastPreview.violations : [];
    const crossIsSource = cross && post && post.copied_from_id === cross.conflicting_post.id;
    scheduleButton.disabled = !editable || Boolean(cross) || violations.length > 0;
    // A copy may be saved while it still resembles its source; anything else the server refuses.
    draftButton.disabled = !editable || (Boolean(cross) && !crossIsSource) || violations.length > 0;
    why.textContent = !editable
      ? ""
      : cross
        ? "Scheduling is off until this text is rewritten for its own audience."
        : !text.control.value.trim()
          ? "Write the text first."
          : violations.length
            ? "Scheduling is off until the problems listed under Checks are fixed."
            : "";
    why.hidden = !why.textContent;
  }

  // --- saving ----------------------------------------------------------------------------
  async function save(intent) {
    submitted = true;
    formError.replaceChildren();
    for (const f of Object.values(byName)) clearError(f);
    const localTime = toLocalTime(when.control.value);
    if (intent === "schedule" && !localTime) {
      showError(when, "Choose when to publish.");
      when.control.focus();
      return;
    }
    const timeFields = localTime ? { local_time: localTime, time_zone: zoneField.control.value } : {};
    const busy = intent === "schedule" ? scheduleButton : draftButton;
    const label = busy.textContent;
    busy.disabled = true;
    busy.textContent = intent === "schedule" ? "Scheduling…" : "Saving…";
    try {
      let saved;
      if (!post) {
        ({ data: saved, etag } = await api("/posts", {
          method: "POST",
          body: {
            account_id: account.control.value,
            ...content(),
            ...timeFields,
            state: intent === "schedule" ? "scheduled" : "draft",
          },
        }));
      } else {
        ({ data: saved, etag } = await api(`/posts/${post.id}`, {
          method: "PATCH",
          ifMatch: etag,
          body: { ...content(), ...timeFields },
        }));
        post = saved;
        // PATCH keeps a draft a draft (the time becomes its plan); scheduling is its own step.
        if (intent === "schedule" && saved.state !== "scheduled") {
          ({ data: saved, etag } = await api(`/posts/${saved.id}/schedule`, { method: "POST", ifMatch: etag, body: {} }));
        } else if (intent === "draft" && saved.state !== "draft") {
          ({ data: saved, etag } = await api(`/posts/${saved.id}/unschedule`, { method: "POST", ifMatch: etag }));
        }
      }
      post = saved;
      const where = store.accountLabel(store.accountById(saved.account_id));
      if (saved.state === "scheduled") {
        announce(`Scheduled for ${where} at ${formatDateTime(saved.scheduled_at, saved.time_zone || zoneField.control.value)}.`);
        location.hash = "#/queue";
      } else {
        announce(`Saved as a draft for ${where}.`);
        if (location.hash !== `#/compose/${saved.id}`) location.hash = `#/compose/${saved.id}`;
        else busy.textContent = label;
      }
    } catch (error) {
      showSaveError(error);
    } finally {
      busy.textContent = label;
      updateButtons();
    }
  }

  function showSaveError(error) {
    if (error.status === 422) {
      const left = showFieldErrors(error, byName);
      formError.replaceChildren(errorBox(left.length ? error : { problem: { detail: "Fix the marked fields, then try again." }, status: 422 }));
      return;
    }
    if (error.kind === "cross-post") {
      serverCrossPost = {
        conflicting_post: error.problem.conflicting_post,
        similarity: error.problem.similarity,
        threshold: error.problem.threshold,
      };
      if (lastPreview) renderChecks();
      formError.replaceChildren(errorBox(error));
      checks.scrollIntoView({ block: "nearest" });
      return;
    }
    if (error.status === 412) {
      formError.replaceChildren(
        h(
          "div",
          { class: "notice notice-error", role: "alert" },
          h("p", {}, staleMessage()),
          h("p", { class: "hint" }, "Reloading shows the saved version; copy anything you want to keep first."),
          h("div", { class: "actions" },
            h("button", { type: "button", class: "secondary", onclick: () => window.dispatchEvent(new HashChangeEvent("hashchange")) }, "Reload")),
        ),
      );
      return;
    }
    formError.replaceChildren(errorBox(error));
  }

  // --- wiring ----------------------------------------------------------------------------
  for (const [name, f] of Object.entries({ text, link, title: titleField, visibility, goal, call_to_action: cta })) {
    f.control.addEventListener("input", () => {
      touched.add(name);
      preview();
    });
    f.control.addEventListener("change", () => preview());
  }
  account.control.addEventListener("change", () => {
    fitToNetwork();
    preview();
  });
  for (const f of [when, zoneField]) f.control.addEventListener("input", () => clearError(f));

  const status = post ? postStatus(post) : null;
  const form = h(
    "form",
    {
      class: "compose",
      novalidate: true,
      onsubmit: (event) => {
        event.preventDefault();
        if (!scheduleButton.disabled) save("schedule");
      },
    },
    h("fieldset", { class: "plain", disabled: !editable },
      h("legend", { class: "visually-hidden" }, "The post"),
      account.wrap,
      text.wrap,
      titleField.wrap,
      link.wrap,
      visibility.wrap,
      h("div", { class: "row" }, goal.wrap, cta.wrap),
      goalList),
    h("fieldset", { class: "when", disabled: !editable },
      h("legend", {}, "When to publish"),
      h("div", { class: "row" }, when.wrap, zoneField.wrap)),
    formError,
    h("div", { class: "actions" }, editable ? scheduleButton : null, editable ? draftButton : null, tailorButton),
    why,
  );

  append(main, [
    h("div", { class: "page-head" }, pageHeading(title), post ? stateBadge(post.state) : null),
    status,
    h("div", { class: "compose-layout" }, form, checks),
  ]);
  fitToNetwork();
  preview();
  if (!post) text.control.focus();
  return () => {
    preview.cancel();
    previewAbort?.abort();
  };
}

function visibilityLabel(v) {
  return {
    public: "Public",
    connections: "Connections only",
    logged_in: "Signed-in members",
    unlisted: "Unlisted",
    private: "Private",
    direct: "Mentioned people only",
  }[v] || v;
}

function postStatus(post) {
  const zone = post.time_zone || store.preferredTimeZone();
  const lines = [];
  if (post.state === "scheduled") lines.push(`Scheduled for ${formatDateTime(post.scheduled_at, zone)} (${zone}).`);
  if (post.state === "published") {
    lines.push(`Published ${formatDateTime(post.published_at, zone)}. It can no longer be edited.`);
  }
  if (post.state === "publishing") lines.push("Being published right now; it can no longer be edited.");
  if (post.state === "cancelled") lines.push("Cancelled: it will not be published.");
  if (post.state === "unknown") {
    lines.push("Handpost could not confirm whether this went out. Check the network, then mark it published or requeue it.");
  }
  if ((post.state === "failed" || post.state === "missed") && post.last_error) lines.push(post.last_error);
  if (post.state === "failed" || post.state === "missed") lines.push("Give it a new time and schedule it again.");
  if (!lines.length) return null;
  const bad = ["failed", "missed", "unknown"].includes(post.state);
  return h(
    "div",
    { class: `notice ${bad ? "notice-error" : "notice-info"}` },
    lines.map((l) => h("p", {}, l)),
    post.external_url ? h("p", {}, h("a", { href: post.external_url, target: "_blank", rel: "noopener" }, "See it on the network")) : null,
  );
}
