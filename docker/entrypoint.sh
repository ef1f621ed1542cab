#!/bin/sh
# Both images' entrypoint, then the command:
# - MINDLENS_WAIT_FOR="http://mlflow:5000/health ...": wait (up to MINDLENS_WAIT_TIMEOUT_S,
#   default 300) until each URL answers; compose engines that ignore health conditions
#   (podman-compose on podman < 4.6) start services before their dependencies are ready.
# - Register the shipped releases the registry lacks (a no-op when they are there; a fresh
#   MLflow server named by MINDLENS_MLFLOW__TRACKING_URI gets them). MINDLENS_BOOTSTRAP=0
#   skips it (compose: the init service did it; the platform image's default).
set -e
if [ -n "${MINDLENS_WAIT_FOR:-}" ]; then
    python3 - "${MINDLENS_WAIT_TIMEOUT_S:-300}" $MINDLENS_WAIT_FOR <<'PY'
import sys, time, urllib.request
deadline = time.monotonic() + float(sys.argv[1])
for url in sys.argv[2:]:
    while True:
        try:
            urllib.request.urlopen(url, timeout=5).close()
            break
        except Exception as err:  # refused, DNS not yet there, 5xx: not ready yet
            if time.monotonic() > deadline:
                sys.exit(f"mindlens-entrypoint: {url} did not answer in time ({err})")
            time.sleep(2)
PY
fi
if [ "${MINDLENS_BOOTSTRAP:-1}" != "0" ] && [ -d /app/models ]; then
    mindlens registry bootstrap
fi
exec "$@"
