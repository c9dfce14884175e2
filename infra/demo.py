"""Demo traffic for the run command: bank SMS paying wallet orders, through all three channels.

``seed`` sets recon up through its real APIs (a whitelist entry, a template, the Pushbullet
double's account, a registered and trusted shooter phone). ``DemoTraffic`` then, every few
seconds, opens an order in the wallet double and sends the SMS that pays it through the next
channel in turn: the shooter device API (signed, as a phone does), an SMS arriving on the
Pushbullet double's phone, a post in the Telegram double's channel. Every fourth round opens two
orders of one amount, so a person must choose (need_check ``ambiguous``); every fifth sends an
SMS that no order fits (unmatched, then need_check ``no_order`` when it expires).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

import httpx

from infra.doubles.pushbullet_state import PushbulletState
from infra.doubles.telegram_state import TelegramState
from infra.doubles.wallet_state import WalletState
from recon_impl.security import device_signature

__all__ = ["DEMO_CHAT_ID", "DemoTraffic", "Endpoints", "seed"]

log = logging.getLogger("recon.demo")
DEMO_CHAT_ID = -1001234567890
BANK_TZ = timezone(timedelta(hours=7))
TEMPLATE = "TK {card} +{amount}VND luc {time}. Ref {ref} ND {name} chuyen tien {*}"
PAYERS = ("NGUYEN VAN A", "TRAN THI B", "LE VAN C", "PHAM THI D")


@dataclass(frozen=True, slots=True)
class Endpoints:
    internal: str  # recon_service's internal API base URL
    device: str  # recon_service's device API base URL
    service_token: str
    enroll_key: str
    pushbullet_token: str
    pushbullet_phone: str  # the double's SMS device iden


@dataclass(frozen=True, slots=True)
class Phone:
    device_id: str
    secret: str


def seed(ep: Endpoints) -> Phone:
    """Whitelist, template, Pushbullet account and a trusted shooter phone, through the APIs."""
    auth = {"Authorization": f"Bearer {ep.service_token}", "X-Actor": "demo"}
    with httpx.Client(base_url=ep.internal, headers=auth, timeout=10) as api:
        api.post("/whitelist", json={"phone": "VCB", "bank_code": "VCB", "remark": "demo bank"})
        templates = api.get("/templates", params={"bank_code": "VCB", "page_size": 100}).json()["items"]
        if not any(t["content"] == TEMPLATE for t in templates):  # the data folder outlives a run
            api.post(
                "/templates",
                json={
                    "bank_code": "VCB",
                    "sender": "VCB",
                    "content": TEMPLATE,
                    "type": 1,
                    "time_format": "%d-%m-%Y %H:%M:%S",
                    "tz": "Asia/Ho_Chi_Minh",
                    "sample": sms_text(1_500_000, 0, "NGUYEN VAN A", time.time()),
                },
            )
        accounts = api.get("/pushbullet-accounts", params={"page_size": 100}).json()["items"]
        mask = f"{ep.pushbullet_token[:4]}****{ep.pushbullet_token[-4:]}"
        if not any(a["token_mask"] == mask for a in accounts):
            api.post(
                "/pushbullet-accounts",
                json={"nickname": "Demo Pixel", "phone": "84901234567", "access_token": ep.pushbullet_token},
            )
        device_id = "demo-shooter-1"
        for device in api.get("/devices", params={"page_size": 100}).json()["items"]:
            if device["device_id"] == device_id:  # a phone re-enrols after a person deletes it
                api.delete(f"/devices/{device['id']}")
        registered = httpx.post(
            f"{ep.device}/device/register",
            headers={"X-Enroll-Key": ep.enroll_key},
            json={
                "device_id": device_id,
                "name": "Demo shooter",
                "phone": "84907654321",
                "app_version": "1.0",
            },
            timeout=10,
        ).json()
        secret = (registered.get("data") or {}).get("secret", "")
        for device in api.get("/devices", params={"page_size": 100}).json()["items"]:
            if device["device_id"] == device_id:
                api.put(f"/devices/{device['id']}/trust", json={"trusted": 1})
    return Phone(device_id, secret)


def sms_text(amount: int, n: int, payer: str, now: float) -> str:
    bank_time = datetime.fromtimestamp(now, BANK_TZ).strftime("%d-%m-%Y %H:%M:%S")
    return f"TK ****3456 +{amount:,}VND luc {bank_time}. Ref FT{26000 + n} ND {payer} chuyen tien D{n}"


class DemoTraffic:
    """The traffic loop of the module docstring, in a daemon thread until ``stop``."""

    def __init__(
        self,
        ep: Endpoints,
        phone: Phone | None,
        wallet: WalletState,
        pushbullet: PushbulletState,
        telegram: TelegramState,
        every_s: float = 8.0,
    ) -> None:
        self._ep, self._phone, self._every = ep, phone, every_s
        self._wallet, self._pushbullet, self._telegram = wallet, pushbullet, telegram
        self._stop = threading.Event()
        self._seq = 0
        self._thread = threading.Thread(target=self._run, name="demo-traffic", daemon=True)

    def start(self) -> None:
        self._telegram.add_chat(DEMO_CHAT_ID, chat_type="channel", title="Bank SMS")
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        n = 0
        while not self._stop.wait(self._every if n else 1.0):
            n += 1
            try:
                self.send(n)
            except Exception as exc:  # the demo must never take the run command down
                log.warning("demo round %d failed: %s", n, type(exc).__name__)

    def send(self, n: int) -> None:
        """Round ``n``: its order(s) in the wallet, its SMS through channel ``n % 3``."""
        amount = 100_000 * (1 + n % 17) + 1_000 * n
        payer = PAYERS[n % len(PAYERS)]
        if n % 5 != 0:  # every fifth SMS pays no order
            self._wallet.add_order(f"D{n}", str(amount), payer_name=payer, user_id=f"u{n}")
        if n % 4 == 0:  # a second order of the same amount: a person must choose
            self._wallet.add_order(f"D{n}b", str(amount), payer_name=payer, user_id=f"u{n}b")
        text = sms_text(amount, n, payer, time.time())
        channel = ("shooter", "pushbullet", "telegram")[n % 3]
        if channel == "shooter" and self._phone is not None:
            self._send_shooter(text)
        elif channel == "pushbullet":
            self._pushbullet.receive_sms(self._ep.pushbullet_phone, "318", "VCB", text, int(time.time()))
        else:
            self._telegram.post(DEMO_CHAT_ID, f"VCB\n{text}", chat_type="channel", title="Bank SMS")
        log.info("demo: order D%d %s VND, its SMS sent via %s", n, f"{amount:,}", channel)

    def _send_shooter(self, text: str) -> None:
        assert self._phone is not None
        self._seq += 1
        body = json.dumps(
            {
                "messages": [
                    {
                        "seq": self._seq,
                        "sender": "VCB",
                        "content": text,
                        "received_at": int(datetime.now(UTC).timestamp()),
                        "sim_slot": 1,
                    }
                ]
            }
        ).encode()
        stamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "X-Device-Id": self._phone.device_id,
            "X-Timestamp": stamp,
            "X-Signature": device_signature(self._phone.secret, stamp.encode(), body),
        }
        httpx.post(f"{self._ep.device}/sms/report", content=body, headers=headers, timeout=10)
