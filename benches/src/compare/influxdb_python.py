"""influxdb-python (5.3) for the comparison program (`influx-bench compare`): one variant per
process, so rounds stay interleaved with the Rust variants.

Usage: influxdb_python.py MODE HOST PORT DATABASE N
  write_points   client.write_points(points, batch_size=5000)
  series_helper  SeriesHelper with bulk_size = 5000 and autocommit, then a last commit
  query          client.query("SELECT * FROM cpu", epoch="ns") and every row of get_points()
  memory         client.query as above; prints the process's peak RSS instead of a time

The work alone is timed (time.perf_counter): the interpreter's start-up, the imports and
building the points are not counted. Prints `SECONDS COUNT` (`memory`: `peak_kib KIB` and
`rows COUNT` lines).
"""
import sys
import time

from influxdb import InfluxDBClient, SeriesHelper

BATCH = 5000
QUERY = "SELECT * FROM cpu"
REGIONS = ["us-west", "us-east", "eu-central", "ap-south"]
START = 1_700_000_000_000_000_000

mode, host, port, database, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
# A timeout, so that a stuck server fails the variant instead of hanging the run.
client = InfluxDBClient(host, port, database=database, timeout=120)


def samples():
    """The reference shape, value for value as benches/src/lib.rs `samples()`."""
    for i in range(n):
        yield ("server%02d" % (i % 50), REGIONS[i % 4], (i % 1000) * 0.137 + 0.5,
               (i % 777) / 7.0, i * 31 - 5000, i % 3 != 0, START + i * 1_000_003)


class Cpu(SeriesHelper):
    class Meta:
        series_name = "cpu"
        fields = ["usage_user", "usage_system", "count", "ok"]
        tags = ["host", "region"]
        bulk_size = BATCH
        autocommit = True


# The Meta class is read at the first point: it must name the client before then.
Cpu.Meta.client = client


def write_points():
    points = [{
        "measurement": "cpu",
        "tags": {"host": h, "region": r},
        "fields": {"usage_user": u, "usage_system": s, "count": c, "ok": ok},
        "time": t,
    } for (h, r, u, s, c, ok, t) in samples()]
    started, cpu = time.perf_counter(), time.process_time()
    client.write_points(points, batch_size=BATCH)
    return time.perf_counter() - started, len(points), time.process_time() - cpu


def series_helper():
    rows = list(samples())
    started, cpu = time.perf_counter(), time.process_time()
    for (h, r, u, s, c, ok, t) in rows:
        Cpu(host=h, region=r, usage_user=u, usage_system=s, count=c, ok=ok, time=t)
    # 5.3 has no public count of the pending points; commit() of none would post an empty
    # body, which influxd refuses.
    if any(Cpu._datapoints.values()):
        Cpu.commit()
    return time.perf_counter() - started, len(rows), time.process_time() - cpu


def query():
    started, cpu = time.perf_counter(), time.process_time()
    result = client.query(QUERY, epoch="ns")
    rows = sum(1 for _ in result.get_points())
    return time.perf_counter() - started, rows, time.process_time() - cpu


def memory():
    result = client.query(QUERY, epoch="ns")
    rows = sum(len(series.get("values", [])) for series in result.raw.get("series", []))
    with open("/proc/self/status") as status:
        peak = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
    print("peak_kib", peak)
    print("rows", rows)


if mode == "memory":
    memory()
else:
    seconds, count, cpu = {"write_points": write_points, "series_helper": series_helper, "query": query}[mode]()
    print(seconds, count, cpu)
