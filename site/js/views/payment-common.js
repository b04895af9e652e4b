// What both payment steps share (payment.js: the simulated processor; stripe-payment.js:
// Stripe.js): the "Payment" region and waiting for the order to say it is paid. The order
// becomes PAID only from the processor's verified event (functions/shop/payments.py), which
// may land after the processor's own answer.

import * as api from "../api.js";
import { h, formatPrice } from "../ui.js";

export const PAID_OR_LATER = ["PAID", "SHIPPED", "DELIVERED"];

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The order once it is no longer PLACED, polling after each of `delays` (ms); null when
 * it still is after the last. `onWait(i)` runs before the i-th wait. */
export async function settledOrder(orderId, delays, onWait = () => {}) {
  for (const [i, ms] of delays.entries()) {
    const order = await api.getMyOrder(orderId);
    if (order.status !== "PLACED") return order;
    onWait(i);
    await sleep(ms);
  }
  const order = await api.getMyOrder(orderId);
  return order.status !== "PLACED" ? order : null;
}

/** The "Payment" region around `form`; `result` is its live slot for outcomes. */
export function paymentSection(order, result, form) {
  return h("section", { class: "payment", "aria-labelledby": "payment-title" },
    h("h2", { id: "payment-title" }, "Payment"),
    h("p", {}, `Pay ${formatPrice(order.total, order.currency)} to confirm your order.`),
    result,
    form,
  );
}

/** The live slot a payment step reports in (focused on a decline for screen readers). */
export function resultSlot() {
  return h("div", { class: "alert-slot", tabindex: "-1", "aria-live": "polite" });
}
