"""Wire objects of the Telegram Bot API double: their shapes, builders and the update types.

Shapes and names follow the Bot API reference and what `tdlib/telegram-bot-api` emits: a
Message's `from` is absent on channel posts (`sender_chat` instead), forwarded messages
carry `forward_origin` (Bot API 7.0+), and `allowed_updates` is read the way the server reads
it (`get_allowed_update_types` in its Client.cpp).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, NotRequired, TypeAlias, TypedDict, cast

__all__ = [
    "CHAT_TYPES",
    "DEFAULT_ALLOWED_UPDATES",
    "MESSAGE_KINDS",
    "UPDATE_TYPES",
    "AcceptedGiftTypesDict",
    "BotUserDict",
    "ChatDict",
    "ChatFullInfoDict",
    "ChatInfo",
    "ChatType",
    "MessageDict",
    "MessageKind",
    "MessageOriginDict",
    "OriginChannelDict",
    "OriginChatDict",
    "OriginHiddenUserDict",
    "OriginUserDict",
    "UpdateDict",
    "UserDict",
    "WebhookInfoDict",
    "check_origin",
    "check_user",
    "origin_channel",
    "origin_chat",
    "origin_hidden_user",
    "origin_user",
    "parse_allowed_updates",
    "user",
]

ChatType = Literal["private", "group", "supergroup", "channel"]
CHAT_TYPES: tuple[ChatType, ...] = ("private", "group", "supergroup", "channel")
MessageKind = Literal["message", "edited_message", "channel_post", "edited_channel_post"]
MESSAGE_KINDS: tuple[MessageKind, ...] = (
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
)

#: Every update type the Bot API server knows, in its own order.
UPDATE_TYPES: tuple[str, ...] = (
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "inline_query",
    "chosen_inline_result",
    "callback_query",
    "custom_event",
    "custom_query",
    "shipping_query",
    "pre_checkout_query",
    "poll",
    "poll_answer",
    "my_chat_member",
    "chat_member",
    "chat_join_request",
    "chat_boost",
    "removed_chat_boost",
    "message_reaction",
    "message_reaction_count",
    "business_connection",
    "business_message",
    "edited_business_message",
    "deleted_business_messages",
    "purchased_paid_media",
    "managed_bot",
    "guest_message",
)
#: What a bot receives until it asks otherwise, and after asking with an empty list.
DEFAULT_ALLOWED_UPDATES: frozenset[str] = frozenset(UPDATE_TYPES) - {
    "chat_member",
    "message_reaction",
    "message_reaction_count",
}


class UserDict(TypedDict):
    """The Bot API `User`."""

    id: int
    is_bot: bool
    first_name: str
    last_name: NotRequired[str]
    username: NotRequired[str]


class BotUserDict(UserDict):
    """The `User` that `getMe` returns (with the bot-only flags)."""

    can_join_groups: bool
    can_read_all_group_messages: bool
    supports_inline_queries: bool
    can_connect_to_business: bool
    has_main_web_app: bool


class ChatDict(TypedDict):
    """The Bot API `Chat` as it appears inside messages."""

    id: int
    type: ChatType
    title: NotRequired[str]
    username: NotRequired[str]
    first_name: NotRequired[str]
    all_members_are_administrators: NotRequired[bool]


class AcceptedGiftTypesDict(TypedDict):
    unlimited_gifts: bool
    limited_gifts: bool
    unique_gifts: bool
    premium_subscription: bool
    gifts_from_channels: bool


class ChatFullInfoDict(ChatDict):
    """What `getChat` returns: a Chat plus the fields clients require of ChatFullInfo."""

    accent_color_id: int
    max_reaction_count: int
    accepted_gift_types: AcceptedGiftTypesDict


class OriginUserDict(TypedDict):
    type: Literal["user"]
    date: int
    sender_user: UserDict


class OriginHiddenUserDict(TypedDict):
    type: Literal["hidden_user"]
    date: int
    sender_user_name: str


class OriginChatDict(TypedDict):
    type: Literal["chat"]
    date: int
    sender_chat: ChatDict
    author_signature: NotRequired[str]


class OriginChannelDict(TypedDict):
    type: Literal["channel"]
    date: int
    chat: ChatDict
    message_id: int
    author_signature: NotRequired[str]


MessageOriginDict: TypeAlias = OriginUserDict | OriginHiddenUserDict | OriginChatDict | OriginChannelDict

# `from` is a Python keyword, hence the functional form.
MessageDict = TypedDict(
    "MessageDict",
    {
        "message_id": int,
        "from": NotRequired[UserDict],
        "sender_chat": NotRequired[ChatDict],
        "chat": ChatDict,
        "date": int,
        "edit_date": NotRequired[int],
        "forward_origin": NotRequired[MessageOriginDict],
        "text": str,
    },
)


class UpdateDict(TypedDict):
    """An `Update` carrying one of the message kinds this double produces."""

    update_id: int
    message: NotRequired[MessageDict]
    edited_message: NotRequired[MessageDict]
    channel_post: NotRequired[MessageDict]
    edited_channel_post: NotRequired[MessageDict]


class WebhookInfoDict(TypedDict):
    """What `getWebhookInfo` returns."""

    url: str
    has_custom_certificate: bool
    pending_update_count: int
    ip_address: NotRequired[str]
    allowed_updates: NotRequired[list[str]]


@dataclass(frozen=True, slots=True)
class ChatInfo:
    """A chat the double knows; `view()` is how it appears in messages."""

    id: int
    type: ChatType
    title: str | None = None
    username: str | None = None
    first_name: str | None = None

    def __post_init__(self) -> None:
        if self.type not in CHAT_TYPES:
            raise ValueError(f"chat type {self.type!r} is not one of {CHAT_TYPES}")
        if self.type == "private":
            if self.id <= 0:
                raise ValueError("a private chat has the user's (positive) id")
            if not self.first_name:
                raise ValueError("a private chat needs a first_name")
        else:
            if self.id >= 0:
                raise ValueError(f"a {self.type} has a negative id (channels: -100...)")
            if not self.title:
                raise ValueError(f"a {self.type} needs a title")

    def view(self) -> ChatDict:
        fields: dict[str, object] = {"id": self.id}
        if self.type == "private":
            fields["first_name"] = self.first_name
        else:
            fields["title"] = self.title
        if self.username:
            fields["username"] = self.username
        fields["type"] = self.type
        if self.type == "group":
            fields["all_members_are_administrators"] = True
        return cast(ChatDict, fields)

    def full_view(self) -> ChatFullInfoDict:
        full = cast(ChatFullInfoDict, dict(self.view()))
        full["accent_color_id"] = abs(self.id) % 7
        full["max_reaction_count"] = 11
        full["accepted_gift_types"] = AcceptedGiftTypesDict(
            unlimited_gifts=False,
            limited_gifts=False,
            unique_gifts=False,
            premium_subscription=False,
            gifts_from_channels=False,
        )
        return full


def user(
    user_id: int,
    first_name: str,
    *,
    username: str | None = None,
    last_name: str | None = None,
    is_bot: bool = False,
) -> UserDict:
    """A `User` object."""
    built = UserDict(id=user_id, is_bot=is_bot, first_name=first_name)
    if last_name:
        built["last_name"] = last_name
    if username:
        built["username"] = username
    return check_user(built)


def origin_user(sender: UserDict, *, date: int) -> OriginUserDict:
    """`forward_origin` of a message forwarded from a user who allows linking to them."""
    return OriginUserDict(type="user", date=date, sender_user=check_user(sender))


def origin_hidden_user(sender_user_name: str, *, date: int) -> OriginHiddenUserDict:
    """`forward_origin` of a message forwarded from a user who hides their account."""
    return OriginHiddenUserDict(type="hidden_user", date=date, sender_user_name=sender_user_name)


def origin_chat(sender_chat: ChatInfo, *, date: int, author_signature: str | None = None) -> OriginChatDict:
    """`forward_origin` of a message a group or supergroup sent on its own behalf."""
    built = OriginChatDict(type="chat", date=date, sender_chat=sender_chat.view())
    if author_signature:
        built["author_signature"] = author_signature
    return built


def origin_channel(
    channel: ChatInfo, message_id: int, *, date: int, author_signature: str | None = None
) -> OriginChannelDict:
    """`forward_origin` of a message forwarded from a channel post."""
    built = OriginChannelDict(type="channel", date=date, chat=channel.view(), message_id=message_id)
    if author_signature:
        built["author_signature"] = author_signature
    return built


def check_user(candidate: Mapping[str, object]) -> UserDict:
    """A deep copy of `candidate` after checking it is a plausible `User`."""
    if not isinstance(candidate.get("id"), int) or isinstance(candidate.get("id"), bool):
        raise ValueError("a User needs an integer id")
    if not isinstance(candidate.get("first_name"), str) or not candidate["first_name"]:
        raise ValueError("a User needs a non-empty first_name")
    checked = cast(UserDict, copy.deepcopy(dict(candidate)))
    checked.setdefault("is_bot", False)
    return checked


_ORIGIN_FIELDS: dict[str, dict[str, type]] = {
    "user": {"sender_user": dict},
    "hidden_user": {"sender_user_name": str},
    "chat": {"sender_chat": dict},
    "channel": {"chat": dict, "message_id": int},
}


def check_origin(candidate: Mapping[str, object]) -> MessageOriginDict:
    """A deep copy of `candidate` after checking it is one of the four `MessageOrigin`s."""
    kind = candidate.get("type")
    if not isinstance(kind, str) or kind not in _ORIGIN_FIELDS:
        raise ValueError(f"forward_origin type {kind!r} is not one of {sorted(_ORIGIN_FIELDS)}")
    if not isinstance(candidate.get("date"), int):
        raise ValueError("forward_origin needs an integer date")
    for name, expected in _ORIGIN_FIELDS[kind].items():
        if not isinstance(candidate.get(name), expected):
            raise ValueError(f"a {kind!r} forward_origin needs {name} ({expected.__name__})")
    return cast(MessageOriginDict, copy.deepcopy(dict(candidate)))


def parse_allowed_updates(raw: str) -> frozenset[str] | None:
    """Read `allowed_updates` as the server does; None means "keep the previous setting".

    Empty, unparsable or non-array values, and arrays holding a non-string, are ignored;
    names are matched without case and unknown ones dropped; an array naming no known type
    (including `[]`) selects the default set.
    """
    if not raw:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        return None
    chosen = frozenset(item.lower() for item in value) & frozenset(UPDATE_TYPES)
    return chosen or DEFAULT_ALLOWED_UPDATES
