"""The container image, checked without a container engine: runs the Dockerfile's own build
commands natively, then starts the binary as its runtime stage would (non-root, its ENV, its
ENTRYPOINT, the demo files where it COPYs them) and runs its HEALTHCHECK command.

Usage: image_test.py --scratch-path DIR   (where the release build keeps its files)
"""

import argparse
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

# Libraries the runtime image (debian:bookworm-slim plus its apt-get line) provides.
RUNTIME_LIBRARIES = {"linux-vdso", "libc", "libm", "libstdc++", "libgcc_s", "libsqlite3", "libz", "ld-linux-x86-64",
                     "ld-linux-aarch64", "libpthread", "libdl", "librt", "libutil"}


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Dockerfile:
    """The instructions of the Dockerfile, continuation lines joined, split by stage."""

    def __init__(self, path):
        text = open(path).read().replace("\\\n", " ")
        self.stages = []
        for line in text.splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            instruction, _, argument = line.partition(" ")
            if instruction.upper() == "FROM":
                self.stages.append([])
            self.stages[-1].append((instruction.upper(), argument.strip()))

    def all(self, stage, instruction):
        return [argument for name, argument in self.stages[stage] if name == instruction]

    def one(self, stage, instruction):
        values = self.all(stage, instruction)
        assert len(values) == 1, "expected one %s in stage %d, found %d" % (instruction, stage, len(values))
        return values[0]


class ImageTests(unittest.TestCase):
    scratch = None

    @classmethod
    def setUpClass(cls):
        cls.dockerfile = Dockerfile(os.path.join(ROOT, "Dockerfile"))
        cls.out = tempfile.mkdtemp(prefix="connect-broker-image-")
        build = [command for command in cls.dockerfile.all(0, "RUN") if "swift build" in command]
        assert build, "the build stage has no swift build command"
        for command in build:
            native = command.replace("/out/", cls.out + "/")
            native = re.sub(r"swift build", "swift build --scratch-path " + shlex.quote(cls.scratch), native)
            print("image-test: " + native, flush=True)
            subprocess.run(["bash", "-euo", "pipefail", "-c", native], cwd=ROOT, check=True)
        cls.binary = os.path.join(cls.out, "connect-broker")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.out, ignore_errors=True)

    def test_build_is_release_with_the_swift_runtime_linked_in(self):
        command = " ".join(self.dockerfile.all(0, "RUN"))
        self.assertIn("-c release", command)
        self.assertIn("--static-swift-stdlib", command)
        linked = subprocess.run(["ldd", self.binary], capture_output=True, text=True, check=True).stdout
        names = {re.split(r"\.so", line.split()[0])[0].rsplit("/", 1)[-1] for line in linked.splitlines() if line.strip()}
        self.assertFalse([name for name in names if "swift" in name.lower() or "Foundation" in name], linked)
        self.assertLessEqual(names, RUNTIME_LIBRARIES, "libraries the runtime image lacks:\n" + linked)

    def test_runtime_stage_is_non_root_with_a_volume_a_port_and_a_health_check(self):
        user = self.dockerfile.one(1, "USER")
        self.assertNotIn(user, ("root", "0"))
        self.assertIn('"/data"', self.dockerfile.one(1, "VOLUME"))
        self.assertEqual(self.dockerfile.one(1, "EXPOSE"), "8080")
        self.assertIn("/healthz", self.dockerfile.one(1, "HEALTHCHECK"))
        self.assertEqual(self.dockerfile.one(1, "ENTRYPOINT"), '["connect-broker", "serve"]')
        self.assertTrue(any("useradd" in command and user in command for command in self.dockerfile.all(1, "RUN")))

    def test_binary_serves_healthz_as_the_image_starts_it(self):
        root = tempfile.mkdtemp(prefix="connect-broker-image-root-")
        try:
            self.run_as_image_would(root)
        finally:
            shutil.rmtree(root, ignore_errors=True)

    def run_as_image_would(self, root):
        # Files where the runtime stage puts them, under a scratch root.
        for copy in self.dockerfile.all(1, "COPY"):
            parts = copy.split()
            if parts[0].startswith("--from="):
                source, target = self.binary, parts[2]
            else:
                source, target = os.path.join(ROOT, parts[0]), parts[1]
            destination = root + target
            os.makedirs(os.path.dirname(destination), exist_ok=True)
            if os.path.isdir(source):
                shutil.copytree(source, destination)
            else:
                shutil.copy2(source, destination)
        environment = {"PATH": root + "/usr/local/bin:/usr/bin:/bin"}
        for line in self.dockerfile.all(1, "ENV"):
            for pair in shlex.split(line):
                key, _, value = pair.partition("=")
                environment[key] = root + value if value.startswith("/") else value
        port = free_port()
        environment.update(HOST="127.0.0.1", PORT=str(port))
        data = environment["DATA_DIR"]
        os.makedirs(data, exist_ok=True)
        entrypoint = [part.strip('" ') for part in self.dockerfile.one(1, "ENTRYPOINT").strip("[]").split(",")]
        command = [root + "/usr/local/bin/" + entrypoint[0]] + entrypoint[1:]
        if os.geteuid() == 0:
            # As an unprivileged user, as the image's USER line asks.
            for path in (root, data):
                os.chmod(path, 0o755)
            subprocess.run(["chown", "-R", "65534:65534", data], check=True)
            command = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] + command
        log = open(os.path.join(root, "broker.log"), "w+")
        process = subprocess.Popen(command, env=environment, cwd=data, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        try:
            self.wait_until_healthy(port, process, log)
            healthcheck = self.dockerfile.one(1, "HEALTHCHECK").split(" CMD ", 1)[1].replace(":8080", ":%d" % port)
            result = subprocess.run(["sh", "-c", healthcheck], capture_output=True, text=True, timeout=10)
            self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
            with urllib.request.urlopen("http://127.0.0.1:%d/" % port, timeout=5) as page:
                self.assertIn("Ledgerly", page.read().decode())
            self.assertTrue(os.path.exists(os.path.join(data, "broker.sqlite")), "no SQLite file in the data volume")
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                self.assertEqual(process.wait(timeout=15), 0, "the broker did not stop cleanly on SIGTERM")
            finally:
                if process.poll() is None:
                    os.killpg(process.pid, signal.SIGKILL)
                log.close()

    def wait_until_healthy(self, port, process, log):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if process.poll() is not None:
                log.seek(0)
                self.fail("the broker exited with status %d:\n%s" % (process.returncode, log.read()))
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d/healthz" % port, timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        self.fail("/healthz did not answer within 30 s")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scratch-path", required=True)
    arguments = parser.parse_args()
    ImageTests.scratch = os.path.abspath(arguments.scratch_path)
    result = unittest.TextTestRunner(verbosity=2).run(unittest.defaultTestLoader.loadTestsFromTestCase(ImageTests))
    sys.exit(0 if result.wasSuccessful() else 1)


if __name__ == "__main__":
    main()
