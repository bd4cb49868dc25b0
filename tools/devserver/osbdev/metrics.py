"""Host metrics from /proc, shaped like execd's /metrics (PROTOCOL.md 3.13)."""

import os
import time


def _cpu_times():
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith("cpu "):
                vals = [int(x) for x in line.split()[1:]]
                idle = vals[3] + (vals[4] if len(vals) > 4 else 0)
                # guest time is already included in user/nice
                total = sum(vals[:8]) if len(vals) >= 8 else sum(vals)
                return idle, total
    raise OSError("no cpu line in /proc/stat")


def _meminfo():
    info = {}
    with open("/proc/meminfo") as f:
        for line in f:
            k, _, v = line.partition(":")
            parts = v.split()
            if parts:
                info[k] = int(parts[0])
    total = info["MemTotal"] / 1024.0
    avail = info.get("MemAvailable")
    if avail is None:
        avail = info.get("MemFree", 0) + info.get("Buffers", 0) + info.get("Cached", 0)
    return total, total - avail / 1024.0


def cpu_count():
    try:
        n = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        n = os.cpu_count() or 1
    try:
        with open("/sys/fs/cgroup/cpu.max") as f:
            quota, period = f.read().split()[:2]
        if quota != "max":
            n = min(n, max(1, int(int(quota) // int(period))))
    except (OSError, ValueError):
        pass
    return max(1, n)


def sample(interval):
    ts = int(time.time() * 1000)
    i0, t0 = _cpu_times()
    time.sleep(interval)
    i1, t1 = _cpu_times()
    dt = t1 - t0
    pct = 0.0 if dt <= 0 else max(0.0, min(100.0, 100.0 * (dt - (i1 - i0)) / dt))
    total, used = _meminfo()
    return {"cpu_count": cpu_count(), "cpu_used_pct": round(pct, 2),
            "mem_total_mib": round(total, 2), "mem_used_mib": round(used, 2), "timestamp": ts}
