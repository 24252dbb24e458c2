"""Kamailio (Debian `kamailio`) as a SIP provider for the trunk tests (issue 15).

A test gives the routing logic (a request_route body) and the subscribers; this module writes the
config around it (UDP on a free loopback port, tm/sl/rr, digest authentication with auth + auth_db
over a db_text database in the test's folder), checks it with `kamailio -c`, starts Kamailio in
the foreground and stops it by PID. Lines the route logs with xlog("L_NOTICE", "TRUNKTEST ...")
are read back with lines(marker).
"""
import os
import tempfile

import chorus_harness as h

CONFIG_HEAD = r"""#!KAMAILIO
debug=2
log_stderror=yes
children=2
disable_tcp=yes
listen=udp:127.0.0.1:{port}
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "textops.so"
loadmodule "siputils.so"
loadmodule "xlog.so"
loadmodule "db_text.so"
loadmodule "auth.so"
loadmodule "auth_db.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
modparam("auth_db", "db_url", "text://{db}")
modparam("auth_db", "calculate_ha1", yes)
modparam("auth_db", "password_column", "password")
modparam("auth_db", "load_credentials", "")
modparam("usrloc", "db_mode", 0)
modparam("registrar", "min_expires", 20)
modparam("registrar", "max_expires", 40)
modparam("registrar", "default_expires", 40)
"""


def write_db(folder, subscribers):
    """A db_text database: the version table and the subscribers, (username, domain, password) each
    (auth_db's subscriber table, version 7; calculate_ha1 makes the HA1 from the password)."""
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "version"), "w") as f:
        f.write("table_name(string) table_version(int) \nsubscriber:7\n")
    with open(os.path.join(folder, "subscriber"), "w") as f:
        f.write("id(int,auto) username(string) domain(string) password(string) ha1(string,null) ha1b(string,null) \n")
        for number, (username, domain, password) in enumerate(subscribers, start=1):
            f.write(f"{number}:{username}:{domain}:{password}:::\n")


class KamailioProvider:
    def __init__(self, binary, outdir, route, subscribers, name="kamailio"):
        """`route` is the request_route body, formatted with {port} (Kamailio's own) and any
        fields the test passes to start()."""
        self.binary = binary
        self.port = h.free_port()
        self.dir = tempfile.mkdtemp(prefix=f"{name}-", dir=outdir)
        self.log_path = os.path.join(outdir, f"{name}.log")
        self.db = os.path.join(self.dir, "db")
        write_db(self.db, subscribers)
        self.route = route
        self.cfg = os.path.join(self.dir, "kamailio.cfg")
        self.proc = None

    def start(self, **fields):
        with open(self.cfg, "w") as f:
            f.write(CONFIG_HEAD.format(port=self.port, db=self.db))
            f.write("request_route {\n" + self.route.format(port=self.port, **fields) + "\n}\n")
        check = h.spawn([self.binary, "-f", self.cfg, "-c"], self.log_path)
        if check.wait(timeout=30) != 0:
            raise h.Failure(f"kamailio -c refuses the test's config: {self.log_path}")
        self.proc = h.spawn([self.binary, "-f", self.cfg, "-Y", self.dir, "-DD", "-E", "-m", "64", "-M", "8"],
                            self.log_path)
        h.poll_until(lambda: h.options_probe(self.port, timeout_s=0.5) is not None, 10.0, "Kamailio listening")
        return self

    def lines(self, marker):
        return [line for line in h.read_log_lines(self.log_path) if marker in line]

    def stop(self):
        if self.proc:
            h.stop_process(self.proc)
