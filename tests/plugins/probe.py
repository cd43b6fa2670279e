"""A test plugin: records every stage it sees, answers /dyn/* at stage 30, raises on /boom."""

from marmoset import http, plugin


class Plugin:
    name = "probe"

    def __init__(self, conf):
        self.log_path = conf.path + "/stages.log"
        self.fail_init = conf.server["Timeout"] == 13  # a way for a test to make start-up fail

    def init(self, server):
        if self.fail_init:
            raise RuntimeError("probe refuses to start")

    def _log(self, text):
        with open(self.log_path, "a") as f:
            f.write(text + "\n")

    def stage10(self, worker, sock, addr):
        self._log("10")
        return plugin.CONTINUE

    def stage20(self, worker, conn):
        target = bytes(conn.buf[conn.target_start : conn.target_end])
        self._log("20 " + str(target, "utf-8"))
        if target.startswith(b"/boom"):
            raise ValueError("probe was asked to explode")
        if target == b"/drop":
            return plugin.CLOSE
        return plugin.CONTINUE

    def stage30(self, worker, conn, req, params):
        self._log("30 " + req.path + " " + " ".join(params))
        body = bytes("dynamic %s %s q=%s\n" % (req.method, req.path, str(req.query, "utf-8")), "utf-8")
        return http.respond(worker, conn, 200, b"text/plain", body, b"X-Probe: yes\r\n")

    def stage40(self, worker, conn):
        self._log("40 %d" % conn.status)

    def stage50(self, worker, conn):
        self._log("50")
