// Compose: one post for one account, checked by the server's own rules as the user types.

import { api } from "./api.js";
import { EDITABLE, showFieldErrors, staleMessage, tailorPost, whenFields } from "./actions.js";
import {
  append,
  clearError,
  debounce,
  emptyState,
  field,
  h,
  pageHeading,
  select,
  showError,
  uid,
} from "./dom.js";
import { formatDateTime, percent, snippet, toLocalInput, toLocalTime } from "./format.js";
import * as store from "./store.js";
import { announce, describeError, errorBox, stateBadge } from "./ui.js";
import { reviewBanner, strategyOrNull } from "./strategy-parts.js";
import { mediaEditor } from "./media.js";
import { youtubeFields } from "./youtube.js";

const PREVIEW_DELAY_MS = 250;
const GOALS = ["builds relationships", "advances my cause", "builds my personal brand"];
// The advice's short names, from the essays; the server's message says the rest.
const ADVICE_TITLES = {
  "no-goal": "Always deliver value",
  "no-call-to-action": "Try to include a call to action",
  "bare-link": "Share with your own comment",
  "visibility-wider-than-audience": "Keep it to the audience this account is for",
  "needs-tailoring": "Tailor it to this audience",
};

export async function renderCompose(main, { params }) {
  const postId = params[0] || null;
  const [allAccounts, strategy] = await Promise.all([store.loadAccounts({ fresh: true }), strategyOrNull()]);
  let post = null;
  let etag = null;
  if (postId) ({ data: post, etag } = await api(`/posts/${postId}`));
  // New posts go to the networks in use; a post keeps showing its own account.
  let accounts = allAccounts.filter((a) => a.active !== false || a.id === post?.account_id);
  if (post && !accounts.some((a) => a.id === post.account_id)) {
    // The post's account is gone from the list; the post can still be read.
    accounts = [
      ...accounts,
      { id: post.account_id, network: post.network, handle: "removed account", purpose: "" },
    ];
  }

  if (!accounts.length) {
    main.append(
      pageHeading("Write a post"),
      reviewBanner(strategy, { link: true }) ?? "",
      allAccounts.length
        ? emptyState(
            "None of your accounts is in use. Turn one on to write for it.",
            h("a", { href: "#/accounts", class: "button primary" }, "Choose your networks"),
          )
        : emptyState(
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
    hint: post
      ? "A post belongs to one account. For another network, use “Tailor for another network”."
      : null,
  });
  const counter = h("span", { class: "counter", id: uid("counter") });
  const text = field({
    label: "Text",
    control: h("textarea", { name: "text", rows: "7", value: post ? post.text : "", spellcheck: "true" }),
  });
  text.label.append(" ", counter);
  text.control.setAttribute("aria-describedby", counter.id);
  const titleField = field({
    label: "Title",
    control: h("input", { name: "title", value: post?.title ?? "" }),
  });
  const link = field({
    label: "Link",
    optional: true,
    control: h("input", {
      name: "link",
      type: "url",
      inputmode: "url",
      placeholder: "https://",
      value: post?.link ?? "",
    }),
  });
  const sharesUrl = field({
    label: "Shares someone else's post",
    optional: true,
    control: h("input", {
      name: "shares_url",
      type: "url",
      inputmode: "url",
      placeholder: "https://",
      value: post?.shares_url ?? "",
    }),
    hint: "The post or link you share. Share with your own comment: say in your text why it is worth your readers' time.",
  });
  const visibility = field({ label: "Who can see it", control: select([], { name: "visibility" }) });
  const audience = field({
    label: "Where it goes",
    optional: true,
    control: h("input", { name: "audience", value: post?.audience ?? "", autocomplete: "off" }),
    hint: "You publish this one by hand: the friends list or group it is for, shown to you when it is due.",
  });
  const { goal, goalList } = goalField(strategy, post);
  const cta = field({
    label: "Call to action",
    control: h("input", { name: "call_to_action", value: post?.call_to_action ?? "" }),
  });
  const media = mediaEditor({
    initial: post?.media ?? [],
    disabled: !(!post || EDITABLE.has(post.state)),
    onChange: () => {
      forgetSaveError("media");
      preview();
    },
  });
  const youtube = youtubeFields({
    initial: post?.youtube,
    onChange: () => {
      for (const name of Object.keys(youtube.byName)) forgetSaveError(name);
      preview();
    },
  });
  const zone = post?.time_zone || store.preferredTimeZone();
  const planned =
    post?.scheduled_at && new Date(post.scheduled_at) > new Date()
      ? toLocalInput(post.scheduled_at, zone)
      : "";
  const { when, zone: zoneField } = whenFields({ value: planned, zone });
  const byName = {
    account_id: account,
    text,
    title: titleField,
    link,
    shares_url: sharesUrl,
    visibility,
    audience,
    goal,
    call_to_action: cta,
    local_time: when,
    scheduled_at: when,
    publish_now: when,
    time_zone: zoneField,
    ...youtube.byName,
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
  const scheduleButton = h(
    "button",
    { type: "submit", class: "primary", "aria-describedby": why.id },
    "Schedule",
  );
  const draftButton = h(
    "button",
    { type: "button", class: "secondary", onclick: () => save("draft") },
    "Save draft",
  );
  const tailorButton =
    post && post.state !== "cancelled"
      ? h(
          "button",
          { type: "button", class: "secondary", onclick: () => tailorPost(post) },
          "Tailor for another network",
        )
      : null;

  let lastPreview = null;
  let serverCrossPost = null; // a 409 from the last save, until the next preview
  // A 422's field messages from the last save, kept until the user changes that field: the
  // preview does not know every rule (a share's own comment, a required goal).
  let saveErrors = new Map(); // field -> {code, message}
  const SHARE_CODES = new Set(["bare-share", "one-link"]);

  function forgetSaveError(name) {
    saveErrors.delete(name);
    // A share's refusal is about the text and the shared link together.
    if (name === "text" || name === "shares_url" || name === "link") {
      for (const [field, e] of saveErrors) if (SHARE_CODES.has(e.code)) saveErrors.delete(field);
    }
  }
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
    audience.wrap.hidden = currentAccount().mode !== "hand";
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
    // The account's own server may allow more or less than the network's default (Mastodon).
    const limit = lastPreview?.text_limit ?? currentAccount().limits?.max_characters ?? info.text_limit;
    renderCounter(lastPreview ? lastPreview.text_length : null, limit);
    media.setNetwork(info);
    youtube.setNetwork(info);
  }

  function content() {
    const info = store.networkInfo(currentAccount().network);
    const value = (f) => f.control.value.trim() || null;
    return {
      text: text.control.value,
      link: value(link),
      shares_url: value(sharesUrl),
      title: info.supports_title ? value(titleField) : null,
      visibility: visibility.control.value || null,
      audience: audience.wrap.hidden ? null : value(audience),
      call_to_action: value(cta),
      goal: value(goal),
      media: media.value(),
      youtube: youtube.value(),
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
      else if (saveErrors.has(name)) showError(f, saveErrors.get(name).message);
      else clearError(f);
    }
    const refused = [...saveErrors]
      .filter(([name]) => byName[name] && !violations.some((v) => v.field === name))
      .map(([, e]) => e);
    const problems = [...violations, ...refused];
    const cross = serverCrossPost || lastPreview.cross_post;
    const parts = [];
    if (cross) parts.push(crossPostPanel(cross, info));
    if (problems.length) {
      parts.push(
        h(
          "div",
          { class: "check check-error" },
          h("h3", {}, problems.length === 1 ? "1 thing to fix" : `${problems.length} things to fix`),
          h(
            "ul",
            {},
            problems.map((v) => h("li", { dataset: { code: v.code } }, v.message)),
          ),
        ),
      );
    }
    if (lastPreview.warnings.length) {
      parts.push(
        h(
          "div",
          { class: "check check-advice" },
          h("h3", {}, "Worth a thought"),
          h(
            "ul",
            { class: "advice-list" },
            lastPreview.warnings.map((w) =>
              h(
                "li",
                { dataset: { code: w.code } },
                ADVICE_TITLES[w.code] ? [h("strong", {}, `${ADVICE_TITLES[w.code]}.`), " "] : null,
                w.message,
              ),
            ),
          ),
        ),
      );
    }
    const blank = !text.control.value.trim();
    const sayNow = cross
      ? `Same text as your ${store.networkName(cross.conflicting_post.network)} post: rewrite it before scheduling.`
      : problems.length
        ? `${problems.length === 1 ? "1 thing" : `${problems.length} things`} to fix before scheduling.`
        : blank
          ? `Write your post for ${info.display_name}: it is checked as you type.`
          : `Fits ${info.display_name}${lastPreview.warnings.length ? ", with advice below" : ""}.`;
    if (summary.textContent !== sayNow) summary.textContent = sayNow;
    summary.className = `checks-summary ${cross || problems.length ? "bad" : blank ? "" : "good"}`;
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
      isSource
        ? h(
            "p",
            { class: "hint" },
            "This draft started as a copy of that post. You can save it as a draft while you rewrite it.",
          )
        : null,
      other.text ? h("blockquote", {}, snippet(other.text, 240)) : null,
      h("p", {}, h("a", { href: `#/compose/${other.id}` }, `Open the ${otherName} post`)),
    );
  }

  function updateButtons() {
    const cross = serverCrossPost || lastPreview?.cross_post;
    const violations = lastPreview ? lastPreview.violations : [];
    const crossIsSource = cross && post && post.copied_from_id === cross.conflicting_post.id;
    scheduleButton.disabled =
      !editable || Boolean(cross) || violations.length > 0 || media.uploading();
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
    saveErrors = new Map();
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
          ({ data: saved, etag } = await api(`/posts/${saved.id}/schedule`, {
            method: "POST",
            ifMatch: etag,
            body: {},
          }));
        } else if (intent === "draft" && saved.state !== "draft") {
          ({ data: saved, etag } = await api(`/posts/${saved.id}/unschedule`, {
            method: "POST",
            ifMatch: etag,
          }));
        }
      }
      post = saved;
      const where = store.accountLabel(store.accountById(saved.account_id));
      if (saved.state === "scheduled") {
        announce(
          `Scheduled for ${where} at ${formatDateTime(saved.scheduled_at, saved.time_zone || zoneField.control.value)}.`,
        );
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
      for (const e of error.fieldErrors) {
        const name = byName[e.field] ? e.field : e.field.split(".")[0];
        if (byName[name]) saveErrors.set(name, { code: e.code, message: e.message });
      }
      if (lastPreview) renderChecks();
      formError.replaceChildren(
        errorBox(
          left.length
            ? error
            : { problem: { detail: "Fix the marked fields, then try again." }, status: 422 },
        ),
      );
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
          h(
            "p",
            { class: "hint" },
            "Reloading shows the saved version; copy anything you want to keep first.",
          ),
          h(
            "div",
            { class: "actions" },
            h(
              "button",
              {
                type: "button",
                class: "secondary",
                onclick: () => window.dispatchEvent(new HashChangeEvent("hashchange")),
              },
              "Reload",
            ),
          ),
        ),
      );
      return;
    }
    formError.replaceChildren(errorBox(error));
  }

  // --- wiring ----------------------------------------------------------------------------
  for (const [name, f] of Object.entries({
    text,
    link,
    shares_url: sharesUrl,
    title: titleField,
    visibility,
    audience,
    goal,
    call_to_action: cta,
  })) {
    f.control.addEventListener("input", () => {
      touched.add(name);
      forgetSaveError(name);
      preview();
    });
    f.control.addEventListener("change", () => {
      forgetSaveError(name);
      preview();
    });
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
    h(
      "fieldset",
      { class: "plain", disabled: !editable },
      h("legend", { class: "visually-hidden" }, "The post"),
      account.wrap,
      text.wrap,
      titleField.wrap,
      link.wrap,
      sharesUrl.wrap,
      visibility.wrap,
      audience.wrap,
      h("div", { class: "row" }, goal.wrap, cta.wrap),
      goalList,
      media.wrap,
      youtube.wrap,
    ),
    h(
      "fieldset",
      { class: "when", disabled: !editable },
      h("legend", {}, "When to publish"),
      h("div", { class: "row" }, when.wrap, zoneField.wrap),
    ),
    formError,
    h(
      "div",
      { class: "actions" },
      editable ? scheduleButton : null,
      editable ? draftButton : null,
      tailorButton,
    ),
    why,
  );

  append(main, [
    h("div", { class: "page-head" }, pageHeading(title), post ? stateBadge(post.state) : null),
    reviewBanner(strategy, { link: true }),
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

/**
 * "Goal it serves": a choice among the user's goals (or none) once they have written some
 * down; free words, with the essays' three questions as suggestions, until then.
 */
function goalField(strategy, post) {
  const goals = strategy?.goals ?? [];
  const current = post?.goal ?? "";
  if (!goals.length) {
    const goalList = h(
      "datalist",
      { id: uid("goals") },
      GOALS.map((g) => h("option", { value: g })),
    );
    const goal = field({
      label: "Goal it serves",
      control: h("input", { name: "goal", list: goalList.id, value: current, autocomplete: "off" }),
      hint: [
        "Does it build relationships, advance your cause, or build your brand in a way that is valuable to others? ",
        h("a", { href: "#/strategy" }, "Write down your goals"),
        " to choose from them.",
      ],
    });
    return { goal, goalList };
  }
  const names = goals.map((g) => g.name);
  const known = names.find((n) => n.toLowerCase() === current.toLowerCase());
  const options = [
    { value: "", label: "None" },
    ...names.map((n) => ({ value: n, label: n })),
    // A goal deleted since: shown as written, so choosing another one is a visible change.
    current && !known ? { value: current, label: `${current} (no longer one of your goals)` } : null,
  ].filter(Boolean);
  const goal = field({
    label: "Goal it serves",
    control: select(options, { name: "goal", value: known ?? current }),
    hint: [
      strategy.require_goal
        ? "Always deliver value: choose the goal this post serves before scheduling it. "
        : "Always deliver value: which of your goals does this post serve? ",
      h("a", { href: "#/strategy" }, "Your goals"),
    ],
  });
  return { goal, goalList: null };
}

function visibilityLabel(v) {
  return (
    {
      public: "Public",
      connections: "Connections only",
      logged_in: "Signed-in members",
      unlisted: "Unlisted",
      private: "Private",
      direct: "Mentioned people only",
    }[v] || v
  );
}

function postStatus(post) {
  const zone = post.time_zone || store.preferredTimeZone();
  const lines = [];
  if (post.state === "scheduled")
    lines.push(`Scheduled for ${formatDateTime(post.scheduled_at, zone)} (${zone}).`);
  if (post.state === "published") {
    lines.push(`Published ${formatDateTime(post.published_at, zone)}. It can no longer be edited.`);
  }
  if (post.state === "publishing") lines.push("Being published right now; it can no longer be edited.");
  if (post.state === "cancelled") lines.push("Cancelled: it will not be published.");
  if (post.state === "unknown") {
    lines.push(
      "Handpost could not confirm whether this went out. Check the network, then mark it published or requeue it.",
    );
  }
  if ((post.state === "failed" || post.state === "missed") && post.last_error) lines.push(post.last_error);
  if (post.state === "failed" || post.state === "missed")
    lines.push("Give it a new time and schedule it again.");
  if (!lines.length) return null;
  const bad = ["failed", "missed", "unknown"].includes(post.state);
  return h(
    "div",
    { class: `notice ${bad ? "notice-error" : "notice-info"}` },
    lines.map((l) => h("p", {}, l)),
    post.external_url
      ? h(
          "p",
          {},
          h("a", { href: post.external_url, target: "_blank", rel: "noopener" }, "See it on the network"),
        )
      : null,
  );
}
