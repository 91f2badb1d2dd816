"""Real headless Chromium (Debian's /usr/bin/chromium) driven through the DevTools protocol over
--remote-debugging-pipe: JSON messages separated by NUL bytes on file descriptors 3 (to the browser)
and 4 (from it). No driver, no websocket library, no network port of its own."""
import base64
import json
import os
import select
import shutil
import subprocess
import time

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-default-apps", "--disable-extensions", "--mute-audio", "--hide-scrollbars",
    # WebGL without a GPU: ANGLE on SwiftShader (software), which MapLibre needs
    "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
]


def available():
    return shutil.which(CHROMIUM) is not None or os.path.exists(CHROMIUM)


class BrowserError(Exception):
    pass


class Browser:
    def __init__(self, user_data_dir, width=1280, height=1000):
        to_browser_r, self._write = (self._high(fd) for fd in os.pipe())
        self._read, from_browser_w = (self._high(fd) for fd in os.pipe())
        # the browser reads fd 3 and writes fd 4
        os.set_inheritable(to_browser_r, True)
        os.set_inheritable(from_browser_w, True)

        def fds():
            os.dup2(to_browser_r, 3)
            os.dup2(from_browser_w, 4)

        self.stderr_path = os.path.join(user_data_dir, "chromium-stderr.txt")
        os.makedirs(user_data_dir, exist_ok=True)
        self._stderr = open(self.stderr_path, "wb")
        self.process = subprocess.Popen(
            [CHROMIUM, *FLAGS, f"--user-data-dir={user_data_dir}", f"--window-size={width},{height}",
             "--remote-debugging-pipe", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=self._stderr, stderr=self._stderr, preexec_fn=fds, close_fds=False)
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buffer = b""
        self._id = 0
        self.events = []
        self.session = None
        self.width, self.height = width, height

    @staticmethod
    def _high(fd):
        """The descriptor moved to 10 or above, so that dup2 onto 3 and 4 in the child cannot clobber it."""
        import fcntl

        moved = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
        os.close(fd)
        return moved

    # -- protocol --------------------------------------------------------------------------------
    def _receive(self, deadline):
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BrowserError("no answer from chromium in time")
            ready, _, _ = select.select([self._read], [], [], left)
            if ready:
                chunk = os.read(self._read, 1 << 20)
                if not chunk:
                    raise BrowserError("chromium closed its pipe: " + self._tail())
                self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def _tail(self):
        self._stderr.flush()
        with open(self.stderr_path, "rb") as f:
            return f.read()[-2000:].decode("utf-8", "replace")

    def send(self, method, params=None, session=True, timeout=30):
        self._id += 1
        message = {"id": self._id, "method": method, "params": params or {}}
        if session and self.session:
            message["sessionId"] = self.session
        os.write(self._write, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._receive(deadline)
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise BrowserError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            if "method" in reply:
                self.events.append(reply)

    def pump(self, seconds):
        """Collect events for a while."""
        deadline = time.monotonic() + seconds
        while True:
            try:
                reply = self._receive(deadline)
            except BrowserError as error:
                if "in time" in str(error):
                    return
                raise
            if "method" in reply:
                self.events.append(reply)

    # -- pages -----------------------------------------------------------------------------------
    def open(self, url):
        target = self.send("Target.createTarget", {"url": "about:blank"}, session=False)["targetId"]
        self.session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True}, session=False)["sessionId"]
        for domain in ("Page", "Runtime", "Network"):
            self.send(f"{domain}.enable")
        self.send("Emulation.setDeviceMetricsOverride",
                  {"width": self.width, "height": self.height, "deviceScaleFactor": 1, "mobile": False})
        self.send("Page.navigate", {"url": url})
        self.wait_for("document.readyState === 'complete'")

    def evaluate(self, expression):
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in result:
            raise BrowserError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.evaluate(f"Boolean({expression})"):
                return
            time.sleep(0.1)
        raise BrowserError(f"timed out waiting for {expression}")

    def click(self, x, y):
        for kind in ("mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", {"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1})

    def screenshot(self, path, full_page=True):
        params = {"format": "png"}
        if full_page:
            params["captureBeyondViewport"] = True
            size = self.send("Page.getLayoutMetrics")["cssContentSize"]
            params["clip"] = {"x": 0, "y": 0, "width": self.width, "height": min(size["height"], 6000), "scale": 1}
        data = self.send("Page.captureScreenshot", params)["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))
        return path

    def responses(self, contains):
        """(url, status) of every response whose URL contains the text."""
        return [(e["params"]["response"]["url"], e["params"]["response"]["status"]) for e in self.events
                if e["method"] == "Network.responseReceived" and contains in e["params"]["response"]["url"]]

    def close(self):
        try:
            self.send("Browser.close", session=False, timeout=5)
        except (BrowserError, OSError):
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        for fd in (self._read, self._write):
            try:
                os.close(fd)
            except OSError:
                pass
        self._stderr.close()
