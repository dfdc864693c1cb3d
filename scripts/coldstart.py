#!/usr/bin/env python3
"""Cold start of a function binary: time from process start to its first `GET .../invocation/next`
on a loopback stub of the Lambda Runtime API. Init includes reading config, loading table specs and
opening the catalog. Usage: coldstart.py BINARY [runs] [--json FILE]  (environment: the FLOE_* /
AWS_* config). With --json, the result is merged into FILE under the binary's name."""
import http.server, json, os, statistics, subprocess, sys, threading, time

first_next = threading.Event()


class Stub(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path.endswith("/runtime/invocation/next"):
            first_next.set()
            time.sleep(5)  # hold the long poll; the process is killed before it returns
        self.send_response(404)
        self.end_headers()

    def log_message(self, *_):
        pass


def main():
    args = sys.argv[1:]
    out = None
    if "--json" in args:
        i = args.index("--json")
        out = args[i + 1]
        del args[i:i + 2]
    binary, runs = args[0], int(args[1]) if len(args) > 1 else 5
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Stub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = dict(os.environ, AWS_LAMBDA_RUNTIME_API=f"127.0.0.1:{server.server_port}",
               AWS_LAMBDA_FUNCTION_NAME="floe-coldstart", AWS_LAMBDA_FUNCTION_MEMORY_SIZE="1024",
               AWS_LAMBDA_FUNCTION_VERSION="1", AWS_LAMBDA_LOG_STREAM_NAME="x", AWS_LAMBDA_LOG_GROUP_NAME="x")
    times = []
    for _ in range(runs):
        first_next.clear()
        start = time.perf_counter()
        p = subprocess.Popen([binary], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if not first_next.wait(30):
            p.kill()
            sys.exit("no /next request within 30 s: " + p.stderr.read().decode()[-2000:])
        times.append((time.perf_counter() - start) * 1000)
        p.kill()
        p.wait()
    print(f"{os.path.basename(binary)}: init to first /next: median {statistics.median(times):.1f} ms "
          f"(min {min(times):.1f}, max {max(times):.1f}, {runs} runs)")
    if out:
        data = json.load(open(out)) if os.path.exists(out) else {}
        data[os.path.basename(binary)] = dict(median_ms=statistics.median(times), min_ms=min(times),
                                              max_ms=max(times), runs=runs)
        with open(out, "w") as f:
            json.dump(data, f, indent=2)


if __name__ == "__main__":
    main()
