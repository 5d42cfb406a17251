// Tiny DOM helpers. Text always goes in as text nodes, never as HTML, so a post's words
// (or a network's error message) can never inject markup.

let nextId = 0;

/** A unique element id with a readable prefix, for label/aria wiring. */
export function uid(prefix = "id") {
  nextId += 1;
  return `${prefix}-${nextId}`;
}

/**
 * h("button", {type: "button", class: "x", onclick: fn, "aria-label": "…"}, "text", child)
 * Attributes set to null, undefined or false are left out; true sets a boolean attribute.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      el.addEventListener(name.slice(2), value);
    } else if (name === "class") {
      el.className = value;
    } else if (name === "value" || name === "checked" || name === "selected") {
      el[name] = value; // properties, so they reflect what the user sees
    } else if (name === "dataset") {
      Object.assign(el.dataset, value);
    } else {
      el.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(el, children);
  return el;
}

export function append(parent, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

export function clear(el) {
  el.replaceChildren();
  return el;
}

/**
 * A labelled form field with a hint and an error slot, wired with aria-describedby.
 * Returns {wrap, control, error, hint}; showError/clearError work on it.
 */
export function field({ label, control, hint = null, id = uid("f"), optional = false }) {
  control.id = id;
  const hintEl = hint ? h("p", { class: "hint", id: `${id}-hint` }, hint) : null;
  const error = h("p", { class: "field-error", id: `${id}-error`, hidden: true });
  const described = [hintEl ? hintEl.id : null].filter(Boolean);
  if (described.length) control.setAttribute("aria-describedby", described.join(" "));
  const labelEl = h(
    "label",
    { for: id },
    label,
    optional ? h("span", { class: "optional" }, " (optional)") : null,
  );
  const wrap = h("div", { class: "field" }, labelEl, control, hintEl, error);
  return { wrap, control, error, hint: hintEl, label: labelEl };
}

export function showError(f, message) {
  f.error.textContent = message;
  f.error.hidden = false;
  f.control.setAttribute("aria-invalid", "true");
  const ids = new Set((f.control.getAttribute("aria-describedby") || "").split(" ").filter(Boolean));
  ids.add(f.error.id);
  f.control.setAttribute("aria-describedby", [...ids].join(" "));
}

export function clearError(f) {
  f.error.textContent = "";
  f.error.hidden = true;
  f.control.removeAttribute("aria-invalid");
  const ids = (f.control.getAttribute("aria-describedby") || "")
    .split(" ")
    .filter((i) => i && i !== f.error.id);
  if (ids.length) f.control.setAttribute("aria-describedby", ids.join(" "));
  else f.control.removeAttribute("aria-describedby");
}

/** <select> from [{value, label}] (or plain strings). */
export function select(options, attrs = {}) {
  return h(
    "select",
    attrs,
    options.map((o) => {
      const opt = typeof o === "string" ? { value: o, label: o } : o;
      return h("option", { value: opt.value, selected: opt.value === attrs.value }, opt.label);
    }),
  );
}

/** A heading that takes focus after navigation, so screen readers hear where they are. */
export function pageHeading(text) {
  return h("h1", { tabindex: "-1", class: "page-title" }, text);
}

/** A friendly "nothing here" block with an optional action link. */
export function emptyState(message, action = null) {
  return h("div", { class: "empty" }, h("p", {}, message), action);
}

/** Runs fn at most once per `ms` of quiet (the preview's debounce). */
export function debounce(fn, ms) {
  let timer = null;
  const wrapped = (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
  wrapped.cancel = () => clearTimeout(timer);
  return wrapped;
}
