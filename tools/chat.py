"""Talk to the bot in the terminal (``make chat``).

Every message goes over HTTP to ``/api/messages`` as a real Bot Framework activity, through the
same handler, adapter and bot that Teams uses, with ``deliveryMode: expectReplies`` so the replies
come back in the response. Cards are shown as text; their buttons as numbered choices: type the
number to click one. By default the bot runs in this process on a free loopback port; pass
``--url`` to talk to a bot started with ``make run``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import uuid
from pathlib import Path

from aiohttp import ClientSession, web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.cards.common import Choice, card_to_text  # noqa: E402

CARD = "application/vnd.microsoft.card.adaptive"


class ChatClient:
    """A minimal Bot Framework client: builds activities, renders what comes back."""

    def __init__(self, session: ClientSession, endpoint: str) -> None:
        self.session = session
        self.endpoint = endpoint
        self.conversation_id = f"console-{uuid.uuid4()}"
        self.choices: list[Choice] = []

    def _activity(self, **fields) -> dict:
        return {
            "type": "message",
            "id": str(uuid.uuid4()),
            "channelId": "console",
            "serviceUrl": "http://127.0.0.1/",
            "deliveryMode": "expectReplies",
            "from": {"id": "console-user", "name": "You"},
            "recipient": {"id": "safeguarding-bot", "name": "Safeguarding bot"},
            "conversation": {"id": self.conversation_id, "conversationType": "personal"},
            **fields,
        }

    async def send(self, activity: dict) -> list[str]:
        async with self.session.post(self.endpoint, json=activity) as response:
            if response.status != 200:
                return [f"[the bot answered HTTP {response.status}]"]
            body = await response.json()
        return self.render(body.get("activities", []))

    async def start(self) -> list[str]:
        return await self.send(
            self._activity(
                type="conversationUpdate",
                membersAdded=[{"id": "safeguarding-bot"}, {"id": "console-user"}],
            )
        )

    async def say(self, line: str) -> list[str]:
        submits = [c for c in self.choices if c.data is not None]
        if line.strip().isdigit() and 1 <= int(line) <= len(submits):
            return await self.send(self._activity(value=submits[int(line) - 1].data))
        return await self.send(self._activity(text=line))

    def render(self, activities: list[dict]) -> list[str]:
        out: list[str] = []
        self.choices = []
        for activity in activities:
            if activity.get("type") != "message":
                continue
            if activity.get("text"):
                out.append(activity["text"])
            for attachment in activity.get("attachments") or []:
                if attachment.get("contentType") == CARD:
                    text, choices = card_to_text(attachment["content"])
                    if any(c.data is not None for c in choices):
                        # A typed number means the numbered list shown last (each card numbers
                        # from 1): after a mid-guide FAQ answer, that is the guide step's buttons.
                        self.choices = list(choices)
                    out.append(text)
        return out


async def run(url: str | None) -> None:
    runner = None
    if url is None:
        from app import create_app, knowledge_for
        from bot.settings import Settings

        settings = Settings.from_env()
        app = create_app(settings, knowledge_for(settings))
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # noqa: SLF001 - aiohttp has no public getter
        url = f"http://127.0.0.1:{port}/api/messages"

    loop = asyncio.get_running_loop()
    async with ClientSession() as session:
        client = ChatClient(session, url)
        print("Type a message (numbers click buttons; Ctrl-D or 'quit' to leave).\n")
        for block in await client.start():
            print(f"bot> {block}\n")
        while True:
            try:
                line = await loop.run_in_executor(None, input, "you> ")
            except EOFError:
                break
            if line.strip().lower() in {"quit", "exit"}:
                break
            if not line.strip():
                continue
            for block in await client.say(line):
                print(f"\nbot> {block}\n")
    if runner is not None:
        await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running bot's /api/messages (default: start one in-process)")
    args = parser.parse_args()
    try:
        asyncio.run(run(args.url))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
