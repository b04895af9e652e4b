"""The signed-in customer's push devices (`/api/me/devices`): register, list, forget.

A client registers the FCM registration token it got on the device; registering the same
token again refreshes it (200 instead of 201). The store keeps at most push.MAX_DEVICES per
customer, dropping the oldest. The notifications function pushes order updates to them
(functions/shop/notifications.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import clock
from .models import DeviceList, DeviceOut, RegisterDeviceRequest
from .push import Device
from .routes import CUSTOMER, Answer, Reply, route
from .services import Services

if TYPE_CHECKING:
    from .api import Ctx


def _out(device: Device) -> DeviceOut:
    return DeviceOut(token=device.token, platform=device.platform, registered_at=device.registered_at)


def list_devices(services: Services, user_id: str) -> DeviceList:
    return DeviceList(items=[_out(d) for d in services.store.list_devices(user_id)])


def register_device(services: Services, user_id: str, token: str, platform: str) -> tuple[DeviceOut, bool]:
    """The stored registration, and whether the token is new for this customer."""
    known = any(d.token == token for d in services.store.list_devices(user_id))
    device = Device(token=token, platform=platform, registered_at=clock.now_iso())
    services.store.put_device(user_id, device)
    return _out(device), not known


def remove_device(services: Services, user_id: str, token: str) -> None:
    services.store.delete_device(user_id, token)


# --- HTTP ----------------------------------------------------------------------------


@route("GET", "/api/me/devices", "listDevices", CUSTOMER, "cart", "My push devices", response=DeviceList)
def http_list(ctx: Ctx) -> DeviceList:
    return list_devices(ctx.services, ctx.user.user_id)


@route(
    "POST",
    "/api/me/devices",
    "registerDevice",
    CUSTOMER,
    "cart",
    "Register this device's push token (again: refreshes it)",
    request=RegisterDeviceRequest,
    response=DeviceOut,
    status=201,
    answers=(Answer(200, "The token was registered already: refreshed"),),
)
def http_register(ctx: Ctx) -> DeviceOut | Reply:
    device, created = register_device(ctx.services, ctx.user.user_id, ctx.body.token, ctx.body.platform)
    return device if created else Reply(200, device)


@route(
    "DELETE",
    "/api/me/devices/{token}",
    "removeDevice",
    CUSTOMER,
    "cart",
    "Forget a push device (done whether or not it was registered)",
    status=204,
)
def http_remove(ctx: Ctx) -> None:
    remove_device(ctx.services, ctx.user.user_id, ctx.param("token"))
