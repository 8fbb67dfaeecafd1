"""A real IMAP server on 127.0.0.1 for the tests: pymap (pure Python, in requirements.txt) with its
in-memory backend, run as a child process with a certificate made for the run.

`ImapServer.port` speaks STARTTLS (pymap's own TLS); `ImapServer.ssl_port` is TLS from the first byte,
a small relay in this process that ends TLS and passes the bytes to pymap, as a server on port 993
would. The test suite never skips these tests: a missing pymap or openssl is an error.
"""

import imaplib
import shutil
import socket
import ssl
import subprocess  # nosec B404 - starts the test IMAP server and openssl, fixed arguments
import sys
import threading
import time
from pathlib import Path

from service.imap import folder_name

USER = "support@romashka.test"
PASSWORD = "imap-test-2026"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def make_certificate(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "imap-cert.pem", folder / "imap-key.pem"
    openssl = shutil.which("openssl")
    assert openssl, "openssl is needed to make the test IMAP server's certificate"
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",  # nosec B603
                    "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, capture_output=True)
    return cert, key


class _TlsRelay:
    """Ends TLS on its own port and relays the plain bytes to pymap (an IMAPS port, in effect)."""

    def __init__(self, cert: Path, key: Path, target_port: int):
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(str(cert), str(key))
        self.target_port = target_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _address = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket):
        try:
            secure = self.context.wrap_socket(client, server_side=True)
        except (ssl.SSLError, OSError):
            client.close()
            return
        upstream = socket.create_connection(("127.0.0.1", self.target_port))
        threading.Thread(target=self._pump, args=(upstream, secure), daemon=True).start()
        self._pump(secure, upstream)

    @staticmethod
    def _pump(source: socket.socket, target: socket.socket):
        try:
            while chunk := source.recv(65536):
                target.sendall(chunk)
        except OSError:
            pass
        finally:
            for end in (source, target):
                try:
                    end.close()
                except OSError:
                    pass

    def close(self):
        self.listener.close()


class ImapServer:
    def __init__(self, folder: Path):
        executable = Path(sys.executable).with_name("pymap")
        assert executable.exists(), "pymap is in requirements.txt: run make setup"
        self.cert, key = make_certificate(folder)
        self.port = free_port()
        self.process = subprocess.Popen(  # nosec B603 - our own test server, fixed arguments
            [str(executable), "--host", "127.0.0.1", "--port", str(self.port), "--cert", str(self.cert),
             "--key", str(key), "dict", "--demo-user", USER, "--demo-password", PASSWORD],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("the test IMAP server (pymap) did not start: "
                                       + (self.process.stderr.read().decode(errors="replace")
                                          if self.process.stderr else "")) from None
                time.sleep(0.1)
        self.relay = _TlsRelay(self.cert, key, self.port)
        self.ssl_port = self.relay.port

    def stop(self):
        if getattr(self, "relay", None):
            self.relay.close()
        self.process.kill()  # in-memory: nothing to save
        self.process.wait(timeout=10)

    # --- what a test does to the mailbox, as another mail client would ---

    def client(self) -> imaplib.IMAP4:
        connection = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        connection.starttls(ssl_context=ssl.create_default_context(cafile=str(self.cert)))
        connection.login(USER, PASSWORD)
        return connection

    def deliver(self, message, folder: str = "INBOX") -> int:
        """Appends a message (bytes or an EmailMessage); returns its UID."""
        raw = message if isinstance(message, bytes) else message.as_bytes()
        connection = self.client()
        try:
            status, data = connection.append(folder, None, None, raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))
            assert status == "OK", data
            return int(data[0].split(b"]")[0].split()[-1])  # [APPENDUID <validity> <uid>]
        finally:
            connection.logout()

    def messages(self, folder: str = "INBOX") -> dict[int, set[str]]:
        """UID → flags of the messages in the folder ({} when the folder does not exist)."""
        connection = self.client()
        try:
            status, _data = connection.select(f'"{folder_name(folder)}"', readonly=True)
            if status != "OK":
                return {}
            status, data = connection.uid("FETCH", "1:*", "(UID FLAGS)")
            found = {}
            for line in data:
                if not isinstance(line, bytes) or b"UID" not in line:
                    continue
                text = line.decode()
                uid = int(text.split("UID ")[1].split()[0].rstrip(")"))
                flags = text.split("FLAGS (")[1].split(")")[0]
                found[uid] = set(flags.split())
            return found
        finally:
            connection.logout()

    def reset(self):
        """Empties INBOX and removes every other folder, for the next test."""
        connection = self.client()
        try:
            _status, folders = connection.list()
            for line in folders:
                name = line.decode().rsplit(' "/" ', 1)[-1].strip('"') if line else ""
                if name and name.upper() != "INBOX":
                    connection.delete(f'"{name}"')
            _status, count = connection.select("INBOX")
            if int(count[0] or 0):
                connection.store("1:*", "+FLAGS.SILENT", r"(\Deleted)")
                connection.expunge()
        finally:
            connection.logout()
