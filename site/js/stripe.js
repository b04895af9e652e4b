// stripe.js: Stripe.js, loaded once and only when a payment step needs it. Stripe requires
// the script from js.stripe.com itself (never bundled or self-hosted); the shop's CSP admits
// exactly that host where config.json names a publishable key (functions/shop/security_headers.py).

const STRIPE_JS = "https://js.stripe.com/v3/";

let loading = null; // Promise<window.Stripe>, shared by every payment step of the page
const instances = new Map(); // publishable key -> Stripe instance

function loadScript() {
  if (window.Stripe) return Promise.resolve(window.Stripe);
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = STRIPE_JS;
    script.async = true;
    script.addEventListener("load", () =>
      window.Stripe ? resolve(window.Stripe) : reject(new Error("Stripe.js loaded without Stripe()")));
    // A network failure, a blocker, or a CSP that does not admit js.stripe.com.
    script.addEventListener("error", () => {
      script.remove();
      reject(new Error("Stripe.js could not be loaded"));
    });
    document.head.append(script);
  });
}

/** The Stripe instance for this publishable key; rejects when Stripe.js cannot be loaded
 * (a later call tries again). */
export async function stripeFor(publishableKey) {
  if (!loading) loading = loadScript().catch((err) => {
    loading = null;
    throw err;
  });
  const Stripe = await loading;
  if (!instances.has(publishableKey)) instances.set(publishableKey, Stripe(publishableKey));
  return instances.get(publishableKey);
}
