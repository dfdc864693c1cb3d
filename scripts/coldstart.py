#!/usr/bin/env python3
"""Cold start of a function binary: time from process start to its first `GET .../invocation/next`
on a loopback stub of the Lambda Runtime API. Init includes reading config, loading table specs and
opening the catalog. Usage: coldstart.py BINARY [runs]  (environment: the FLOE_* / AWS_* config)."""
import http.server, os, statistics, subprocess, sys, threading, time

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
    binary, runs = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 5
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


if __name__ == "__main__":
    main()
