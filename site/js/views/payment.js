// The payment step of an order waiting for one (PLACED). The card goes to the API's
// POST /api/orders/{id}/payment; with the simulated processor of `make dev` the answer is
// final at once (approved, declined, or an extra confirmation step to pass). Where
// config.json names a Stripe publishable key the card goes to Stripe.js instead
// (stripe-payment.js). Either way the page waits for the order to say it is paid.

import * as api from "../api.js";
import { h, field, errorBox, formatPrice, showFieldErrors } from "../ui.js";
import { paymentSection, resultSlot, settledOrder } from "./payment-common.js";
import { stripePaymentBox } from "./stripe-payment.js";

const DECLINES = {
  card_declined: "Your card was declined.",
  insufficient_funds: "Your card was declined: insufficient funds.",
  authentication_failed: "The payment was not confirmed with your bank.",
};
const POLLS_MS = Array(20).fill(250);

/** The "Pay" box; onPaid(order) gets the order once it is paid. */
export function paymentBox(order, onPaid) {
  const key = api.getConfig().stripePublishableKey;
  if (typeof key === "string" && key) return stripePaymentBox(order, key, onPaid);
  return simulatedPaymentBox(order, onPaid);
}

function simulatedPaymentBox(order, onPaid) {
  const result = resultSlot();
  const total = formatPrice(order.total, order.currency);
  const submit = h("button", { type: "submit", class: "btn btn-primary btn-block" }, `Pay ${total}`);
  const form = h("form", { class: "payment-form", novalidate: true, onsubmit: onSubmit },
    field({ id: "card", label: "Card number", required: true, autocomplete: "cc-number", inputmode: "numeric",
      hint: "Test mode: 4242 4242 4242 4242 pays, 4000 0000 0000 0002 is declined, 4000 0025 0000 3155 asks for an extra confirmation." }),
    submit,
  );

  async function settle(body) {
    submit.disabled = true;
    result.replaceChildren(h("p", { class: "muted" }, "Processing your payment…"));
    try {
      outcome(await api.payOrder(order.orderId, body));
    } catch (err) {
      result.replaceChildren(errorBox(err));
    } finally {
      submit.disabled = false;
    }
  }

  async function outcome(payment) {
    if (payment.status === "requires_action") {
      result.replaceChildren(
        h("div", { class: "alert alert-info" },
          h("p", { id: "action-q" }, "Your bank asks you to confirm this payment."),
          h("div", { class: "button-row", role: "group", "aria-labelledby": "action-q" },
            h("button", { type: "button", class: "btn btn-primary", onclick: () => settle({ completeAction: true }) }, "Confirm payment"),
            h("button", { type: "button", class: "btn btn-ghost", onclick: () => settle({ completeAction: false }) }, "Don't confirm"),
          ),
        ),
      );
      result.querySelector("button").focus();
      return;
    }
    if (payment.status === "declined") {
      const why = DECLINES[payment.declineReason] || "Your card was declined.";
      result.replaceChildren(errorBox(`${why} Nothing was charged; try another card.`));
      result.focus();
      return;
    }
    if (payment.status !== "succeeded") return;
    const order = payment.orderStatus === "PAID" ? await api.getMyOrder(payment.orderId) : await settledOrder(payment.orderId, POLLS_MS);
    if (order) onPaid(order);
    else result.replaceChildren(h("p", { class: "alert alert-info" }, "Payment received. Your order will show as paid in a moment."));
  }

  function onSubmit(e) {
    e.preventDefault();
    const card = form.card.value.replace(/\s+/g, "");
    if (!showFieldErrors(form, /^[0-9]{12,19}$/.test(card) ? {} : { card: "Enter the card number: 12 to 19 digits." })) return;
    settle({ testCard: card });
  }

  return paymentSection(order, result, form);
}
