#!/usr/bin/env bash
# job_startup_user.sh: site hook for X-Spot containers; runs in the container as the job's user before the job starts.
# Replace it by pointing containers.scripts in the config at your own file.
set -euo pipefail
exit 0
