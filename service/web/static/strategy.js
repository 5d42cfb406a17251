// Strategy: what the user wants from social media (goals), a handful of networks each for a
// purpose, and the review every few months. The essays' personal social media strategy.

import { api } from "./api.js";
import { showFieldErrors } from "./actions.js";
import { clearError, emptyState, field, h, pageHeading, showError, uid } from "./dom.js";
import { formatDate } from "./format.js";
import * as store from "./store.js";
import { announce, confirmDialog, describeError, errorBox, networkBadge } from "./ui.js";
import {
  activeSwitch,
  everyMonths,
  markReviewed,
  refocusSwitch,
  reviewBanner,
  sphereHint,
  sphereSelect,
} from "./strategy-parts.js";

const GOAL_IDEAS = ["Build relationships", "Advance my cause", "Build my personal brand"];
const INTERVALS = [1, 2, 3, 4, 6, 9, 12, 18, 24, 36];

export async function renderStrategy(main) {
  let [strategy, accounts] = await Promise.all([
    store.loadStrategy({ fresh: true }),
    store.loadAccounts({ fresh: true }),
  ]);
  const zone = store.preferredTimeZone();

  const bannerSlot = h("div", { class: "banner-slot" });
  const adviceSlot = h("div", { class: "advice-slot" });
  const goalList = h("div", { class: "goal-list" });
  const networkList = h("div", { class: "network-list" });
  const inUse = h("p", { class: "in-use" });
  const reviewFacts = h("div", { class: "review-facts" });
  let editing = null; // the id of the goal being edited

  async function reload() {
    [strategy, accounts] = await Promise.all([
      store.loadStrategy({ fresh: true }),
      store.loadAccounts({ fresh: true }),
    ]);
    draw();
  }

  function draw() {
    drawBanner();
    drawAdvice();
    drawGoals();
    drawNetworks();
    drawReview();
    requireGoal.control.checked = strategy.require_goal;
  }

  // --- the review banner and the advice ---------------------------------------------------
  function drawBanner() {
    bannerSlot.replaceChildren(
      reviewBanner(strategy, {
        onReviewed: async () => {
          await reload();
        },
      }) ?? "",
    );
  }

  function drawAdvice() {
    if (!strategy.advice.length) {
      adviceSlot.replaceChildren(
        h(
          "p",
          { class: "strategy-ok" },
          "Your strategy has goals, and every network has its purpose. Always deliver value.",
        ),
      );
      return;
    }
    adviceSlot.replaceChildren(
      h(
        "section",
        { class: "check check-advice strategy-advice", "aria-labelledby": "advice-title" },
        h("h2", { id: "advice-title" }, "What your strategy still needs"),
        h(
          "ul",
          {},
          strategy.advice.map((a) => h("li", {}, a)),
        ),
      ),
    );
  }

  // --- goals ------------------------------------------------------------------------------
  const goalIdeas = h(
    "datalist",
    { id: uid("goal-ideas") },
    GOAL_IDEAS.map((g) => h("option", { value: g })),
  );
  const goalName = field({
    label: "Goal",
    control: h("input", { name: "name", maxlength: "100", autocomplete: "off", list: goalIdeas.id }),
    hint: "What you want from social media, in a few words.",
  });
  const goalDescription = field({
    label: "Description",
    optional: true,
    control: h("textarea", { name: "description", rows: "2", maxlength: "2000" }),
    hint: "How a post serves it, in a way that is valuable to others.",
  });
  const goalError = h("div", { class: "form-error" });
  const addGoalButton = h("button", { type: "submit", class: "primary" }, "Add goal");

  async function addGoal(event) {
    event.preventDefault();
    goalError.replaceChildren();
    clearError(goalName);
    clearError(goalDescription);
    const name = goalName.control.value.trim();
    if (!name) {
      showError(goalName, "Name the goal.");
      goalName.control.focus();
      return;
    }
    const description = goalDescription.control.value.trim();
    addGoalButton.disabled = true;
    try {
      await api("/strategy/goals", {
        method: "POST",
        body: description ? { name, description } : { name },
      });
      announce(`Added the goal “${name}”.`);
      goalName.control.value = "";
      goalDescription.control.value = "";
      await reload();
      goalName.control.focus();
    } catch (error) {
      goalFailure(error, { name: goalName, description: goalDescription }, goalError);
    } finally {
      addGoalButton.disabled = false;
    }
  }

  function goalFailure(error, fields, box) {
    if (error.kind === "goal-exists") {
      showError(fields.name, describeError(error));
      fields.name.control.focus();
      return;
    }
    const left = error.status === 422 ? showFieldErrors(error, fields) : [null];
    if (left.length) box.replaceChildren(errorBox(error));
  }

  function drawGoals() {
    if (!strategy.goals.length) {
      goalList.replaceChildren(
        emptyState(
          "No goals yet — what do you want from social media?",
          h(
            "p",
            { class: "hint" },
            "For example: build relationships, advance your cause, build your personal brand.",
          ),
        ),
      );
      return;
    }
    goalList.replaceChildren(
      h(
        "ul",
        { class: "cards goals" },
        strategy.goals.map((g) => h("li", {}, editing === g.id ? goalEditor(g) : goalCard(g))),
      ),
    );
  }

  function goalCard(goal) {
    const titleId = uid("goal");
    return h(
      "article",
      { class: "goal-card", dataset: { goal: goal.id } },
      h("h3", { id: titleId }, goal.name),
      goal.description
        ? h("p", { class: "goal-description" }, goal.description)
        : h("p", { class: "hint" }, "No description yet."),
      h(
        "div",
        { class: "actions" },
        h(
          "button",
          {
            type: "button",
            class: "small secondary",
            "aria-describedby": titleId,
            dataset: { edit: goal.id },
            onclick: () => {
              editing = goal.id;
              drawGoals();
              goalList.querySelector(`[data-goal="${goal.id}"] input`)?.focus();
            },
          },
          "Edit",
        ),
        h(
          "button",
          {
            type: "button",
            class: "small danger-outline",
            "aria-describedby": titleId,
            onclick: () => deleteGoal(goal),
          },
          "Delete",
        ),
      ),
    );
  }

  function goalEditor(goal) {
    const name = field({
      label: "Goal",
      control: h("input", { name: "name", value: goal.name, maxlength: "100", autocomplete: "off" }),
    });
    const description = field({
      label: "Description",
      optional: true,
      control: h("textarea", { name: "description", rows: "2", maxlength: "2000", value: goal.description ?? "" }),
    });
    const box = h("div", { class: "form-error" });
    const save = h("button", { type: "submit", class: "primary small" }, "Save goal");
    const backToCard = () => {
      editing = null;
      drawGoals();
      goalList.querySelector(`[data-edit="${goal.id}"]`)?.focus();
    };
    async function onSubmit(event) {
      event.preventDefault();
      box.replaceChildren();
      clearError(name);
      clearError(description);
      const newName = name.control.value.trim();
      if (!newName) {
        showError(name, "Name the goal.");
        name.control.focus();
        return;
      }
      save.disabled = true;
      try {
        await api(`/strategy/goals/${goal.id}`, {
          method: "PATCH",
          body: { name: newName, description: description.control.value.trim() || null },
        });
        announce(newName === goal.name ? `Saved the goal “${newName}”.` : `Renamed the goal to “${newName}”.`);
        editing = null;
        await reload();
        goalList.querySelector(`[data-edit="${goal.id}"]`)?.focus();
      } catch (error) {
        goalFailure(error, { name, description }, box);
        save.disabled = false;
      }
    }
    return h(
      "form",
      {
        class: "goal-card editing",
        novalidate: true,
        onsubmit: onSubmit,
        dataset: { goal: goal.id },
        "aria-label": `Edit the goal ${goal.name}`,
        onkeydown: (event) => {
          if (event.key === "Escape") {
            event.preventDefault();
            backToCard();
          }
        },
      },
      name.wrap,
      description.wrap,
      box,
      h(
        "div",
        { class: "actions" },
        save,
        h("button", { type: "button", class: "small secondary", onclick: backToCard }, "Cancel"),
      ),
    );
  }

  async function deleteGoal(goal) {
    const ok = await confirmDialog(
      `Delete the goal “${goal.name}”?`,
      "Posts that name it keep it as written; new posts can no longer choose it.",
      "Delete goal",
      { danger: true },
    );
    if (!ok) return;
    try {
      await api(`/strategy/goals/${goal.id}`, { method: "DELETE" });
      announce(`Deleted the goal “${goal.name}”.`);
      await reload();
      goalName.control.focus();
    } catch (error) {
      announce(describeError(error), { tone: "error" });
    }
  }

  const requireGoal = {
    control: h("input", {
      type: "checkbox",
      role: "switch",
      class: "switch",
      id: uid("require-goal"),
      checked: strategy.require_goal,
    }),
  };
  const requireGoalHint = h(
    "p",
    { class: "hint", id: `${requireGoal.control.id}-hint` },
    "When on, and once you have goals, a post can only be scheduled when it names the goal it serves.",
  );
  requireGoal.control.setAttribute("aria-describedby", requireGoalHint.id);
  const requireGoalProblem = h("div", { class: "form-error" });
  let requireGoalPending = false; // not disabled while saving: it would lose the focus
  requireGoal.control.addEventListener("change", async () => {
    const wanted = requireGoal.control.checked;
    if (requireGoalPending) {
      requireGoal.control.checked = !wanted;
      return;
    }
    requireGoalPending = true;
    requireGoalProblem.replaceChildren();
    try {
      const { data } = await api("/strategy", { method: "PATCH", body: { require_goal: wanted } });
      strategy = store.setStrategy(data);
      announce(
        wanted
          ? "Posts must now name a goal before they are scheduled."
          : "Posts may be scheduled without a goal; Handpost will still remind you.",
      );
    } catch (error) {
      requireGoal.control.checked = !wanted;
      requireGoalProblem.replaceChildren(errorBox(error));
    } finally {
      requireGoalPending = false;
    }
  });

  // --- networks ---------------------------------------------------------------------------
  function drawNetworks() {
    const active = accounts.filter((a) => a.active !== false);
    const resting = accounts.filter((a) => a.active === false);
    inUse.replaceChildren(
      h("strong", {}, `${active.length} of ${strategy.max_active_accounts}`),
      " networks in use.",
      active.length >= strategy.max_active_accounts
        ? " That is your handful: take one out of use before adding another."
        : "",
    );
    if (!accounts.length) {
      networkList.replaceChildren(
        emptyState(
          "No networks yet — choose a handful, each for a purpose.",
          h("a", { href: "#/accounts", class: "button primary" }, "Add an account"),
        ),
      );
      return;
    }
    networkList.replaceChildren(
      active.length
        ? h(
            "ul",
            { class: "cards" },
            active.map((a) => h("li", {}, networkCard(a))),
          )
        : h("p", { class: "hint" }, "None of your accounts is in use. Turn one on below."),
      resting.length
        ? h(
            "div",
            { class: "resting" },
            h("h3", {}, "Not in use"),
            h(
              "ul",
              { class: "cards" },
              resting.map((a) => h("li", {}, restingCard(a))),
            ),
          )
        : null,
    );
  }

  async function afterSwitch(account) {
    await reload();
    refocusSwitch(networkList, account.id);
  }

  function networkTitle(a, titleId) {
    return h(
      "h3",
      { id: titleId },
      networkBadge(a.network, store.networkName(a.network)),
      " ",
      a.display_name || a.handle,
    );
  }

  function networkCard(account) {
    const titleId = uid("net");
    const sphere = field({
      label: "Sphere",
      control: sphereSelect(account.sphere, { name: "sphere" }),
      hint: sphereHint(account.sphere),
    });
    sphere.control.addEventListener("change", () => {
      sphere.hint.textContent = sphereHint(sphere.control.value);
    });
    const purpose = field({
      label: "Purpose",
      control: h("input", { name: "purpose", value: account.purpose, autocomplete: "off" }),
    });
    const audience = field({
      label: "Audience",
      control: h("input", { name: "audience", value: account.audience, autocomplete: "off" }),
    });
    const fields = { sphere, purpose, audience };
    const box = h("div", { class: "form-error" });
    const save = h(
      "button",
      { type: "submit", class: "small primary", "aria-describedby": titleId, dataset: { save: account.id } },
      "Save",
    );
    const toggle = activeSwitch(account, { describedBy: titleId, onChange: afterSwitch });
    async function onSubmit(event) {
      event.preventDefault();
      box.replaceChildren();
      for (const f of Object.values(fields)) clearError(f);
      const body = {
        sphere: sphere.control.value || null,
        purpose: purpose.control.value.trim(),
        audience: audience.control.value.trim(),
      };
      if (!body.purpose) showError(purpose, "Say why you use this network.");
      if (!body.audience) showError(audience, "Say who reads you there.");
      if (!body.purpose || !body.audience) {
        (body.purpose ? audience : purpose).control.focus();
        return;
      }
      save.disabled = true;
      try {
        await api(`/accounts/${account.id}`, { method: "PATCH", body });
        announce(`Saved the purpose of ${store.accountLabel(account)}.`);
        await reload();
        networkList.querySelector(`[data-save="${account.id}"]`)?.focus();
      } catch (error) {
        const left = error.status === 422 ? showFieldErrors(error, fields) : [null];
        if (left.length) box.replaceChildren(errorBox(error));
        save.disabled = false;
      }
    }
    return h(
      "form",
      {
        class: `account-card network-card net-edge-${account.network}`,
        novalidate: true,
        onsubmit: onSubmit,
        "aria-labelledby": titleId,
      },
      h("div", { class: "network-head" }, networkTitle(account, titleId), toggle.wrap),
      toggle.problem,
      sphere.wrap,
      h("div", { class: "row" }, purpose.wrap, audience.wrap),
      box,
      h("div", { class: "actions" }, save),
    );
  }

  function restingCard(account) {
    const titleId = uid("net");
    const toggle = activeSwitch(account, { describedBy: titleId, onChange: afterSwitch });
    return h(
      "article",
      { class: `account-card network-card resting-card net-edge-${account.network}` },
      h("div", { class: "network-head" }, networkTitle(account, titleId), toggle.wrap),
      h("p", { class: "hint" }, `${account.purpose} · ${account.audience}`),
      toggle.problem,
    );
  }

  // --- the review -------------------------------------------------------------------------
  const intervalSelect = h("select", { name: "review_interval_months", id: uid("interval") });
  const intervalProblem = h("div", { class: "form-error" });
  const intervalSave = h("button", { type: "submit", class: "small secondary" }, "Save");
  async function saveInterval(event) {
    event.preventDefault();
    intervalProblem.replaceChildren();
    intervalSave.disabled = true;
    try {
      const months = Number(intervalSelect.value);
      const { data } = await api("/strategy", { method: "PATCH", body: { review_interval_months: months } });
      strategy = store.setStrategy(data);
      announce(
        `You will review your strategy ${everyMonths(months)}. Next review: ${formatDate(data.next_review_at, zone)}.`,
      );
      draw();
      intervalSelect.focus();
    } catch (error) {
      intervalProblem.replaceChildren(errorBox(error));
    } finally {
      intervalSave.disabled = false;
    }
  }
  const recordReview = h(
    "button",
    {
      type: "button",
      class: "secondary",
      onclick: async () => {
        if (await markReviewed()) {
          await reload();
          recordReview.focus();
        }
      },
    },
    "Record a review",
  );

  function drawReview() {
    const months = strategy.review_interval_months;
    const choices = [...new Set([...INTERVALS, months])].sort((a, b) => a - b);
    intervalSelect.replaceChildren(
      ...choices.map((m) =>
        h("option", { value: String(m), selected: m === months }, m === 1 ? "1 month" : `${m} months`),
      ),
    );
    reviewFacts.replaceChildren(
      h(
        "dl",
        { class: "facts" },
        h("dt", {}, "Last review"),
        h(
          "dd",
          {},
          strategy.last_reviewed_at
            ? h("time", { datetime: strategy.last_reviewed_at }, formatDate(strategy.last_reviewed_at, zone))
            : "Not yet",
        ),
        h("dt", {}, "Next review"),
        h(
          "dd",
          {},
          h("time", { datetime: strategy.next_review_at }, formatDate(strategy.next_review_at, zone)),
          strategy.review_due ? [" ", h("span", { class: "due" }, "due now")] : null,
        ),
        strategy.review_notes
          ? [h("dt", {}, "Notes"), h("dd", {}, h("blockquote", { class: "review-notes" }, strategy.review_notes))]
          : null,
      ),
    );
  }

  // --- the screen -------------------------------------------------------------------------
  main.append(
    h("div", { class: "page-head" }, pageHeading("Strategy")),
    h(
      "p",
      { class: "lede" },
      "Your personal social media strategy: what you want from social media, a handful of networks each for a purpose, and a review every few months.",
    ),
    bannerSlot,
    adviceSlot,
    h(
      "div",
      { class: "strategy-grid" },
      h(
        "section",
        { class: "card", "aria-labelledby": "goals-title" },
        h("h2", { id: "goals-title" }, "Goals"),
        h(
          "p",
          { class: "hint" },
          "Always deliver value: does a post build relationships, advance your cause, or build your personal brand in a way that is valuable to others?",
        ),
        goalList,
        h(
          "form",
          { class: "add-goal", novalidate: true, onsubmit: addGoal, "aria-labelledby": "add-goal-title" },
          h("h3", { id: "add-goal-title" }, "Add a goal"),
          goalName.wrap,
          goalDescription.wrap,
          goalIdeas,
          goalError,
          h("div", { class: "actions" }, addGoalButton),
        ),
        h(
          "div",
          { class: "switch-block" },
          h(
            "div",
            { class: "switch-field" },
            requireGoal.control,
            h("label", { for: requireGoal.control.id }, "Every post names the goal it serves"),
          ),
          requireGoalHint,
          requireGoalProblem,
        ),
      ),
      h(
        "section",
        { class: "card", "aria-labelledby": "networks-title" },
        h("h2", { id: "networks-title" }, "Networks"),
        h(
          "p",
          { class: "hint" },
          "Choose a handful of networks, each for a purpose: who reads you there, and what you write for them.",
        ),
        inUse,
        networkList,
        h(
          "p",
          { class: "hint" },
          "Add accounts, or remove ones without posts, on ",
          h("a", { href: "#/accounts" }, "the Accounts screen"),
          ".",
        ),
      ),
    ),
    h(
      "section",
      { class: "card review", "aria-labelledby": "review-title" },
      h("h2", { id: "review-title" }, "Review"),
      h(
        "p",
        { class: "hint" },
        "Strategies evolve: regularly review who you follow, what you communicate, and even which networks you use.",
      ),
      h(
        "div",
        { class: "review-layout" },
        reviewFacts,
        h(
          "div",
          { class: "review-actions" },
          h(
            "form",
            { class: "interval", novalidate: true, onsubmit: saveInterval },
            h(
              "div",
              { class: "field" },
              h("label", { for: intervalSelect.id }, "Review every"),
              h("div", { class: "inline-controls" }, intervalSelect, intervalSave),
            ),
            intervalProblem,
          ),
          h("div", { class: "actions" }, recordReview),
        ),
      ),
    ),
  );
  draw();
  return null;
}
