// Order history and order detail (status timeline, cancel while PLACED or PAID).

import * as api from "../api.js";
import { h, render, formatPrice, formatDate, orderRef, statusBadge, errorBox, link, toast } from "../ui.js";
import { addressLines } from "../address.js";
import { paymentBox } from "./payment.js";

const STEPS = ["PLACED", "PAID", "SHIPPED", "DELIVERED"];
const CANCELLABLE = ["PLACED", "PAID"];

export async function ordersView(_p, _q, isCurrent = () => true) {
  const list = h("ul", { class: "order-list", "aria-label": "Your orders" });
  const more = h("div", { class: "load-more" });
  let cursor = null;

  async function loadPage() {
    const page = await api.listMyOrders({ limit: 10, cursor: cursor || undefined });
    cursor = page.nextCursor || null;
    list.append(...(page.items || []).map(orderRow));
    more.replaceChildren();
    if (cursor) {
      more.append(h("button", { type: "button", class: "btn btn-secondary", onclick: async (e) => {
        e.currentTarget.disabled = true;
        const before = list.children.length;
        try {
          await loadPage();
          list.children[before]?.querySelector("a")?.focus();
        } catch (err) {
          more.replaceChildren(errorBox(err));
        }
      } }, "Show older orders"));
    }
  }
  await loadPage();
  if (!isCurrent()) return;
  render(
    h("section", { class: "orders", "aria-labelledby": "orders-title" },
      h("h1", { id: "orders-title" }, "Your orders"),
      list.children.length ? list : h("div", { class: "empty" }, h("p", {}, "You haven't ordered anything yet."), link("/", "Start shopping", { class: "btn btn-primary" })),
      more,
    ),
  );
}

function orderRow(o) {
  const count = (o.items || []).reduce((n, i) => n + Number(i.quantity || 0), 0);
  return h(
    "li",
    { class: "order-row" },
    h("div", {},
      h("a", { href: "/orders/" + encodeURIComponent(o.orderId), class: "order-link" }, "Order " + orderRef(o.orderId)),
      h("p", { class: "muted" }, formatDate(o.createdAt), " · ", `${count} ${count === 1 ? "item" : "items"}`),
    ),
    statusBadge(o.status),
    h("p", { class: "order-total" }, formatPrice(o.total, o.currency)),
  );
}

export async function orderView(orderId, query = {}, isCurrent = () => true) {
  let order;
  try {
    order = await api.getMyOrder(orderId);
  } catch (err) {
    if (err.status === 404) {
      render(h("h1", {}, "Order not found"), h("p", {}, link("/orders", "Back to your orders")));
      return;
    }
    throw err;
  }
  if (!isCurrent()) return;
  render(orderDetail(order, query.placed === "1"));
  // Drop "?placed=1" so a reload doesn't thank the customer twice (replaceState routes nothing).
  if (query.placed) history.replaceState(null, "", "/orders/" + encodeURIComponent(order.orderId));
}

function orderDetail(order, justPlaced, note = "") {
  const msg = h("div", { "aria-live": "polite" });
  const a = order.shippingAddress || {};
  const cancelBox = h("div", { class: "cancel-box" });

  function showCancel() {
    cancelBox.replaceChildren(
      h("button", { type: "button", class: "btn btn-danger-outline", onclick: () => {
        // Inline confirmation instead of window.confirm: accessible and testable.
        cancelBox.replaceChildren(
          h("p", { id: "cancel-q" }, "Cancel this order? Items go back on the shelf."),
          h("div", { class: "button-row", role: "group", "aria-labelledby": "cancel-q" },
            h("button", { type: "button", class: "btn btn-danger", onclick: doCancel }, "Yes, cancel order"),
            h("button", { type: "button", class: "btn btn-ghost", onclick: () => { showCancel(); cancelBox.querySelector("button").focus(); } }, "Keep order"),
          ),
        );
        cancelBox.querySelector(".btn-danger").focus();
      } }, "Cancel order"),
    );
  }

  async function doCancel(e) {
    e.currentTarget.disabled = true;
    try {
      const updated = await api.cancelMyOrder(order.orderId);
      toast("Your order was cancelled.", "success");
      replaceWith(updated);
    } catch (err) {
      msg.replaceChildren(errorBox(err));
      showCancel();
    }
  }

  if (CANCELLABLE.includes(order.status)) showCancel();
  const replaceWith = (updated, note) => {
    const next = orderDetail(updated, false, note);
    document.querySelector(".order-detail").replaceWith(next);
    next.querySelector("h1").focus();
  };
  const payment = order.status === "PLACED" ? paymentBox(order, (paid) => replaceWith(paid, "Payment received. Your order is paid.")) : null;

  const stepIndex = STEPS.indexOf(order.status);
  const timeline =
    order.status === "CANCELLED"
      ? h("p", { class: "alert alert-info" }, "This order was cancelled.")
      : h("ol", { class: "timeline", "aria-label": "Order progress" },
          STEPS.map((s, i) =>
            h("li", { class: i <= stepIndex ? "done" : "", "aria-current": i === stepIndex ? "step" : null },
              s.charAt(0) + s.slice(1).toLowerCase()),
          ),
        );

  return h(
    "section",
    { class: "order-detail", "aria-labelledby": "order-title" },
    justPlaced
      ? h("div", { class: "alert alert-success", role: "status" },
          h("p", {}, h("strong", {}, "Thank you! Your order is placed. "), "A confirmation email is on its way."))
      : null,
    note ? h("div", { class: "alert alert-success", role: "status" }, h("p", {}, h("strong", {}, note))) : null,
    h("div", { class: "section-head" },
      h("h1", { id: "order-title" }, "Order " + orderRef(order.orderId)),
      h("p", {}, "Status: ", statusBadge(order.status)),
    ),
    h("p", { class: "muted" }, "Placed " + formatDate(order.createdAt)),
    timeline,
    msg,
    payment,
    h("div", { class: "order-layout" },
      h("div", {},
        h("h2", {}, "Items"),
        h("ul", { class: "summary-lines" },
          (order.items || []).map((i) =>
            h("li", {},
              h("span", {}, `${i.quantity} × `, link("/p/" + encodeURIComponent(i.productId), i.name)),
              h("span", {}, formatPrice(i.lineTotal ?? i.unitPrice * i.quantity, order.currency)),
            ),
          ),
        ),
        h("dl", {}, h("div", { class: "total" }, h("dt", {}, "Total"), h("dd", {}, formatPrice(order.total, order.currency)))),
      ),
      h("div", {},
        h("h2", {}, "Shipping to"),
        h("address", {}, addressLines(a).map((l) => h("span", {}, l))),
        cancelBox,
      ),
    ),
    h("p", {}, link("/orders", "← All orders")),
  );
}
