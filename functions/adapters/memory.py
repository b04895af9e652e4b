"""In-memory adapters: the reference semantics of every port, for fast tests.

MemoryStore is the executable form of the Store contract: one lock makes each method
atomic, exactly as the cloud stores make their single writes atomic.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import TypeVar

from functions.shop import ports, push
from functions.shop.checkout import OrderRules
from functions.shop.ports import (
    AlreadyExists,
    CartLine,
    Category,
    CheckoutPlan,
    CheckoutState,
    CommitPolicy,
    IdempotencyRecord,
    IdentityError,
    LostRace,
    NotFound,
    Order,
    OrderState,
    Page,
    Principal,
    Product,
    Tokens,
    TransitionPlan,
    UploadForm,
    UserInfo,
)
from functions.shop.routes import ADMIN_GROUP
from functions.shop.services import Services

from ._documents import (
    decode_cursor,
    encode_cursor,
    newest_key,
    orders_scope,
    price_key,
    product_sort_key,
    products_scope,
    status_scope,
)

log = logging.getLogger("shop.memory")
R = TypeVar("R")


def _page(
    items: list[R], key: Callable[[R], str], limit: int, cursor: str | None, scope: str, reverse: bool = False
) -> Page[R]:
    after = decode_cursor(cursor, scope)
    ordered = sorted(items, key=key, reverse=reverse)
    if after is not None:
        ordered = [i for i in ordered if (key(i) < after if reverse else key(i) > after)]
    chunk = ordered[:limit]
    more = len(ordered) > limit
    return Page(chunk, encode_cursor(key(chunk[-1]), scope) if more and chunk else None)


# The same orders as the cloud stores' indexes (functions/adapters/_documents.py): key, backwards.
_BROWSE_KEYS = {
    "name": (lambda p: product_sort_key(p.name, p.product_id), False),
    "price": (lambda p: price_key(p.price, p.name, p.product_id), False),
    "-price": (lambda p: price_key(p.price, p.name, p.product_id), True),
    "newest": (lambda p: newest_key(p.updated_at, p.product_id), True),
}


class MemoryStore(OrderRules):
    checks_catalog = False  # checkout re-reads the catalog before the commit
    cart_in_commit = True
    checkout_policy = CommitPolicy(read_first=False, gave_up="checkout did not get through; retry", attempts=1)
    transition_policy = CommitPolicy(
        read_first=False, gave_up="order transition did not get through; retry", attempts=3
    )

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.categories: dict[str, Category] = {}
        self.products: dict[str, Product] = {}
        self.carts: dict[str, dict[str, tuple[int, str]]] = {}  # user -> product -> (quantity, version)
        self.orders: dict[str, Order] = {}
        self.idempotency: dict[tuple[str, str], tuple[str, str]] = {}
        self.devices: dict[str, dict[str, push.Device]] = {}  # user -> token -> device

    # catalog
    def list_categories(self) -> list[Category]:
        with self._lock:
            return sorted(self.categories.values(), key=lambda c: c.name.lower())

    def put_category(self, category: Category) -> None:
        with self._lock:
            self.categories[category.category_id] = category

    def list_products(
        self,
        *,
        category: str | None,
        query: str | None,
        limit: int,
        cursor: str | None,
        browse: ports.Browse = ports.BROWSE_DEFAULT,
    ) -> Page[Product]:
        with self._lock:
            items = [
                p
                for p in self.products.values()
                if (category is None or p.category == category)
                and (query is None or query.lower() in p.name.lower())
                and browse.matches(p)
            ]
        key, reverse = _BROWSE_KEYS[browse.sort]
        return _page(items, key, limit, cursor, products_scope(category, query, browse), reverse=reverse)

    def get_product(self, product_id: str) -> Product | None:
        with self._lock:
            return self.products.get(product_id)

    def get_products(self, product_ids: Sequence[str]) -> dict[str, Product]:
        with self._lock:
            return {i: self.products[i] for i in product_ids if i in self.products}

    def create_product(self, product: Product) -> None:
        with self._lock:
            if product.product_id in self.products:
                raise AlreadyExists(f"product {product.product_id} already exists")
            self.products[product.product_id] = product

    def update_product(self, product: Product) -> Product:
        with self._lock:
            current = self.products.get(product.product_id)
            if current is None:
                raise NotFound(f"product {product.product_id} not found")
            stored = replace(product, stock=current.stock)
            self.products[product.product_id] = stored
            return stored

    def delete_product(self, product_id: str) -> None:
        with self._lock:
            if self.products.pop(product_id, None) is None:
                raise NotFound(f"product {product_id} not found")

    def set_stock(self, product_id: str, stock: int) -> Product:
        with self._lock:
            current = self.products.get(product_id)
            if current is None:
                raise NotFound(f"product {product_id} not found")
            self.products[product_id] = replace(current, stock=stock)
            return self.products[product_id]

    # cart
    def get_cart(self, user_id: str) -> list[CartLine]:
        with self._lock:
            return [CartLine(p, q, version=v) for p, (q, v) in sorted(self.carts.get(user_id, {}).items())]

    def set_cart_line(self, user_id: str, product_id: str, quantity: int, product: Product | None = None) -> None:
        # `product` is for stores that check the catalog in place_order; this one re-reads it there.
        with self._lock:
            cart = self.carts.setdefault(user_id, {})
            if quantity <= 0:
                cart.pop(product_id, None)
            else:
                cart[product_id] = (quantity, uuid.uuid4().hex)

    def clear_cart(self, user_id: str) -> None:
        with self._lock:
            self.carts.pop(user_id, None)

    def delete_cart_lines(self, user_id: str, product_ids: Sequence[str]) -> None:
        with self._lock:
            cart = self.carts.get(user_id, {})
            for pid in product_ids:
                cart.pop(pid, None)

    # push devices
    def put_device(self, user_id: str, device: push.Device) -> None:
        with self._lock:
            mine = self.devices.setdefault(user_id, {})
            mine[device.token] = device
            for old in push.beyond_limit(list(mine.values())):
                del mine[old.token]

    def delete_device(self, user_id: str, token: str) -> None:
        with self._lock:
            self.devices.get(user_id, {}).pop(token, None)

    def list_devices(self, user_id: str) -> list[push.Device]:
        with self._lock:
            return push.newest_first(list(self.devices.get(user_id, {}).values()))

    # idempotency
    def idempotency_record(self, user_id: str, idempotency_key: str) -> IdempotencyRecord | None:
        with self._lock:
            seen = self.idempotency.get((user_id, idempotency_key))
            return None if seen is None else IdempotencyRecord(*seen)

    # checkout and restock: commits blind, as DynamoDB does (the rules explain a loss)
    def read_checkout(self, plan: CheckoutPlan) -> CheckoutState:
        order = plan.order
        with self._lock:
            cart = self.carts.get(order.user_id, {})
            return CheckoutState(
                self.idempotency_record(order.user_id, order.idempotency_key or ""),
                {pid: self.products[pid] for pid in plan.ordered if pid in self.products},
                {pid: cart[pid][1] if pid in cart else None for pid, _ in order.cart_versions},
            )

    def commit_checkout(self, plan: CheckoutPlan, state: CheckoutState | None) -> None:
        order = plan.order
        key = (order.user_id, order.idempotency_key or "")
        with self._lock:
            cart = self.carts.get(order.user_id, {})
            if (
                key in self.idempotency
                or order.order_id in self.orders
                or any(
                    t.product_id not in self.products or self.products[t.product_id].stock < t.quantity
                    for t in plan.takes
                )
                or any(cart.get(pid, (0, None))[1] != version for pid, version in order.cart_versions)
            ):
                raise LostRace()
            for t in plan.takes:
                p = self.products[t.product_id]
                self.products[t.product_id] = replace(p, stock=p.stock - t.quantity)
            self.orders[order.order_id] = order
            self.idempotency[key] = (order.order_id, plan.request_hash)
            for pid in plan.ordered:
                cart.pop(pid, None)

    def read_order_state(self, plan: TransitionPlan) -> OrderState:
        with self._lock:
            current = self.orders.get(plan.order.order_id)
            present = frozenset(pid for pid in plan.restock if pid in self.products)
            return OrderState(None if current is None else current.status, present)

    def commit_transition(self, plan: TransitionPlan, state: OrderState | None) -> None:
        with self._lock:
            current = self.orders.get(plan.order.order_id)
            if current is None or current.status != plan.order.status:
                raise LostRace()
            for pid, q in plan.restock.items():
                p = self.products.get(pid)
                if p is not None:  # a product deleted since the order keeps no stock to return to
                    self.products[pid] = replace(p, stock=p.stock + q)
            self.orders[current.order_id] = replace(current, status=plan.new_status, updated_at=plan.updated_at)

    # orders
    def get_order(self, user_id: str, order_id: str) -> Order | None:
        with self._lock:
            order = self.orders.get(order_id)
            return order if order is not None and order.user_id == user_id else None

    def find_order(self, order_id: str) -> Order | None:
        with self._lock:
            return self.orders.get(order_id)

    def list_orders(self, user_id: str, *, limit: int, cursor: str | None) -> Page[Order]:
        with self._lock:
            items = [o for o in self.orders.values() if o.user_id == user_id]
        return _page(items, lambda o: o.order_id, limit, cursor, orders_scope(user_id), reverse=True)

    def list_orders_by_status(self, status: str, *, limit: int, cursor: str | None) -> Page[Order]:
        with self._lock:
            items = [o for o in self.orders.values() if o.status == status]
        return _page(items, lambda o: o.order_id, limit, cursor, status_scope(status), reverse=True)


class MemoryNotifier:
    """Records published events and sent e-mails (`outbox`: {to, subject, text}).

    With `deliver`, each published event is handed to the notification consumer at once,
    as the topic and queue would; a consumer failure is logged and recorded in
    `undelivered` (the queue's retries are not modelled), and never reaches the
    publisher. `fail_publish` / `fail_email` inject failures."""

    def __init__(self, deliver: bool = False) -> None:
        self.events: list[ports.OrderEvent] = []
        self.outbox: list[dict] = []
        self.undelivered: list[ports.OrderEvent] = []
        self.deliver = deliver
        self.fail_publish = False
        self.fail_email = False
        self.services: Services | None = None
        self._lock = threading.Lock()

    def publish_order_event(self, event: ports.OrderEvent) -> None:
        if self.fail_publish:
            raise RuntimeError("topic unavailable (injected)")
        with self._lock:
            self.events.append(event)
        if self.deliver and self.services is not None:
            from functions.shop.notifications import event_to_json, handle_order_event

            try:
                handle_order_event(event_to_json(event), self.services)
            except Exception:
                log.warning("notification for order %s not delivered", event.order_id, exc_info=True)
                self.undelivered.append(event)

    def send_email(self, to: str, subject: str, text: str) -> None:
        if self.fail_email:
            raise RuntimeError("email provider unavailable (injected)")
        with self._lock:
            self.outbox.append({"to": to, "subject": subject, "text": text})


class MemoryPushSender:
    """Records each push (`sent`: {token, platform, title, body, data}), like the e-mail outbox.
    Tokens in `invalid` are refused as a push service refuses a token that is gone;
    `fail` makes the whole service unreachable."""

    def __init__(self) -> None:
        self.sent: list[dict[str, object]] = []
        self.invalid: set[str] = set()
        self.fail = False
        self._lock = threading.Lock()

    def push(self, devices: Sequence[push.Device], title: str, body: str, data: Mapping[str, str]) -> push.PushOutcome:
        if self.fail:
            raise RuntimeError("push service unavailable (injected)")
        refused = tuple(d.token for d in devices if d.token in self.invalid)
        with self._lock:
            for d in devices:
                if d.token not in self.invalid:
                    self.sent.append(
                        {"token": d.token, "platform": d.platform, "title": title, "body": body, "data": dict(data)}
                    )
        return push.PushOutcome(delivered=len(devices) - len(refused), invalid_tokens=refused)

    def recorded(self) -> list[dict[str, object]]:
        """A copy of `sent`, safe to read while pushes go on."""
        with self._lock:
            return list(self.sent)


def _hash(password: str, salt: bytes, iterations: int) -> bytes:
    return hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)


class MemoryIdentity:
    """Users with salted PBKDF2 password hashes, opaque random tokens, groups, TOTP.

    Sign-ups are confirmed at once unless `auto_confirm` is False; the confirmation code
    is then always CONFIRM_CODE. `principal_for(access_token)` plays the gateway's part:
    the Principal a verified token stands for. `iterations` can be lowered in tests that
    create many users (the hash is deliberately slow). Like Cognito with MFA "optional":
    a user with a second factor must give a code at every sign-in; an admin without one is
    sent to enrol (Challenge MFA_SETUP)."""

    CONFIRM_CODE = "123456"

    def __init__(self, auto_confirm: bool = True, iterations: int = 10_000) -> None:
        self.auto_confirm = auto_confirm
        self.iterations = iterations
        self._lock = threading.Lock()
        # email -> {id, salt, hash, confirmed, groups, code, enabled, mfa_secret, pending_secret}
        self.users: dict[str, dict] = {}
        self.tokens: dict[str, Principal] = {}
        self.refresh_tokens: dict[str, str] = {}
        self.mfa_sessions: dict[str, str] = {}  # session -> email

    def sign_up(self, email: str, password: str) -> str:
        email = email.lower()
        with self._lock:
            if email in self.users:
                raise IdentityError("USER_EXISTS", "an account with this email already exists", 409)
            salt = os.urandom(16)
            user_id = os.urandom(16).hex()
            self.users[email] = {
                "id": user_id,
                "salt": salt,
                "hash": _hash(password, salt, self.iterations),
                "iterations": self.iterations,
                "confirmed": self.auto_confirm,
                "groups": (),
                "code": self.CONFIRM_CODE,
                "enabled": True,
                "mfa_secret": None,
                "pending_secret": None,
            }
            return user_id

    # -- operator actions (what the console or an admin API does) ------------------------
    def add_to_group(self, email: str, group: str) -> None:
        u = self.users[email.lower()]
        u["groups"] = (*u["groups"], group)

    def remove_from_group(self, email: str, group: str) -> None:
        u = self.users[email.lower()]
        u["groups"] = tuple(g for g in u["groups"] if g != group)

    def disable(self, email: str) -> None:
        self.users[email.lower()]["enabled"] = False

    def delete(self, email: str) -> None:
        del self.users[email.lower()]

    def enable_mfa(self, email: str) -> str:
        """Give the user a second factor directly; the TOTP secret (tests act as the app)."""
        from .totp import new_secret

        secret = self.users[email.lower()]["mfa_secret"] = new_secret()
        return secret

    def confirm(self, email: str, code: str) -> None:
        u = self.users.get(email.lower())
        if u is None or u["code"] != code:
            raise IdentityError("CODE_MISMATCH", "invalid confirmation code", 400)
        u["confirmed"] = True

    def _issue(self, email: str, mfa: bool = False) -> Tokens:
        u = self.users[email]
        access, refresh = "at-" + os.urandom(16).hex(), "rt-" + os.urandom(16).hex()
        self.tokens[access] = Principal(
            user_id=u["id"], groups=tuple(u["groups"]), email=email, access_token=access, mfa=mfa
        )
        self.refresh_tokens[refresh] = email
        return Tokens(id_token="it-" + os.urandom(8).hex(), access_token=access, refresh_token=refresh, expires_in=900)

    def log_in(self, email: str, password: str, context: ports.ClientContext | None = None) -> Tokens | ports.Challenge:
        email = email.lower()
        u = self.users.get(email)
        if u is None or not hmac.compare_digest(_hash(password, u["salt"], u["iterations"]), u["hash"]):
            raise IdentityError("NOT_AUTHORIZED", "incorrect email or password", 401)
        if not u["enabled"]:
            raise IdentityError("NOT_AUTHORIZED", "incorrect email or password", 401)
        if not u["confirmed"]:
            raise IdentityError("USER_NOT_CONFIRMED", "confirm your account first", 403)
        if u["mfa_secret"]:
            session = "ms-" + os.urandom(16).hex()
            self.mfa_sessions[session] = email
            return ports.Challenge(ports.MFA_CODE, session)
        tokens = self._issue(email)
        if ADMIN_GROUP in u["groups"]:
            return ports.Challenge(ports.MFA_SETUP, tokens.access_token)
        return tokens

    def answer_mfa(self, email: str, session: str, code: str, context: ports.ClientContext | None = None) -> Tokens:
        from .totp import verify

        email = email.lower()
        if self.mfa_sessions.get(session) != email:
            raise IdentityError("SESSION_EXPIRED", "the sign-in session expired; sign in again", 401)
        u = self.users.get(email)
        if u is None or not u["mfa_secret"]:
            raise IdentityError("SESSION_EXPIRED", "the sign-in session expired; sign in again", 401)
        if not verify(u["mfa_secret"], code):
            raise IdentityError("CODE_MISMATCH", "the code is not valid; enter the current one", 400)
        del self.mfa_sessions[session]
        return self._issue(email, mfa=True)

    def _user_of(self, principal: Principal) -> tuple[str, dict]:
        if principal.access_token not in self.tokens:
            raise IdentityError("NOT_AUTHORIZED", "the session has ended; sign in again", 401)
        for email, u in self.users.items():
            if u["id"] == principal.user_id and u["enabled"]:
                return email, u
        raise IdentityError("NOT_AUTHORIZED", "the session has ended; sign in again", 401)

    def start_mfa_setup(self, principal: Principal) -> ports.MfaSecret:
        from .totp import new_secret

        _, u = self._user_of(principal)
        u["pending_secret"] = new_secret()
        return ports.MfaSecret(u["pending_secret"])

    def finish_mfa_setup(self, principal: Principal, code: str, session: str | None) -> None:
        from .totp import verify

        email, u = self._user_of(principal)
        if not u["pending_secret"] or not verify(u["pending_secret"], code):
            raise IdentityError("CODE_MISMATCH", "the code is not valid; enter the current one", 400)
        u["mfa_secret"], u["pending_secret"] = u["pending_secret"], None
        self._revoke(email)

    def _revoke(self, email: str) -> None:
        user_id = self.users[email]["id"]
        self.tokens = {t: p for t, p in self.tokens.items() if p.user_id != user_id}
        self.refresh_tokens = {t: e for t, e in self.refresh_tokens.items() if e != email}

    def sign_out(self, principal: Principal) -> None:
        email, _ = self._user_of(principal)
        self._revoke(email)

    def verify_admin(self, principal: Principal) -> None:
        _, u = self._user_of(principal)
        if ADMIN_GROUP not in u["groups"]:
            raise IdentityError("FORBIDDEN", "this operation needs the admin group", 403)
        token = self.tokens.get(principal.access_token or "")  # present: _user_of checked
        if not u["mfa_secret"] or token is None or not token.mfa:
            raise IdentityError(
                "MFA_REQUIRED", "admins sign in with a second factor: set one up and sign in again", 403
            )

    def refresh(self, refresh_token: str) -> Tokens:
        email = self.refresh_tokens.get(refresh_token)
        if email is None or email not in self.users or not self.users[email]["enabled"]:
            raise IdentityError("NOT_AUTHORIZED", "invalid refresh token", 401)
        return replace(self._issue(email, mfa=bool(self.users[email]["mfa_secret"])), refresh_token=None)

    def principal_for(self, access_token: str) -> Principal | None:
        return self.tokens.get(access_token)

    def user_info(self, principal: Principal) -> UserInfo:
        for email, u in self.users.items():
            if u["id"] == principal.user_id:
                return UserInfo(user_id=u["id"], email=email, groups=tuple(u["groups"]))
        raise NotFound("user not found")

    def lookup_email(self, user_id: str) -> str | None:
        return next((e for e, u in self.users.items() if u["id"] == user_id), None)


class MemoryMedia:
    def __init__(self, base_url: str = "/media/") -> None:
        self.base_url = base_url

    def presign_upload(self, key: str, content_type: str, max_bytes: int, expires_in: int) -> UploadForm:
        fields = {"key": key, "Content-Type": content_type, "max-bytes": str(max_bytes), "expires": str(expires_in)}
        return UploadForm("POST", "https://uploads.invalid/", fields, {}, self.base_url.rstrip("/") + "/" + key)


def memory_services(*, deliver: bool = True, currency: str = "USD") -> Services:
    notifier = MemoryNotifier(deliver=deliver)
    from .memory_processed_events import MemoryProcessedEvents

    services = Services(
        store=MemoryStore(),
        notifier=notifier,
        identity=MemoryIdentity(),
        media=MemoryMedia(),
        currency=currency,
        processed_events=MemoryProcessedEvents(),
        push=MemoryPushSender(),
    )
    notifier.services = services
    from functions.shop.payments import apply_event

    from .payments_simulated import SimulatedProcessor

    # outcomes reach the shop as signed events, as a processor's webhooks would
    services.payments = SimulatedProcessor(deliver=lambda payload, sig: apply_event(services, payload, sig))
    return services
