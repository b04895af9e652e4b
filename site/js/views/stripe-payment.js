// The payment step when the shop takes cards through Stripe: Stripe.js's card element (its
// iframe keeps the card number away from this page), the PaymentIntent's client secret from
// POST /api/orders/{id}/payment, and stripe.confirmCardPayment, which runs 3-D Secure itself.
// Stripe's webhook then marks the order PAID: the page says so only once the API does.

import * as api from "../api.js";
import { h, errorBox, formatPrice } from "../ui.js";
import { stripeFor } from "../stripe.js";
import { PAID_OR_LATER, paymentSection, resultSlot, settledOrder } from "./payment-common.js";

// Waits between looks at the order after Stripe accepted the card (about 20 s in all).
const BACKOFF_MS = [250, 500, 1000, 2000, 3000, 5000, 8000];
const SAY_PROCESSING_AFTER = 3; // waits: about 2 s
const TEST_CARDS = "Test mode: 4242 4242 4242 4242 pays, 4000 0000 0000 0002 is declined (any future date, any CVC).";

const processing = () =>
  h("p", { class: "alert alert-info", role: "status" },
    "Payment processing. Stripe accepted your card; this order shows as paid as soon as Stripe confirms the payment to us.");

/** The form around the slot Stripe.js mounts its card element in (a labelled group). */
function cardForm(order, publishableKey, onSubmit) {
  const cardError = h("p", { class: "field-error", id: "card-element-error" });
  const slot = h("div", { id: "card-element", class: "card-element", role: "group",
    "aria-labelledby": "card-element-label", "aria-describedby": "card-element-error" });
  const submit = h("button", { type: "submit", class: "btn btn-primary btn-block", disabled: true },
    `Pay ${formatPrice(order.total, order.currency)}`);
  const form = h("form", { class: "payment-form", novalidate: true, onsubmit: onSubmit },
    h("div", { class: "field" },
      h("label", { id: "card-element-label" }, "Card details"),
      publishableKey.startsWith("pk_test_") ? h("p", { class: "hint" }, TEST_CARDS) : null,
      slot,
      cardError,
    ),
    submit,
  );
  return { form, slot, cardError, submit };
}

/** The "Pay" box for Stripe; onPaid(order) gets the order once the API says it is paid. */
export function stripePaymentBox(order, publishableKey, onPaid) {
  const result = resultSlot();
  const { form, slot, cardError, submit } = cardForm(order, publishableKey, onSubmit);
  let stripe = null;
  let card = null;

  stripeFor(publishableKey).then(
    (s) => {
      stripe = s;
      card = s.elements().create("card");
      card.on("change", (e) => { cardError.textContent = e.error ? e.error.message : ""; });
      card.mount(slot);
      submit.disabled = false;
    },
    () => result.replaceChildren(errorBox(
      "The card form could not be loaded: Stripe.js did not load. Check your connection (or a content blocker), then reload this page.")),
  );

  async function onSubmit(e) {
    e.preventDefault();
    if (!stripe || submit.disabled) return;
    submit.disabled = true;
    result.replaceChildren(h("p", { class: "muted" }, "Processing your payment…"));
    let confirmed = false;
    try {
      confirmed = await confirm();
      if (confirmed) await waitUntilPaid();
    } catch (err) {
      result.replaceChildren(errorBox(err));
    } finally {
      submit.disabled = confirmed; // a confirmed payment is not paid twice
    }
  }

  /** True once Stripe holds a confirmed payment; false (with Stripe's message shown) if not. */
  async function confirm() {
    const payment = await api.payOrder(order.orderId);
    if (payment.status === "succeeded") return true; // paid in an earlier visit: the event may be on its way
    const { error } = await stripe.confirmCardPayment(payment.clientSecret, { payment_method: { card } });
    if (!error) return true;
    result.replaceChildren(errorBox(error.message || "Your card was declined."));
    result.focus();
    return false;
  }

  async function waitUntilPaid() {
    const settled = await settledOrder(order.orderId, BACKOFF_MS, (i) => {
      if (i === SAY_PROCESSING_AFTER) result.replaceChildren(processing());
    });
    if (settled && PAID_OR_LATER.includes(settled.status)) onPaid(settled);
    else if (settled) result.replaceChildren(errorBox(`This order is ${settled.status.toLowerCase()}: contact us about your payment.`));
    else result.replaceChildren(processing());
  }

  return paymentSection(order, result, form);
}
