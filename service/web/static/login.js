// Login: username and password for a session token (kept in sessionStorage).

import { api, token } from "./api.js";
import { clearError, field, h, showError } from "./dom.js";
import { announce, describeError } from "./ui.js";

export function renderLogin(main) {
  const username = field({
    label: "Username",
    control: h("input", {
      name: "username",
      autocomplete: "username",
      required: true,
      autocapitalize: "none",
      spellcheck: "false",
    }),
  });
  const password = field({
    label: "Password",
    control: h("input", {
      name: "password",
      type: "password",
      autocomplete: "current-password",
      required: true,
    }),
  });
  const formError = h("div", { class: "notice notice-error", role: "alert", hidden: true });
  const submit = h("button", { type: "submit", class: "primary" }, "Log in");

  async function onSubmit(event) {
    event.preventDefault();
    formError.hidden = true;
    clearError(username);
    clearError(password);
    const body = { username: username.control.value.trim(), password: password.control.value };
    if (!body.username) showError(username, "Enter your username.");
    if (!body.password) showError(password, "Enter your password.");
    if (!body.username || !body.password) {
      (body.username ? password : username).control.focus();
      return;
    }
    submit.disabled = true;
    submit.textContent = "Logging in…";
    try {
      const { data } = await api("/auth/login", { method: "POST", body });
      token.set(data.access_token);
      announce(`Logged in as ${body.username}.`);
      window.dispatchEvent(new CustomEvent("handpost:signed-in"));
    } catch (error) {
      formError.textContent =
        error.status === 401 ? "The username or password is wrong. Try again." : describeError(error);
      formError.hidden = false;
      password.control.value = "";
      password.control.focus();
    } finally {
      submit.disabled = false;
      submit.textContent = "Log in";
    }
  }

  main.append(
    h(
      "section",
      { class: "login card", "aria-labelledby": "login-title" },
      h("h1", { id: "login-title", class: "page-title", tabindex: "-1" }, "Log in to Handpost"),
      h("p", { class: "lede" }, "Write each post for its own audience, and let Handpost publish it on time."),
      h(
        "form",
        { novalidate: true, onsubmit: onSubmit },
        formError,
        username.wrap,
        password.wrap,
        h("div", { class: "actions" }, submit),
      ),
      h(
        "p",
        { class: "hint" },
        "No user yet? Create one on the server with ",
        h("code", {}, "handpost user create NAME --password-stdin"),
        ".",
      ),
    ),
  );
  username.control.focus();
}
