"""A local SMTP sink (aiosmtpd on 127.0.0.1) in its own process, for the mailing benchmark
(`manage.py bench_mailing`): it accepts every message and appends "<recipient> <Message-ID>" to a file,
one line per recipient, so the benchmark can check that no address got two messages.

    python -m marketing.smtp_sink PORT FILE [DELAY_MS]   # prints "ready" once it listens; stops on SIGTERM

DELAY_MS makes it a slow server (each message accepted that many milliseconds after its data): a chaos
test that must catch a mailing still sending uses it (marketing/tests/test_redis_restarted.py).

Its own process, so the sender being measured does not share an interpreter (and its GIL) with the
server.
"""

import asyncio
import re
import signal
import sys
import threading

from aiosmtpd.controller import Controller

MESSAGE_ID = re.compile(rb"^Message-ID:\s*(\S+)", re.IGNORECASE | re.MULTILINE)


class Record:
    def __init__(self, path: str, delay_ms: int = 0):
        self.file = open(path, "a", encoding="utf-8", buffering=1)  # noqa: SIM115 - open while the sink runs
        self.delay = delay_ms / 1000

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        if self.delay:
            await asyncio.sleep(self.delay)
        found = MESSAGE_ID.search(envelope.original_content or b"")
        message_id = found.group(1).decode("ascii", "replace") if found else "-"
        for recipient in envelope.rcpt_tos:
            self.file.write(f"{recipient} {message_id}\n")
        return "250 Message accepted for delivery"


def main() -> None:
    port, path = int(sys.argv[1]), sys.argv[2]
    delay_ms = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    controller = Controller(Record(path, delay_ms), hostname="127.0.0.1", port=port)
    controller.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_args: stop.set())
    signal.signal(signal.SIGINT, lambda *_args: stop.set())
    print("ready", flush=True)  # noqa: T201 - the parent waits for this line
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
