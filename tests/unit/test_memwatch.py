"""tools.memwatch's pure parts: reading /proc text, naming processes, and the peak of the
sum at one instant (not the sum of each part's peak)."""
from __future__ import annotations

import os
import subprocess
import sys

from tools.memwatch import (Peaks, Sampler, classify, descendants, parse_cmdline, parse_pss, parse_status, table,
                            tree_pids)

STATUS = """Name:\tjava
Umask:\t0022
State:\tS (sleeping)
Tgid:\t4242
Pid:\t4242
PPid:\t4200
VmPeak:\t 5035492 kB
VmRSS:\t  521928 kB
RssAnon:\t  500000 kB
Threads:\t88
"""

PY = "/work/main/.venv/bin/python"
SPARK_JVM = ["/usr/lib/jvm/java-17-openjdk-amd64/bin/java", "-cp", "/x/pyspark/conf:/x/pyspark/jars/*",
             "-Xmx1g", "org.apache.spark.deploy.SparkSubmit", "--conf", "spark.app.name=stage3-train", "pyspark-shell"]


def test_parse_status_reads_name_parent_and_rss():
    assert parse_status(STATUS) == {"name": "java", "ppid": 4200, "rss_kib": 521928}


def test_parse_status_of_a_kernel_thread_or_zombie_has_no_rss():
    assert parse_status("Name:\tkthreadd\nPPid:\t0\n")["rss_kib"] == 0


def test_parse_pss_reads_the_proportional_set_size():
    rollup = ("5e000000-7ffde96fd000 ---p 00000000 00:00 0      [rollup]\nRss:              823168 kB\n"
              "Pss:              808994 kB\nPss_Dirty:        797664 kB\nPss_Anon:         797656 kB\n")
    assert parse_pss(rollup) == 808994
    assert parse_pss("Rss: 10 kB\n") is None


def test_parse_cmdline_splits_on_nul():
    assert parse_cmdline(b"python\0-m\0stage3.train\0--every\x0010m\0") == ["python", "-m", "stage3.train",
                                                                         "--every", "10m"]
    assert parse_cmdline(b"") == []


def test_descendants_follow_the_tree_and_ignore_unknown_roots():
    parents = {1: 0, 10: 1, 11: 10, 12: 11, 13: 10, 20: 1, 21: 20}
    assert descendants([10], parents) == {10, 11, 12, 13}
    assert descendants([10, 21, 999], parents) == {10, 11, 12, 13, 21}


def test_classify_engines_by_name_and_by_command_line():
    assert classify(["/x/java", "-Xms512m", "kafka.Kafka", "/r/server.properties"]) == "Kafka"
    assert classify(["/jdk/bin/java", "org.elasticsearch.bootstrap.Elasticsearch"]) == "Elasticsearch"
    assert classify(["/usr/bin/redis-server 127.0.0.1:6379"], "redis-server") == "Redis"
    assert classify(["anything"], engine="elasticsearch") == "Elasticsearch"


def test_classify_spark_jvms_by_the_python_that_started_them():
    assert classify(SPARK_JVM, "java", parent_part="training (Python)") == "Spark JVM (training)"
    assert classify(SPARK_JVM, "java", parent_part="streaming job (Python driver)") == "Spark JVM (streaming job)"
    assert classify(SPARK_JVM, "java", parent_part="pytest") == "Spark JVM (other)"


def test_classify_the_pipelines_python_processes():
    assert classify([PY, "-m", "pyspark.daemon"]) == "Spark Python workers"
    assert classify([PY, "-m", "common.pydaemon", "pyspark.worker"]) == "Spark Python workers"
    assert classify([PY, "-m", "stage1.live_generator", "--rate", "20"]) == "generator"
    assert classify([PY, "-m", "stage2.shipper", "--live-file", "x"]) == "shipper (to Kafka)"
    assert classify([PY, "-m", "stage3.sms_sender"]) == "SMS sender"
    assert classify([PY, "-m", "stage3.train", "--every", "10m"]) == "training (Python)"
    assert classify([PY, "02.stage3/train.py"]) == "training (Python)"
    assert classify([PY, "-m", "stage3.streaming_job"]) == "streaming job (Python driver)"
    assert classify(["node", "03.stage4/server.js"], "node") == "dashboard (Node)"
    assert classify(["make", "demo"], "make") == "shell / make"


def test_peak_total_is_the_sum_at_one_instant_not_the_sum_of_peaks():
    peaks = Peaks()
    # the training JVM and the streaming JVM never run at the same time here
    peaks.add([{"pid": 1, "part": "Elasticsearch", "rss_kib": 800 * 1024},
               {"pid": 2, "part": "Spark JVM (training)", "rss_kib": 900 * 1024}], at=1.0)   # no PSS: RSS
    peaks.add([{"pid": 1, "part": "Elasticsearch", "rss_kib": 810 * 1024},
               {"pid": 3, "part": "Spark JVM (streaming job)", "rss_kib": 700 * 1024}], at=2.0)
    report = peaks.report()
    assert report["peak_total_mib"] == 1700.0 and report["peak_total_at_s"] == 1.0
    assert report["sum_of_part_peaks_mib"] == 810 + 900 + 700
    assert report["parts"]["Elasticsearch"]["peak_mib"] == 810.0
    assert report["parts"]["Spark JVM (streaming job)"]["at_peak_total_mib"] == 0.0
    assert report["samples"] == 2 and [s for s, _ in report["timeline_mib"]] == [1.0, 2.0]
    assert "PEAK TOTAL" in table(report)


def test_shared_pages_count_once_in_the_total():
    peaks = Peaks()
    # three forks of one daemon: 100 MiB resident each, 60 of it shared by all three
    peaks.add([{"pid": p, "part": "Spark Python workers", "rss_kib": 100 * 1024, "pss_kib": 60 * 1024}
               for p in (5, 6, 7)], at=0.5)
    report = peaks.report()
    assert report["peak_total_mib"] == 180.0 and report["peak_rss_total_mib"] == 300.0


def test_a_parts_peak_adds_its_processes_at_one_instant():
    peaks = Peaks()
    peaks.add([{"pid": p, "part": "Spark Python workers", "rss_kib": 100 * 1024} for p in (5, 6, 7)], at=0.5)
    peaks.add([{"pid": 5, "part": "Spark Python workers", "rss_kib": 150 * 1024}], at=1.0)
    part = peaks.report()["parts"]["Spark Python workers"]
    assert part["peak_mib"] == 300.0 and part["max_processes"] == 3


def test_sampler_sees_a_child_process_of_this_one():
    child = subprocess.Popen([sys.executable, "-c", "x = bytearray(40 * 2**20); import time; time.sleep(1.5)"])
    try:
        report = Sampler(lambda: tree_pids([child.pid]), interval=0.1).start()
        child.wait()
        report = report.stop()
    finally:
        child.kill()
    assert report["samples"] >= 3
    assert 40 <= report["peak_total_mib"] < 200
    assert os.getpid() not in {p["pid"] for p in report["processes"]}


def test_a_named_spark_jvm_keeps_its_name_once_its_python_is_gone_a_shell_does_not():
    from tools.memwatch import take_sample

    me = os.getpid()
    known = {me: "Spark JVM (training)"}
    [row] = take_sample([me], known=known)
    assert row["part"] == "Spark JVM (training)"
    known = {me: "shell / make"}             # spark-submit's bash, before it execs java
    [row] = take_sample([me], known=known)
    assert row["part"] == "pytest"


def test_doctor_warns_under_the_measured_peak_and_counts_running_engines_as_fitted():
    from tools.doctor import DEMO_PEAK_MIB, OK, WARN, memory_check

    assert memory_check(DEMO_PEAK_MIB + 1)[0] == OK
    status, _, detail = memory_check(DEMO_PEAK_MIB - 1)
    assert status == WARN and str(DEMO_PEAK_MIB) in detail and "docs/memory.md" in detail
    assert "ES_HEAP" in detail and "exit 137" in detail
    assert memory_check(DEMO_PEAK_MIB - 1500, engines_mib=1500)[0] == OK     # engines already up
    assert memory_check(None)[0] == WARN
