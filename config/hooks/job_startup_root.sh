#!/usr/bin/env bash
# job_startup_root.sh: site hook for X-Spot containers; runs in the container as root before the job starts.
# Replace it by pointing containers.scripts in the config at your own file.
set -euo pipefail
exit 0
