#!/bin/sh
# Both images' entrypoint, then the command:
# - MINDLENS_WAIT_FOR="http://mlflow:5000/health file:/var/lib/mindlens/init.done ...": wait
#   (up to MINDLENS_WAIT_TIMEOUT_S, default 600) until each URL answers and each file exists.
#   Compose engines without health or completion conditions (podman-compose on podman < 4.6,
#   docker-compose.local.yml) start services before their dependencies are ready.
# - Register the shipped releases the registry lacks (a no-op when they are there; a fresh
#   MLflow server named by MINDLENS_MLFLOW__TRACKING_URI gets them). MINDLENS_BOOTSTRAP=0
#   skips it (compose: the init service did it; the platform image's default).
set -e
if [ -n "${MINDLENS_WAIT_FOR:-}" ]; then
    python3 - "${MINDLENS_WAIT_TIMEOUT_S:-600}" $MINDLENS_WAIT_FOR <<'PY'
import os, sys, time, urllib.request
deadline = time.monotonic() + float(sys.argv[1])
for target in sys.argv[2:]:
    print(f"mindlens-entrypoint: waiting for {target}", flush=True)
    while True:
        try:
            if target.startswith("file:"):
                if not os.path.exists(target[5:]):
                    raise FileNotFoundError(target[5:])
            else:
                urllib.request.urlopen(target, timeout=5).close()
            break
        except Exception as err:  # refused, DNS not yet there, 5xx, no file: not ready yet
            if time.monotonic() > deadline:
                sys.exit(f"mindlens-entrypoint: {target} not ready in time ({err})")
            time.sleep(2)
PY
fi
if [ "${MINDLENS_BOOTSTRAP:-1}" != "0" ] && [ -d /app/models ]; then
    mindlens registry bootstrap
fi
exec "$@"
