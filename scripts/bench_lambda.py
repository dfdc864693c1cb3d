#!/usr/bin/env python3
"""Peak RSS and time of the ingest *function* binary, as Lambda runs it: the release `ingest` binary
polls a loopback stub of the Lambda Runtime API, gets one S3 ObjectCreated event for the ~200 MB CSV
(unpartitioned table, direct commit, SQLite catalog), and is killed once it has posted its response.
The floe CLI ingesting the same object is the same-run baseline (it links every command: compaction,
backfill, replay, register; not the demo's DataFusion queries), alternating, `--runs` each, one core.

The other ingest figures come from the CLI; this one is what a Lambda function's memory is sized by.
Results: bench/results/lambda.{md,json}.
"""
import argparse, http.server, itertools, json, os, signal, subprocess, sys, threading, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import WORK, floe_env, gen, measure, median_of_rounds, save_results  # noqa: E402


def s3_event(bucket, key, size):
    return {"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
        "eventTime": "2026-12-02T00:00:00.000Z", "eventName": "ObjectCreated:Put",
        "s3": {"s3SchemaVersion": "1.0", "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
               "object": {"key": key, "size": size}}}]}


class RuntimeApi:
    """One invocation: `/next` hands out the event once, `/response` records the result and kills
    the function (a real Lambda freezes it; its peak RSS is reached by then)."""

    def __init__(self, event):
        self.event = json.dumps(event).encode()
        self.handed = False
        self.response = None
        self.pid = None
        api = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                if self.path.endswith("/runtime/invocation/next") and not api.handed:
                    api.handed = True
                    self.send_response(200)
                    for k, v in (("Lambda-Runtime-Aws-Request-Id", "bench-1"),
                                 ("Lambda-Runtime-Deadline-Ms", str(int(time.time() * 1000) + 900_000)),
                                 ("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:000000000000:function:floe-ingest"),
                                 ("Lambda-Runtime-Trace-Id", "Root=1-0-0"), ("Content-Type", "application/json")):
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(api.event)))
                    self.end_headers()
                    self.wfile.write(api.event)
                    return
                time.sleep(30)  # the next long poll: the process is killed before it returns
                self.send_response(404)
                self.end_headers()

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                self.send_response(202)
                self.end_headers()
                api.response = (self.path, body.decode(errors="replace"))
                if api.pid:
                    os.kill(api.pid, signal.SIGKILL)

            def log_message(self, *_):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def run_function(binary, env, event):
    """Seconds and peak RSS (MiB, wait4 of the exact child) of one invocation, and its response."""
    api = RuntimeApi(event)
    e = dict(env, AWS_LAMBDA_RUNTIME_API=f"127.0.0.1:{api.server.server_port}",
             AWS_LAMBDA_FUNCTION_NAME="floe-ingest", AWS_LAMBDA_FUNCTION_MEMORY_SIZE="1024",
             AWS_LAMBDA_FUNCTION_VERSION="1", AWS_LAMBDA_LOG_STREAM_NAME="x", AWS_LAMBDA_LOG_GROUP_NAME="x")
    log_path = os.path.join(WORK, "last-lambda.log")
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        try:
            log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
            os.dup2(log, 1)
            os.dup2(log, 2)
            os.execvpe("taskset", ["taskset", "-c", "0", binary], e)  # taskset execs: same pid
        finally:
            os._exit(127)
    api.pid = pid
    peaks = {"RssAnon": 0, "RssFile": 0}
    threading.Thread(target=_sample_rss, args=(pid, peaks), daemon=True).start()
    _, _, usage = os.wait4(pid, 0)
    secs = time.perf_counter() - start
    api.server.shutdown()
    path, body = api.response or ("", "")
    if not path.endswith("/response"):
        sys.exit(f"the function did not respond ({path or 'no request'}): {body[:1000]}\n"
                 + open(log_path).read()[-3000:])
    return secs, usage.ru_maxrss / 1024.0, json.loads(body), {k: v / 1024.0 for k, v in peaks.items()}


def _sample_rss(pid, peaks):
    """The peaks of the process's anonymous memory and of its file-backed pages (mostly the binary's
    own code and read-only data), from /proc/<pid>/status every 10 ms."""
    while True:
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    k, _, v = line.partition(":")
                    if k in peaks:
                        peaks[k] = max(peaks[k], int(v.split()[0]))
        except (OSError, ValueError, IndexError):
            return
        time.sleep(0.01)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--floe", required=True, help="the floe CLI (baseline)")
    ap.add_argument("--ingest", required=True, help="the ingest function binary")
    ap.add_argument("--rows", type=int, default=2_000_000)
    ap.add_argument("--runs", type=int, default=2)
    args = ap.parse_args()
    os.makedirs(WORK, exist_ok=True)
    tag = time.strftime("%Y%m%d%H%M%S")
    csv = os.path.join(WORK, f"orders-{args.rows}.csv")
    size = gen(args.floe, args.rows, csv)
    mb = size / 1e6
    key = f"orders-flat/bench/lambda-{tag}/{os.path.basename(csv)}"
    subprocess.run([args.floe, "put", csv, f"s3://floe-landing/{key}"], check=True, env=floe_env(f"lambda-{tag}"),
                   stdout=subprocess.DEVNULL)
    function, cli = "ingest function binary (Runtime API stub, one S3 event)", "floe CLI `ingest` (baseline)"
    run_no = itertools.count()

    def function_run():
        # A fresh catalog and warehouse per run (floe_env derives both from the tag).
        env = floe_env(f"lambda-{tag}-{next(run_no)}-inge")
        secs, rss, resp, split = run_function(args.ingest, env, s3_event("floe-landing", key, size))
        status = [o["status"] for o in resp["objects"]]
        assert status == ["committed"] and resp["objects"][0]["rows_written"] == args.rows, resp
        return secs, rss, split

    def cli_run():
        env = floe_env(f"lambda-{tag}-{next(run_no)}-floe")
        secs, rss, out = measure([args.floe, "ingest", f"s3://floe-landing/{key}"], env=env)
        report = json.loads([line for line in out.splitlines() if line.startswith("{")][-1])
        assert report["status"] == "committed", report
        return secs, rss, None

    m = median_of_rounds({function: function_run, cli: cli_run}, args.runs)
    lines = [f"Lambda-shaped ingest {tag}: CSV {mb:.0f} MB unpartitioned, S3 -> S3 + direct commit, one core, "
             f"{args.runs} alternating runs each", "",
             "| binary | seconds (median) | peak RSS MiB (max) | RSS ÷ CLI |", "|---|---:|---:|---:|"]
    cli_rss = m[cli]["rss_mib"]
    out = {}
    for name, r in m.items():
        out[name] = dict(secs=r["secs"], rss_mib=r["rss_mib"], runs=list(zip(r["runs"], r["rss_runs"])))
        lines.append(f"| {name} | {r['secs']:.2f} | {r['rss_mib']:.0f} | {r['rss_mib'] / cli_rss:.2f} |")
    splits = m[function]["extras"]
    anon = max(x["RssAnon"] for x in splits)
    file_backed = max(x["RssFile"] for x in splits)
    lines += ["", f"Of the function's resident memory (sampled every 10 ms): anonymous (heap, buffers) peak "
              f"{anon:.0f} MiB, file-backed (the binary's own pages) peak {file_backed:.0f} MiB."]
    save_results("lambda", "\n".join(lines), dict(tag=tag, mb=mb, cases=out, anon_mib=anon, file_mib=file_backed))


if __name__ == "__main__":
    main()
