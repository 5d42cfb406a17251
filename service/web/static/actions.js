// Post actions shared by the composer, the queue and the publish log, each in a dialog.

import { api, newIdempotencyKey } from "./api.js";
import { clearError, field, h, select, showError } from "./dom.js";
import { formatDateTime, snippet, toLocalInput, toLocalTime } from "./format.js";
import * as store from "./store.js";
import { announce, describeError, openDialog } from "./ui.js";

export const EDITABLE = new Set(["draft", "scheduled", "failed", "missed"]);

/** The datetime-local and time-zone pair every schedule form uses. */
export function whenFields({ value = "", zone = store.preferredTimeZone() } = {}) {
  const when = field({
    label: "Publish at",
    control: h("input", { type: "datetime-local", name: "when", value }),
    hint: "Date and time on the clock of the time zone below.",
  });
  const zoneField = field({
    label: "Time zone",
    control: select(store.zoneChoices(zone), { name: "time_zone", value: zone }),
  });
  zoneField.control.addEventListener("change", () => store.setPreferredTimeZone(zoneField.control.value));
  return { when, zone: zoneField };
}

/** Show a 422's per-field messages next to the fields; returns those no field took. */
export function showFieldErrors(error, fieldsByName) {
  const left = [];
  // "youtube.tags[2]" or "youtube.tags.2" (one item of a list) belongs to "youtube.tags".
  const fieldOf = (name) =>
    fieldsByName[name] ||
    fieldsByName[name.replace(/(\[\d+\]|\.\d+)$/, "")] ||
    fieldsByName[name.split(".")[0]];
  for (const e of error.fieldErrors) {
    const target = fieldOf(e.field);
    if (target) showError(target, e.message);
    else left.push(e);
  }
  const first = error.fieldErrors.map((e) => fieldOf(e.field)).find(Boolean);
  if (first) first.control.focus();
  return left;
}

/** The post with its current ETag, for an edit that must not overwrite a change made elsewhere. */
export async function fetchPost(postId) {
  const { data, etag } = await api(`/posts/${postId}`);
  return { post: data, etag };
}

export function staleMessage() {
  return "This post changed elsewhere — reload it to see the change, then try again.";
}

/**
 * A form dialog's refusal: a 422's messages next to their fields, anything else in `problem`;
 * a post changed elsewhere (412) gets a Reload button that runs `reload`.
 */
function showFormProblem(problem, error, fields, reload) {
  const left = error.status === 422 ? showFieldErrors(error, fields) : [];
  if (error.status === 422 && !left.length) return;
  problem.replaceChildren(h("p", {}, error.status === 412 ? staleMessage() : describeError(error)));
  if (error.status === 412) {
    problem.append(
      h(
        "button",
        {
          type: "button",
          class: "secondary",
          onclick: async () => {
            await reload();
            problem.hidden = true;
            announce("Reloaded the post.");
          },
        },
        "Reload",
      ),
    );
  }
  problem.hidden = false;
}

/** Reschedule dialog: resolves with the updated post, or undefined when closed. */
export async function reschedulePost(postId) {
  let { post, etag } = await fetchPost(postId);
  const zone = post.time_zone || store.preferredTimeZone();
  const value =
    post.scheduled_at && new Date(post.scheduled_at) > new Date()
      ? toLocalInput(post.scheduled_at, zone)
      : "";
  return openDialog("Reschedule", (close) => {
    const { when, zone: zoneField } = whenFields({ value, zone });
    const problem = h("div", { class: "notice notice-error", role: "alert", hidden: true });
    const submit = h("button", { type: "submit", class: "primary" }, "Reschedule");
    async function onSubmit(event) {
      event.preventDefault();
      clearError(when);
      clearError(zoneField);
      problem.hidden = true;
      if (!when.control.value) {
        showError(when, "Choose when to publish.");
        when.control.focus();
        return;
      }
      submit.disabled = true;
      try {
        const { data } = await api(`/posts/${post.id}/schedule`, {
          method: "POST",
          ifMatch: etag,
          body: { local_time: toLocalTime(when.control.value), time_zone: zoneField.control.value },
        });
        announce(`Rescheduled for ${formatDateTime(data.scheduled_at, zoneField.control.value)}.`);
        close(data);
      } catch (error) {
        const fields = { local_time: when, scheduled_at: when, time_zone: zoneField };
        showFormProblem(problem, error, fields, async () => {
          ({ post, etag } = await fetchPost(postId));
        });
      } finally {
        submit.disabled = false;
      }
    }
    return h(
      "form",
      { novalidate: true, onsubmit: onSubmit },
      h(
        "p",
        {},
        `${store.accountLabel(store.accountById(post.account_id))}: “${post.text.slice(0, 80)}${post.text.length > 80 ? "…" : ""}”`,
      ),
      problem,
      h("div", { class: "row" }, when.wrap, zoneField.wrap),
      h(
        "div",
        { class: "actions" },
        submit,
        h("button", { type: "button", class: "secondary", onclick: () => close() }, "Close"),
      ),
    );
  });
}

/**
 * A dialog that asks before one action and runs it there: a refusal (a stale post, say) shows
 * inside the dialog, next to the button. Resolves with what `run` returned, or undefined.
 */
function confirmAndRun({ title, message, confirmLabel, keepLabel = "Keep it", danger = false, run }) {
  return openDialog(title, (close) => {
    const problem = h("div", { class: "notice notice-error", role: "alert", hidden: true });
    const confirm = h(
      "button",
      {
        type: "button",
        class: danger ? "danger" : "primary",
        onclick: async () => {
          confirm.disabled = true;
          try {
            close(await run());
          } catch (error) {
            problem.textContent = error.status === 412 ? staleMessage() : describeError(error);
            problem.hidden = false;
            confirm.disabled = false;
          }
        },
      },
      confirmLabel,
    );
    return h(
      "div",
      {},
      h("p", {}, message),
      problem,
      h(
        "div",
        { class: "actions" },
        confirm,
        h("button", { type: "button", class: "secondary", onclick: () => close() }, keepLabel),
      ),
    );
  });
}

/** Cancel after confirming; resolves with the cancelled post, or undefined. */
export async function cancelPost(postId) {
  const { post, etag } = await fetchPost(postId);
  const account = store.accountById(post.account_id);
  const network = store.networkName(post.network);
  return confirmAndRun({
    title: "Cancel this post?",
    message:
      post.state === "unknown"
        ? `Handpost will not send it to ${store.accountLabel(account)}. If it did go out, it stays up on ${network}: Handpost only stops tracking it. This cannot be undone.`
        : `It will not be published to ${store.accountLabel(account)}. This cannot be undone; the post stays in your history.`,
    confirmLabel: "Cancel post",
    danger: true,
    run: async () => {
      const { data } = await api(`/posts/${post.id}/cancel`, { method: "POST", ifMatch: etag });
      announce(`Cancelled the ${network} post.`);
      return data;
    },
  });
}

/** What the URL field of "It went out" says is wrong with `value`, or null when it will do. */
export function postUrlProblem(value) {
  if (!value) return "Paste the post's address, starting with https://.";
  if (value.length > 2048) return "That address is too long (2,048 characters at most).";
  let url;
  try {
    url = new URL(value);
  } catch {
    return "That is not a web address. Copy it from the browser's address bar.";
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    return "The address must start with https:// (or http://).";
  }
  if (/\s/.test(value)) return "A web address has no spaces.";
  return null;
}

/**
 * "It went out": the user found the post on its network; its URL marks it published. A post
 * due by hand (`byHand`) is marked with mark-published, under one Idempotency-Key per dialog,
 * so a retry after a lost answer is not refused. Resolves with the updated post, or undefined
 * when closed.
 */
export async function markPublished(postId, { byHand = false } = {}) {
  let { post, etag } = await fetchPost(postId);
  const network = store.networkName(post.network);
  const idempotencyKey = byHand ? newIdempotencyKey() : undefined;
  return openDialog("Mark it published", (close) => {
    const address = field({
      label: `Address of the post on ${network}`,
      control: h("input", {
        type: "url",
        name: "external_url",
        inputmode: "url",
        autocomplete: "off",
        spellcheck: "false",
        placeholder: "https://",
      }),
      hint: `Open the post on ${network} and copy its address from the browser.`,
    });
    const problem = h("div", { class: "notice notice-error", role: "alert", hidden: true });
    const submit = h("button", { type: "submit", class: "primary" }, "Mark published");
    async function onSubmit(event) {
      event.preventDefault();
      clearError(address);
      problem.hidden = true;
      const value = address.control.value.trim();
      const wrong = postUrlProblem(value);
      if (wrong) {
        showError(address, wrong);
        address.control.focus();
        return;
      }
      submit.disabled = true;
      try {
        const { data } = byHand
          ? await api(`/posts/${post.id}/mark-published`, {
              method: "POST",
              ifMatch: etag,
              idempotencyKey,
              body: { url: value },
            })
          : await api(`/posts/${post.id}/resolve`, {
              method: "POST",
              ifMatch: etag,
              body: { outcome: "published", external_url: value },
            });
        announce(`Marked published on ${network}. The publish log records it.`);
        close(data);
      } catch (error) {
        showFormProblem(problem, error, { external_url: address, url: address }, async () => {
          ({ post, etag } = await fetchPost(postId));
        });
      } finally {
        submit.disabled = false;
      }
    }
    return h(
      "form",
      { novalidate: true, onsubmit: onSubmit },
      h("p", {}, `${store.accountLabel(store.accountById(post.account_id))}: “${snippet(post.text, 80)}”`),
      problem,
      address.wrap,
      h(
        "div",
        { class: "actions" },
        submit,
        h("button", { type: "button", class: "secondary", onclick: () => close() }, "Close"),
      ),
    );
  });
}

/** "Skip it": a post due by hand that the person decided not to publish, after confirming. */
export async function skipPost(postId) {
  const { post, etag } = await fetchPost(postId);
  const network = store.networkName(post.network);
  const idempotencyKey = newIdempotencyKey();
  return confirmAndRun({
    title: "Skip this post?",
    message: `It will not be published on ${network}; the publish log records that you skipped it.`,
    confirmLabel: "Skip it",
    keepLabel: "Keep it",
    run: async () => {
      const { data } = await api(`/posts/${post.id}/mark-skipped`, {
        method: "POST",
        ifMatch: etag,
        idempotencyKey,
        body: {},
      });
      announce("Skipped. The publish log records it.");
      return data;
    },
  });
}

/** "It did not go out": after confirming, back in the queue to be sent now. */
export async function requeuePost(postId) {
  const { post, etag } = await fetchPost(postId);
  const network = store.networkName(post.network);
  return confirmAndRun({
    title: "Send it now?",
    message: `Only if you checked ${network} and the post is not there: if it did go out, it will appear twice.`,
    confirmLabel: "Send it now",
    keepLabel: "Not yet",
    run: async () => {
      const { data } = await api(`/posts/${post.id}/resolve`, {
        method: "POST",
        ifMatch: etag,
        body: { outcome: "requeue" },
      });
      announce(`Requeued: Handpost is sending it to ${network} now.`);
      return data;
    },
  });
}

/**
 * The three answers to a post whose outcome is unknown. `done(post)` runs after one of them
 * changed the post; `describedBy` names what the buttons are about (the card's title, say).
 */
export function unknownActions(post, { done, describedBy = null }) {
  const button = (label, action, cls = "small secondary") =>
    h(
      "button",
      {
        type: "button",
        class: cls,
        "aria-describedby": describedBy,
        onclick: async () => {
          let changed;
          try {
            changed = await action(post.id);
          } catch (error) {
            if (error.status !== 401) announce(describeError(error), { tone: "error" });
            return;
          }
          if (changed) await done(changed);
        },
      },
      label,
    );
  return h(
    "div",
    { class: "actions unknown-actions", role: "group", "aria-label": "What happened to it?" },
    button("It went out", markPublished, "small primary"),
    button("It did not go out — send now", requeuePost),
    button("Cancel it", cancelPost, "small danger-outline"),
  );
}

/**
 * "Tailor for another network": start a draft for another account from this post, then open
 * it in the composer. The draft cannot be scheduled until it is rewritten.
 */
export async function tailorPost(post) {
  const accounts = await store.loadAccounts();
  // Only the networks in use: an account out of use takes no new posts.
  const others = store.activeAccounts(accounts).filter((a) => a.id !== post.account_id);
  const created = await openDialog("Tailor for another network", (close) => {
    if (!others.length) {
      return h(
        "div",
        {},
        h("p", {}, "You have no other account to write a version for."),
        h(
          "div",
          { class: "actions" },
          h("a", { href: "#/accounts", class: "button primary", onclick: () => close() }, "Add an account"),
          h("button", { type: "button", class: "secondary", onclick: () => close() }, "Close"),
        ),
      );
    }
    const target = field({
      label: "Write a version for",
      control: select(others.map((a) => ({ value: a.id, label: store.accountLabel(a) }))),
      hint: "Handpost copies this post into a draft there. Rewrite it for that audience before scheduling it.",
    });
    const problem = h("div", { class: "notice notice-error", role: "alert", hidden: true });
    const submit = h("button", { type: "submit", class: "primary" }, "Start draft");
    return h(
      "form",
      {
        novalidate: true,
        onsubmit: async (event) => {
          event.preventDefault();
          submit.disabled = true;
          try {
            const { data } = await api(`/posts/${post.id}/copy`, {
              method: "POST",
              body: { account_id: target.control.value },
            });
            close(data);
          } catch (error) {
            problem.textContent = describeError(error);
            problem.hidden = false;
            submit.disabled = false;
          }
        },
      },
      target.wrap,
      problem,
      h(
        "div",
        { class: "actions" },
        submit,
        h("button", { type: "button", class: "secondary", onclick: () => close() }, "Close"),
      ),
    );
  });
  if (created) {
    announce(
      `Started a ${store.networkName(created.network)} draft from your ${store.networkName(post.network)} post. Rewrite it for its audience.`,
    );
    location.hash = `#/compose/${created.id}`;
  }
  return created;
}
