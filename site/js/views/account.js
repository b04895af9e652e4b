// Sign in, sign up and the confirmation-code form. Tokens are kept by api.js.

import * as api from "../api.js";
import { h, render, errorBox, link, field, showFieldErrors, toast } from "../ui.js";

const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** Only in-app hash routes are accepted as a post-sign-in destination. */
function nextRoute(query) {
  const n = query.next || "";
  return /^#\/[^/]/.test(n) || n === "#/" ? n : "#/";
}

function passwordField(id, label, autocomplete, hint) {
  const wrap = field({ id, label, type: "password", required: true, autocomplete, hint });
  const input = wrap.querySelector("input");
  const toggleId = id + "-show";
  wrap.append(
    h("div", { class: "check" },
      h("input", { type: "checkbox", id: toggleId, onchange: (e) => (input.type = e.target.checked ? "text" : "password") }),
      h("label", { for: toggleId }, "Show password"),
    ),
  );
  return wrap;
}

function readForm(form) {
  return Object.fromEntries([...new FormData(form)].map(([k, v]) => [k, String(v).trim()]));
}

/** Disable the submit button while `fn` runs; show its error in `slot`. */
async function submitting(form, slot, label, fn) {
  const btn = form.querySelector("button[type=submit]");
  const text = btn.textContent;
  btn.disabled = true;
  btn.textContent = label;
  slot.replaceChildren();
  try {
    await fn();
  } catch (err) {
    slot.replaceChildren(errorBox(err));
    slot.focus();
  } finally {
    btn.disabled = false;
    btn.textContent = text;
  }
}

export async function signInView(_p, query = {}) {
  if (api.getSession()) {
    location.replace(nextRoute(query));
    return;
  }
  const slot = h("div", { class: "alert-slot", tabindex: "-1" });
  const form = h(
    "form",
    { class: "auth-form", novalidate: true, onsubmit: (e) => {
      e.preventDefault();
      const v = readForm(form);
      const errors = {};
      if (!EMAIL_RE.test(v.email || "")) errors.email = "Enter your email address, like name@example.com.";
      if (!v.password) errors.password = "Enter your password.";
      if (!showFieldErrors(form, errors)) return;
      submitting(form, slot, "Signing in…", async () => {
        let challenge;
        try {
          challenge = await api.logIn(v.email, form.password.value);
        } catch (err) {
          if (err.code === "USER_NOT_CONFIRMED") {
            location.hash = "#/confirm?email=" + encodeURIComponent(v.email) + "&next=" + encodeURIComponent(nextRoute(query));
            return;
          }
          throw err;
        }
        if (challenge) {
          await secondFactorStep(v.email, form.password.value, challenge, query);
          return;
        }
        toast("Welcome back!", "success");
        location.hash = nextRoute(query);
      });
    } },
    slot,
    field({ id: "email", label: "Email", type: "email", required: true, autocomplete: "email", value: query.email || "" }),
    passwordField("password", "Password", "current-password"),
    h("button", { type: "submit", class: "btn btn-primary btn-block" }, "Sign in"),
  );
  render(
    h("section", { class: "auth" },
      h("h1", {}, "Sign in"),
      form,
      h("p", { class: "muted" }, "New here? ", link("#/signup" + (query.next ? "?next=" + encodeURIComponent(query.next) : ""), "Create an account")),
    ),
  );
}

// An authenticator app shows 6 digits; a code sent by e-mail or SMS (Entra External ID's second
// factor) has up to 8.
const APP_CODE = { pattern: /^[0-9]{6}$/, hint: "Enter the 6-digit code your authenticator app shows." };
const ANY_CODE = { pattern: /^[0-9]{6,8}$/, hint: "Enter the code: 6 to 8 digits." };

function codeForm(label, onCode, codeRule = APP_CODE) {
  const slot = h("div", { class: "alert-slot", tabindex: "-1" });
  const form = h(
    "form",
    { class: "auth-form", novalidate: true, onsubmit: (e) => {
      e.preventDefault();
      const code = readForm(form).code || "";
      if (!showFieldErrors(form, codeRule.pattern.test(code) ? {} : { code: codeRule.hint })) return;
      submitting(form, slot, "Checking…", () => onCode(code));
    } },
    slot,
    field({ id: "code", label: "Authentication code", required: true, autocomplete: "one-time-code", inputmode: "numeric", spellcheck: "false" }),
    h("button", { type: "submit", class: "btn btn-primary btn-block" }, label),
  );
  return form;
}

/** Sign-in asked for a second factor: the code from the app, or (admins without one) enrolment first. */
async function secondFactorStep(email, password, challenge, query) {
  const done = () => {
    toast("Welcome back!", "success");
    location.hash = nextRoute(query);
  };
  if (challenge.challenge === "SOFTWARE_TOKEN_MFA") {
    render(
      h("section", { class: "auth" },
        h("h1", {}, "Two-step sign-in"),
        h("p", {}, "Enter the code from your authenticator app, or the one we sent to your e-mail or phone."),
        codeForm("Sign in", async (code) => {
          await api.answerMfa(email, challenge.session, code);
          done();
        }, ANY_CODE),
      ),
    );
    document.getElementById("code").focus();
    return;
  }
  const setup = await api.startMfaSetup(challenge.session);
  render(
    h("section", { class: "auth" },
      h("h1", {}, "Set up two-step sign-in"),
      h("p", {}, "Admins sign in with a password and an authenticator app. Add this key to your app, then enter the code it shows."),
      h("p", {}, "Key: ", h("code", { id: "mfa-secret" }, setup.secretCode)),
      h("p", { class: "muted" }, "Or open this link on a device with the app: ", h("code", { id: "mfa-uri" }, setup.otpauthUri)),
      codeForm("Turn on", async (code) => {
        await api.verifyMfaSetup(challenge.session, code, setup.session);
        // Enrolment ended every earlier session: sign in again, now with the app.
        const next = await api.logIn(email, password);
        if (!next) return done();
        await secondFactorStep(email, password, next, query);
        toast("Your authenticator is on. Enter its next code to finish signing in.", "success");
      }),
    ),
  );
  document.getElementById("code").focus();
}

export async function signUpView(_p, query = {}) {
  const slot = h("div", { class: "alert-slot", tabindex: "-1" });
  const form = h(
    "form",
    { class: "auth-form", novalidate: true, onsubmit: (e) => {
      e.preventDefault();
      const v = readForm(form);
      const password = form.password.value;
      const errors = {};
      if (!EMAIL_RE.test(v.email || "")) errors.email = "Enter your email address, like name@example.com.";
      if (password.length < 8) errors.password = "Use at least 8 characters.";
      else if (!/[a-z]/.test(password) || !/[A-Z]/.test(password) || !/\d/.test(password)) errors.password = "Mix upper- and lower-case letters and at least one number.";
      if (!showFieldErrors(form, errors)) return;
      submitting(form, slot, "Creating account…", async () => {
        const res = (await api.signUp(v.email, password)) || {};
        // The local stack confirms sign-ups at once; a cloud user pool may email a code.
        const needsCode =
          res.confirmed === false || res.userConfirmed === false || res.needsConfirmation === true || res.confirmationRequired === true;
        if (needsCode) {
          location.hash = "#/confirm?email=" + encodeURIComponent(v.email) + "&next=" + encodeURIComponent(nextRoute(query));
          return;
        }
        try {
          if (await api.logIn(v.email, password)) {
            location.hash = "#/signin?email=" + encodeURIComponent(v.email) + "&next=" + encodeURIComponent(nextRoute(query));
            return;
          }
        } catch (err) {
          if (err.code === "USER_NOT_CONFIRMED") {
            location.hash = "#/confirm?email=" + encodeURIComponent(v.email) + "&next=" + encodeURIComponent(nextRoute(query));
            return;
          }
          throw err;
        }
        toast("Your account is ready. Happy shopping!", "success");
        location.hash = nextRoute(query);
      });
    } },
    slot,
    field({ id: "email", label: "Email", type: "email", required: true, autocomplete: "email" }),
    passwordField("password", "Password", "new-password", "At least 8 characters, with upper- and lower-case letters and a number."),
    h("button", { type: "submit", class: "btn btn-primary btn-block" }, "Create account"),
  );
  render(
    h("section", { class: "auth" },
      h("h1", {}, "Create your account"),
      form,
      h("p", { class: "muted" }, "Already have an account? ", link("#/signin", "Sign in")),
    ),
  );
}

export async function confirmView(_p, query = {}) {
  const slot = h("div", { class: "alert-slot", tabindex: "-1" });
  const form = h(
    "form",
    { class: "auth-form", novalidate: true, onsubmit: (e) => {
      e.preventDefault();
      const v = readForm(form);
      const errors = {};
      if (!EMAIL_RE.test(v.email || "")) errors.email = "Enter your email address.";
      // Codes differ per cloud (six digits on Cognito, a long one-time token on others).
      if (!/^\S{4,2048}$/.test(v.code || "")) errors.code = "Enter the code from the email we sent you.";
      if (!showFieldErrors(form, errors)) return;
      submitting(form, slot, "Confirming…", async () => {
        await api.confirmSignUp(v.email, v.code);
        // The password is deliberately not kept around for an automatic sign-in.
        toast("Your account is confirmed. Please sign in.", "success");
        location.hash = "#/signin?email=" + encodeURIComponent(v.email) + "&next=" + encodeURIComponent(nextRoute(query));
      });
    } },
    slot,
    h("p", {}, "We emailed you a confirmation code. Enter it below to finish creating your account."),
    field({ id: "email", label: "Email", type: "email", required: true, autocomplete: "email", value: query.email || "" }),
    field({ id: "code", label: "Confirmation code", required: true, autocomplete: "one-time-code", spellcheck: "false", value: query.code || "" }),
    h("button", { type: "submit", class: "btn btn-primary btn-block" }, "Confirm account"),
  );
  render(h("section", { class: "auth" }, h("h1", {}, "Confirm your email"), form));
}
