"""What the stack costs at rest: the CPU each process uses with nothing to do, first with no client at all,
then with an idle worker connected; for the Kafka broker also by thread (the JVM names its threads).

On a small machine this is CPU the pipeline cannot use, and on CI it is spent for the whole test run.

    python -m bench.idle_cost --settle 60 --seconds 30
"""

from __future__ import annotations

import argparse
import time
from collections import Counter

from bench.pipeline import cpu_of, os_thread_name, processes, worker_ready
from copilot.sandbox import free_port, machine, poll, sandbox


def cpu_by_role_and_broker_thread() -> tuple[Counter[str], Counter[str]]:
    roles: Counter[str] = Counter()
    broker: Counter[str] = Counter()
    for role, proc in processes():
        roles[role] += cpu_of(proc)
        if role == "Kafka broker":
            for task in proc.glob("task/[0-9]*"):
                broker[os_thread_name(task)] += cpu_of(task)
    return roles, broker


def share_of_a_core(seconds: float) -> tuple[Counter[str], Counter[str]]:
    roles_before, broker_before = cpu_by_role_and_broker_thread()
    time.sleep(seconds)
    roles, broker = cpu_by_role_and_broker_thread()
    return (Counter({k: (v - roles_before[k]) / seconds for k, v in roles.items()}),
            Counter({k: (v - broker_before[k]) / seconds for k, v in broker.items()}))


def report(label: str, roles: Counter[str], broker: Counter[str]) -> None:
    print(f"{label}: " + ", ".join(f"{role} {share:.1%}" for role, share in roles.most_common()) + " of a core")
    print("  broker threads: " + ", ".join(f"{name} {share:.1%}" for name, share in broker.most_common(6)))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--settle", type=float, default=60.0, help="seconds after the stack starts, before measuring "
                                                                    "(the JVM compiles the broker's hot code first)")
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    with sandbox() as r:
        time.sleep(args.settle)
        report("no client", *share_of_a_core(args.seconds))
        metrics_port = free_port()
        r.start("worker", "worker", extra={"COPILOT_METRICS_PORT": str(metrics_port)})
        poll(lambda: worker_ready(f"http://127.0.0.1:{metrics_port}/metrics"), timeout=300, interval=0.5)
        time.sleep(10)  # its group joined and its first fetches answered
        report("an idle worker", *share_of_a_core(args.seconds))


if __name__ == "__main__":
    main()
