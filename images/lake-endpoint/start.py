"""Start the local lake endpoint (moto server) with state that survives container restarts.

moto keeps everything in memory. Its recorder appends every request to a file; this script
puts that file on the named volume, replays it when the server starts (so buckets and objects
come back after `pulumi destroy` + `pulumi up`), then records again.
"""

import os
import subprocess
import sys
import time
import urllib.request

PORT = os.environ.get("MOTO_PORT", "5000")
BASE = f"http://127.0.0.1:{PORT}/moto-api"
RECORDING = os.environ["MOTO_RECORDER_FILEPATH"]


def post(path: str) -> None:
    urllib.request.urlopen(urllib.request.Request(f"{BASE}/recorder/{path}", method="POST"), timeout=60)


server = subprocess.Popen(["moto_server", "-H", "0.0.0.0", "-p", PORT])  # noqa: S104 - inside its container
for _ in range(300):
    try:
        urllib.request.urlopen(f"{BASE}/", timeout=1)
        break
    except OSError:
        time.sleep(0.2)
else:
    sys.exit("moto server did not start")
if os.path.exists(RECORDING) and os.path.getsize(RECORDING) > 0:
    post("replay-recording")
post("start-recording")
sys.exit(server.wait())
