"""A private Redis for chaos tests: its own redis-server on a free loopback port, with its data in a
temporary folder, so that a test can kill it and start it again without touching the Redis everybody
else uses (REDIS_URL)."""

import subprocess
import time
from pathlib import Path

import redis

from stack import free_port, redis_server_binary


class PrivateRedis:
    """`start()` starts it empty (no snapshot, no append-only file: a restart loses every queue,
    lock and counter); `kill()` is SIGKILL; `stop()` is for finalizers (safe to call twice)."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None
        self.starts = 0

    def client(self) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=1, socket_timeout=1)

    def start(self, timeout: float = 10) -> None:
        binary = redis_server_binary()
        if binary is None:
            raise RuntimeError("No redis-server binary (stack.redis_server_binary)")
        self.starts += 1
        folder = self.folder / f"start{self.starts}"  # a folder of its own: nothing to load
        folder.mkdir(parents=True)
        self.process = subprocess.Popen(  # noqa: S603 - our own binary and arguments
            [binary, "--bind", "127.0.0.1", "--port", str(self.port), "--dir", str(folder), "--save", "",
             "--appendonly", "no", "--daemonize", "no", "--logfile", str(folder / "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + timeout
        while True:
            try:
                if self.client().ping():
                    return
            except (redis.RedisError, OSError):
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"The private Redis did not start on port {self.port}: see {folder}/redis.log")
            time.sleep(0.05)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
        if self.process is not None:
            self.process.wait(timeout=10)

    def stop(self) -> None:
        self.kill()
