// What several screens share about the user's strategy: the four spheres, the review-due
// banner with its "Mark reviewed" dialog, and the "In use" switch of an account.

import { api } from "./api.js";
import { field, h, uid } from "./dom.js";
import { formatDate } from "./format.js";
import * as store from "./store.js";
import { announce, describeError, errorBox, openDialog } from "./ui.js";

/** The essays' four uses of social media, each with its audience. */
export const SPHERES = [
  {
    value: "family_and_friends",
    label: "Family and friends",
    hint: "Family and friends: keep in touch with the people you have really met.",
  },
  {
    value: "colleagues",
    label: "Colleagues",
    hint: "Colleagues: show yourself as a collaborator in your team.",
  },
  {
    value: "society",
    label: "Society",
    hint: "Society: express your ideas and spread them.",
  },
  {
    value: "professionals",
    label: "Professionals",
    hint: "Professionals: find opportunities, grow, and recognise your peers' work.",
  },
];

export const SPHERE_HINT =
  "Which of the four uses this account serves: family and friends, colleagues, society or professionals.";

export function sphereLabel(value) {
  return SPHERES.find((s) => s.value === value)?.label ?? "Not chosen yet";
}

export function sphereHint(value) {
  return SPHERES.find((s) => s.value === value)?.hint ?? SPHERE_HINT;
}

/** A <select> of the spheres, with "Not chosen yet" (sent as null). */
export function sphereSelect(value = null, attrs = {}) {
  return h(
    "select",
    attrs,
    h("option", { value: "", selected: !value }, "Not chosen yet"),
    SPHERES.map((s) => h("option", { value: s.value, selected: s.value === value }, s.label)),
  );
}

const INTERVAL_WORDS = {
  1: "monthly",
  2: "two-monthly",
  3: "three-monthly",
  4: "four-monthly",
  6: "six-monthly",
  12: "yearly",
};

/** "six-monthly" for 6; the review banner's adjective. */
export function intervalWords(months) {
  return INTERVAL_WORDS[months] ?? `${months}-monthly`;
}

/** "every 6 months", "every month", "every year". */
export function everyMonths(months) {
  if (months === 1) return "every month";
  if (months === 12) return "every year";
  return `every ${months} months`;
}

/**
 * The dialog that records a review, with optional notes. Resolves with the updated strategy,
 * or undefined when closed without recording.
 */
export function markReviewed() {
  return openDialog("Mark your review done", (close) => {
    const notes = field({
      label: "What did you change?",
      optional: true,
      control: h("textarea", { name: "notes", rows: "4", maxlength: "10000" }),
      hint: "Who you unfollowed, what you will communicate about, a network you dropped or added.",
    });
    const problem = h("div", { class: "form-error" });
    const submit = h("button", { type: "submit", class: "primary" }, "Mark reviewed");
    async function onSubmit(event) {
      event.preventDefault();
      problem.replaceChildren();
      submit.disabled = true;
      try {
        const text = notes.control.value.trim();
        const { data } = await api("/strategy/review", {
          method: "POST",
          body: text ? { notes: text } : {},
        });
        store.setStrategy(data);
        announce(
          `Review recorded. The next one is due ${formatDate(data.next_review_at, store.preferredTimeZone())}.`,
        );
        close(data);
      } catch (error) {
        problem.replaceChildren(errorBox(error));
        submit.disabled = false;
      }
    }
    return h(
      "form",
      { novalidate: true, onsubmit: onSubmit },
      h(
        "p",
        {},
        "Strategies evolve. Did you look again at who you follow, what you want to communicate, and even which networks you use?",
      ),
      notes.wrap,
      problem,
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
 * The banner shown when the strategy's review is due; null when it is not.
 * `onReviewed(strategy)` runs after the review is recorded (the banner removes itself).
 * `link` adds a link to the Strategy screen (for the Compose and Queue screens).
 */
export function reviewBanner(strategy, { onReviewed = null, link = false } = {}) {
  if (!strategy || !strategy.review_due) return null;
  const titleId = uid("review-due");
  const banner = h(
    "aside",
    { class: "banner-review", "aria-labelledby": titleId },
    h(
      "p",
      { class: "banner-title", id: titleId },
      h("strong", {}, `Time for your ${intervalWords(strategy.review_interval_months)} review:`),
      " who you follow, what you communicate, which networks.",
    ),
    h(
      "p",
      { class: "banner-text" },
      strategy.last_reviewed_at
        ? `Your last review was on ${formatDate(strategy.last_reviewed_at, store.preferredTimeZone())}.`
        : "You have not reviewed your strategy yet.",
      " Unfollow who no longer inspires you, and keep only the networks that serve a goal.",
    ),
    h(
      "div",
      { class: "actions" },
      h(
        "button",
        {
          type: "button",
          class: "primary small",
          onclick: async () => {
            const updated = await markReviewed();
            if (!updated) return;
            // The button that had focus goes with the banner: start again at the heading.
            banner.remove();
            document.querySelector("#main h1")?.focus({ preventScroll: true });
            if (onReviewed) await onReviewed(updated);
          },
        },
        "Mark reviewed",
      ),
      link ? h("a", { href: "#/strategy", class: "button small secondary" }, "Open your strategy") : null,
    ),
  );
  return banner;
}

/** The strategy for a banner: a screen must still work when it cannot be loaded. */
export async function strategyOrNull() {
  try {
    return await store.loadStrategy({ fresh: true });
  } catch (error) {
    if (error.status === 401) throw error;
    return null;
  }
}

/**
 * The "In use" switch of an account: PATCH active. A refusal (too many networks, scheduled
 * posts) is shown in `problem`, next to the switch, and the switch goes back.
 * `onChange(account)` runs after a change is saved.
 */
export function activeSwitch(account, { describedBy = null, onChange = null } = {}) {
  const id = uid("active");
  const problem = h("div", { class: "form-error switch-problem" });
  const input = h("input", {
    type: "checkbox",
    role: "switch",
    id,
    class: "switch",
    checked: account.active !== false,
    "aria-describedby": describedBy,
    dataset: { account: account.id },
  });
  const label = store.accountLabel(account);
  // Not disabled while saving: a disabled control would lose the keyboard focus.
  let pending = false;
  input.addEventListener("change", async () => {
    const wanted = input.checked;
    if (pending) {
      input.checked = !wanted;
      return;
    }
    pending = true;
    input.setAttribute("aria-busy", "true");
    problem.replaceChildren();
    try {
      const { data } = await api(`/accounts/${account.id}`, { method: "PATCH", body: { active: wanted } });
      announce(
        wanted
          ? `${label} is one of your networks again.`
          : `${label} is no longer in use. Its posts and publish log stay.`,
      );
      if (onChange) await onChange(data);
    } catch (error) {
      input.checked = !wanted;
      const actions =
        error.kind === "account-has-scheduled-posts"
          ? [h("a", { href: "#/queue", class: "button small secondary" }, "See the queue")]
          : [];
      problem.replaceChildren(errorBox(error, actions));
      if (!error.problem) announce(describeError(error), { tone: "error" });
    } finally {
      pending = false;
      input.removeAttribute("aria-busy");
    }
  });
  const wrap = h("div", { class: "switch-field" }, input, h("label", { for: id }, "In use"));
  return { wrap, input, problem };
}

/** After a list is drawn again, put focus back on the same account's switch. */
export function refocusSwitch(container, accountId) {
  const again = container.querySelector(`input.switch[data-account="${accountId}"]`);
  if (again) again.focus();
}
