// A double of Stripe.js (https://js.stripe.com/v3/) for the browser tests: only the API the
// storefront uses (Stripe(pk), elements().create("card").mount(el), element.on("change"),
// confirmCardPayment). Like Stripe.js, the card number lives in an iframe on js.stripe.com
// (it reports to this script by postMessage) and the payment is confirmed by a call from the
// page to https://api.stripe.com with the publishable key and the client secret, form-encoded
// (a CORS "simple" request, as Stripe.js sends). Both go through the page's CSP.
(() => {
  const API = "https://api.stripe.com/v1";
  const FRAME = "https://js.stripe.com/v3/elements-inner-card.html";
  const FRAME_ORIGIN = "https://js.stripe.com";

  function cardElement() {
    const handlers = {};
    let number = "";
    let frame = null;
    let container = null;
    window.addEventListener("message", (e) => {
      if (e.origin !== FRAME_ORIGIN || !frame || e.source !== frame.contentWindow) return;
      number = String(e.data.number || "");
      if (e.data.type === "focus") container.classList.add("StripeElement--focus");
      if (e.data.type === "blur") container.classList.remove("StripeElement--focus");
      container.classList.toggle("StripeElement--empty", !number);
      if (e.data.type === "change" && handlers.change) handlers.change({ elementType: "card", empty: !number, complete: number.length >= 15, error: undefined });
    });
    return {
      mount(target) {
        container = typeof target === "string" ? document.querySelector(target) : target;
        frame = document.createElement("iframe");
        frame.src = `${FRAME}#origin=${encodeURIComponent(location.origin)}`;
        frame.title = "Secure card payment input frame";
        frame.name = "__privateStripeFrameDouble";
        frame.setAttribute("frameborder", "0");
        frame.setAttribute("scrolling", "no");
        frame.style.border = "0";
        frame.style.width = "100%";
        frame.style.height = "1.5rem";
        frame.style.display = "block";
        container.classList.add("StripeElement", "StripeElement--empty");
        container.append(frame);
      },
      on(event, fn) { handlers[event] = fn; },
      _number: () => number,
    };
  }

  window.Stripe = function Stripe(key) {
    if (typeof key !== "string" || !key.startsWith("pk_")) throw new Error("IntegrationError: Invalid value for Stripe(): apiKey should be a publishable key");
    return {
      elements() {
        return {
          create(type) {
            if (type !== "card") throw new Error(`IntegrationError: the double supports only "card", not ${type}`);
            return cardElement();
          },
        };
      },
      async confirmCardPayment(clientSecret, data) {
        const card = data && data.payment_method && data.payment_method.card;
        if (!card || typeof card._number !== "function") throw new Error("IntegrationError: payment_method.card must be a card Element");
        const id = String(clientSecret).split("_secret_")[0];
        const body = new URLSearchParams({
          key,
          client_secret: clientSecret,
          "payment_method_data[type]": "card",
          "payment_method_data[card][number]": card._number(),
        });
        let res;
        try {
          res = await fetch(`${API}/payment_intents/${encodeURIComponent(id)}/confirm`, { method: "POST", body });
        } catch {
          return { error: { type: "api_connection_error", message: "We could not reach Stripe. Check your connection." } };
        }
        const json = await res.json();
        return res.ok ? { paymentIntent: json } : { error: json.error };
      },
    };
  };
})();
