#!/usr/bin/env python3
"""The Debian package and the install tree run with nothing but their own files (issue 14).

- `cmake --build <build> --target package` (what `make package` runs, after `--target chorusd`) makes
  chorus_<version>_<arch>.deb.
  Its Depends (dpkg-deb -f) names libgstreamer, libical, libsqlite3, libpq5, libssl3 (from
  dpkg-shlibdeps) and the GStreamer plugin packages the pipelines load by name (base, good, bad, ugly,
  libav, x), and the package of every shared library chorusd links (its ELF NEEDED entries).
- `dpkg-deb -x` into an empty folder: usr/bin/chorusd, every prompt of mixer/prompts/prompts.tsv in
  usr/share/chorus/prompts, the page in usr/share/chorus/web with nothing from node_modules but
  jssip.min.js, the example configuration and the systemd unit. `usr/bin/chorusd --version` prints
  `chorusd <the project() version>` (the package's Version) and exits 0; `--config <the example>
  --print-config` loads the example. `systemd-analyze verify` accepts the unit (run where the
  extracted chorusd is seen at /usr/bin, through an overlay in a private mount namespace; left out,
  with a note, where systemd-analyze or the overlay is not available).
- The same for `cmake --install <build> --prefix <temp>`.
- Each tree's chorusd then runs under `unshare -m` with an empty tmpfs over the source and the build
  folder (so a path baked in at build time leads nowhere), from /, on free ports, with a temp data dir
  and the example configuration: it logs `msg="share dir"` with that tree's share/chorus found next
  to the executable, /healthz answers, `/`, the scripts, the style sheet and /vendor/jssip.min.js are
  served byte for byte from the tree, and a call into room 1000 is answered and hears the
  first-participant prompt; it stops with exit code 0.

Skips (77) when dpkg-deb, cpack or `unshare -m` (root or user namespaces) is missing, or when chorusd
does not sit in a CMake build folder (<build>/bin/chorusd beside <build>/CPackConfig.cmake).
Builds the package in the build folder, so it runs alone (tests/integration/CMakeLists.txt).
"""

import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chorus_harness as h  # noqa: E402
import install_smoke as smoke  # noqa: E402

TEST = "test_package"
PACKAGE_TIMEOUT_S = 480  # an up-to-date build: cpack alone, well under a minute
# What Depends must name (a package whose name starts so): shlibdeps' share, then the plugins.
# Not libsrtp2: since issue 13 chorusd's SRTP is its own, on OpenSSL (media/srtp/srtp_transform.hpp);
# libsrtp2 is only the tests' and bench tools' reference, so chorusd does not link it.
SHLIB_DEPENDS = ("libgstreamer1.0-0", "libgstreamer-plugins-base1.0-0", "libical3",
                 "libsqlite3-0", "libpq5", "libssl3", "libyaml-cpp")
PLUGIN_DEPENDS = ("gstreamer1.0-plugins-base", "gstreamer1.0-plugins-good", "gstreamer1.0-plugins-bad",
                  "gstreamer1.0-plugins-ugly", "gstreamer1.0-libav", "gstreamer1.0-x")


def run(cmd, timeout_s=60, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, **kw)


def build_dir_of(chorusd):
    build = os.path.dirname(os.path.dirname(chorusd))
    if os.path.basename(os.path.dirname(chorusd)) != "bin" or \
            not os.path.isfile(os.path.join(build, "CPackConfig.cmake")):
        raise h.Skip(f"{chorusd} is not <build>/bin/chorusd of a CMake build folder with CPackConfig.cmake")
    return build


def require_unshare_mount():
    unshare = h.require_binary("unshare", "util-linux")
    probe = run([unshare, "-m", "--", "sh", "-c", "mount -t tmpfs chorus-probe /mnt"], timeout_s=30)
    if probe.returncode != 0:
        raise h.Skip(f"`unshare -m` with a tmpfs mount is not permitted here: {probe.stderr.strip()}")
    return unshare


def project_version(source_dir):
    with open(os.path.join(source_dir, "CMakeLists.txt"), encoding="utf-8") as f:
        match = re.search(r"project\(chorus VERSION (\d+\.\d+\.\d+)", f.read())
    if not match:
        raise h.Failure("no `project(chorus VERSION x.y.z` in CMakeLists.txt")
    return match.group(1)


def prompt_names(source_dir):
    with open(os.path.join(source_dir, "mixer", "prompts", "prompts.tsv"), encoding="utf-8") as f:
        return [line.split("\t")[0] for line in f if line.strip() and not line.startswith("#")]


def build_package(build, outdir):
    """The .deb `cmake --build <build> --target package` wrote (its path from CPack's output), after
    `--target chorusd` (the package target takes what is built: packaging/packaging.cmake)."""
    log_path = os.path.join(outdir, "package.log")
    cmake = h.require_binary("cmake", "cmake")
    for target in ("chorusd", "package"):
        result = run([cmake, "--build", build, "--target", target], timeout_s=PACKAGE_TIMEOUT_S)
        with open(log_path, "a") as f:
            f.write(result.stdout + result.stderr)
        if result.returncode != 0:
            raise h.Failure(f"`cmake --build {build} --target {target}` failed ({result.returncode}); see "
                            f"{log_path}:\n" + (result.stdout + result.stderr)[-2000:])
    match = re.search(r"CPack: - package: (\S+\.deb) generated", result.stdout)
    if not match or not os.path.isfile(match.group(1)):
        raise h.Failure(f"CPack named no .deb it generated; see {log_path}")
    return match.group(1)


def depends_names(deb):
    field = run(["dpkg-deb", "-f", deb, "Depends"]).stdout
    names = set()
    for item in field.split(","):
        for alternative in item.split("|"):
            name = alternative.strip().split(" ")[0].split(":")[0]
            if name:
                names.add(name)
    return field.strip(), names


def needed_packages(binary):
    """{soname: Debian package} for chorusd's NEEDED entries, through ldconfig and dpkg -S."""
    dynamic = run(["readelf", "-d", binary]).stdout
    sonames = re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", dynamic)
    cache = run(["ldconfig", "-p"]).stdout
    owners = {}
    for soname in sonames:
        match = re.search(rf"^\s*{re.escape(soname)} \([^)]*x86-64[^)]*\) => (\S+)", cache, re.M) or \
            re.search(rf"^\s*{re.escape(soname)} \([^)]*\) => (\S+)", cache, re.M)
        if not match:
            owners[soname] = None
            continue
        path = match.group(1)
        candidates = [path, os.path.realpath(path)]
        candidates += ["/usr" + p for p in candidates if not p.startswith("/usr/")]
        owner = None
        for candidate in candidates:
            found = run(["dpkg", "-S", candidate])
            if found.returncode == 0:
                owner = found.stdout.split(":")[0].strip()
                break
        owners[soname] = owner
    return owners


def check_depends(deb, extracted_chorusd, checks):
    field, names = depends_names(deb)
    print(f"Depends: {field}", flush=True)
    for wanted in SHLIB_DEPENDS + PLUGIN_DEPENDS:
        checks.expect(any(name == wanted or name.startswith(wanted) for name in names),
                      f"Depends names {wanted}")
    owners = needed_packages(extracted_chorusd)
    for soname, owner in sorted(owners.items()):
        checks.expect(owner is not None and owner in names,
                      f"chorusd links {soname} (package {owner}), and Depends names that package")


def check_tree(prefix, source_dir, checks, label):
    """The installed files under `prefix` (…/usr for the package)."""
    share = os.path.join(prefix, "share", "chorus")
    checks.expect(os.access(os.path.join(prefix, "bin", "chorusd"), os.X_OK), f"{label}: bin/chorusd is executable")
    missing = [n for n in prompt_names(source_dir) if not os.path.isfile(os.path.join(share, "prompts", n + ".wav"))]
    checks.expect(not missing, f"{label}: share/chorus/prompts has every prompt (missing {missing})")
    for _, file in smoke.web_routes(source_dir):
        checks.expect(os.path.isfile(os.path.join(share, "web", file)), f"{label}: share/chorus/web/{file} installed")
    modules = os.path.join(share, "web", "node_modules")
    shipped = sorted(os.path.relpath(os.path.join(d, f), modules) for d, _, fs in os.walk(modules) for f in fs)
    checks.expect(shipped == ["jssip/dist/jssip.min.js"],
                  f"{label}: of node_modules only jssip/dist/jssip.min.js is installed (got {shipped[:10]})")
    for doc in ("chorus.example.yaml", "operations.md"):
        checks.expect(os.path.isfile(os.path.join(prefix, "share", "doc", "chorus", doc)),
                      f"{label}: share/doc/chorus/{doc} installed")


def check_version(chorusd, version, checks, label):
    result = run([chorusd, "--version"], timeout_s=30)
    line = result.stdout.strip()
    checks.expect(result.returncode == 0 and re.fullmatch(rf"chorusd {re.escape(version)}( \(.+\))?", line),
                  f"{label}: `chorusd --version` exits 0 with `chorusd {version}[ (git describe)]` (got "
                  f"{result.returncode}: {line!r} {result.stderr.strip()[:200]!r})")


def check_example_loads(chorusd, example, checks, label):
    result = run([chorusd, "--config", example, "--print-config"], timeout_s=30)
    checks.expect(result.returncode == 0 and f"sip_port = 5060  (file {example}:" in result.stdout,
                  f"{label}: the example configuration loads (--print-config exits {result.returncode}: "
                  f"{(result.stderr or result.stdout).strip()[:300]!r})")


def verify_unit(unit, usr_bin, unshare, checks, label):
    """systemd-analyze verify, with the tree's chorusd seen at /usr/bin/chorusd (the unit's ExecStart)
    through a read-only overlay of usr_bin over /usr/bin in a private mount namespace."""
    analyze = shutil.which("systemd-analyze")
    if not analyze:
        print(f"note: {label}: systemd-analyze is not installed; the unit is not verified", flush=True)
        return
    script = (f"mount -t overlay chorus-usr-bin -o lowerdir={shlex.quote(usr_bin)}:/usr/bin /usr/bin && "
              f"exec {shlex.quote(analyze)} verify {shlex.quote(unit)}")
    result = run([unshare, "-m", "--", "sh", "-c", script], timeout_s=60, cwd="/")
    if result.returncode != 0 and "mount" in result.stderr and "overlay" in result.stderr:
        print(f"note: {label}: no overlay mount here ({result.stderr.strip()}); the unit is not verified", flush=True)
        return
    checks.expect(result.returncode == 0 and not result.stderr.strip(),
                  f"{label}: systemd-analyze verify accepts chorus.service ({result.returncode}: "
                  f"{result.stderr.strip()[:500]!r})")


class HiddenTreeChorusd(h.Chorusd):
    """chorusd under `unshare -m` with an empty read-only tmpfs over each of `hidden` (deepest first,
    so a build folder inside the source folder is covered too), started from /: the PID stays
    chorusd's own (unshare and sh exec it), so stop() signals chorusd."""

    def __init__(self, binary, outdir, hidden, unshare, **kw):
        super().__init__(binary, outdir, **kw)
        self.hidden = sorted({os.path.realpath(d) for d in hidden}, key=len, reverse=True)
        self.unshare = unshare

    def command(self):
        mounts = [f"mount -t tmpfs -o ro,size=4k chorus-hidden {shlex.quote(d)}" for d in self.hidden]
        proofs = [f"test -z \"$(ls -A {shlex.quote(d)})\"" for d in self.hidden]
        script = " && ".join(mounts + proofs + ['cd /', 'exec "$@"'])
        return [self.unshare, "-m", "--", "sh", "-c", script, "sh"] + super().command()


def smoke_run(prefix, label, args, unshare, checks, scratch):
    """Runs the tree's chorusd with the source and build folders hidden; the checks of the docstring."""
    chorusd = os.path.join(prefix, "bin", "chorusd")
    share = os.path.realpath(os.path.join(prefix, "share", "chorus"))
    example = os.path.join(prefix, "share", "doc", "chorus", "chorus.example.yaml")
    data_dir = tempfile.mkdtemp(prefix="data-", dir=scratch)
    server = HiddenTreeChorusd(chorusd, args.output_dir, [args.source_dir, args.build_dir], unshare,
                               name=f"chorusd-{label}", data_dir=data_dir, extra_args=["--config", example])
    print(f"--- {label}: {chorusd} with {args.source_dir} and {args.build_dir} hidden", flush=True)
    server.start()
    fields = smoke.share_dir_line(server.log_lines()) or {}
    checks.expect(fields.get("found") == "next to the executable" and fields.get("share_dir") == share,
                  f"{label}: chorusd logged the installed share dir {share} found next to the executable "
                  f"(logged {fields})")
    checks.expect(any("msg=\"prompts loaded\"" in line and share in line for line in server.log_lines()),
                  f"{label}: the prompts were loaded from {share}/prompts")
    smoke.expect_served(server.http_port, smoke.web_routes(args.source_dir), os.path.join(share, "web"), checks, label)
    smoke.expect_call_hears_prompt(server.sip_port, checks, label)
    h.expect_quiescent(server, checks, label)
    code = server.stop()
    checks.expect(code == 0, f"{label}: chorusd exits 0 on SIGTERM (got {code})")


def body(args):
    args.source_dir = os.path.realpath(args.source_dir)
    args.build_dir = build_dir_of(args.chorusd)
    os.makedirs(args.output_dir, exist_ok=True)
    for tool, package in (("dpkg-deb", "dpkg"), ("cpack", "cmake"), ("readelf", "binutils")):
        h.require_binary(tool, package)
    unshare = require_unshare_mount()
    version = project_version(args.source_dir)
    checks = h.Checks()
    # Outside both hidden folders (the default output folder is inside the build folder).
    scratch = tempfile.mkdtemp(prefix="chorus-package-")
    for hidden in (args.source_dir, args.build_dir):
        if os.path.commonpath([os.path.realpath(scratch), os.path.realpath(hidden)]) == os.path.realpath(hidden):
            raise h.Skip(f"the temp folder {scratch} lies inside {hidden}, which the test hides")
    keep = True  # the trees stay for a look when anything failed
    try:
        print(f"--- package: cmake --build {args.build_dir} --target package", flush=True)
        deb = build_package(args.build_dir, args.output_dir)
        root = os.path.join(scratch, "deb-root")
        extracted = run(["dpkg-deb", "-x", deb, root])
        if extracted.returncode != 0:
            raise h.Failure(f"dpkg-deb -x {deb}: {extracted.stderr.strip()}")
        usr = os.path.join(root, "usr")
        package_version = run(["dpkg-deb", "-f", deb, "Version"]).stdout.strip()
        checks.expect(package_version == version, f"the package's Version is {version} (got {package_version!r})")
        check_depends(deb, os.path.join(usr, "bin", "chorusd"), checks)

        prefix = os.path.join(scratch, "prefix")
        installed = run([h.require_binary("cmake", "cmake"), "--install", args.build_dir, "--prefix", prefix],
                        timeout_s=120)
        if installed.returncode != 0:
            raise h.Failure(f"cmake --install {args.build_dir} --prefix {prefix}: {installed.stderr.strip()[-1000:]}")

        trees = (("deb", usr, os.path.join(root, "usr", "lib", "systemd", "system", "chorus.service")),
                 ("install", prefix, os.path.join(prefix, "lib", "systemd", "system", "chorus.service")))
        for label, tree, unit in trees:
            check_tree(tree, args.source_dir, checks, label)
            checks.expect(os.path.isfile(unit), f"{label}: the systemd unit is at {os.path.relpath(unit, scratch)}")
            check_version(os.path.join(tree, "bin", "chorusd"), version, checks, label)
            check_example_loads(os.path.join(tree, "bin", "chorusd"),
                                os.path.join(tree, "share", "doc", "chorus", "chorus.example.yaml"), checks, label)
        verify_unit(trees[0][2], os.path.join(usr, "bin"), unshare, checks, "deb")
        for label, tree, _ in trees:
            smoke_run(tree, label, args, unshare, checks, scratch)
        keep = bool(checks.failures)
    finally:
        if keep:
            print(f"[{TEST}] the package and install trees are kept in {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    return checks.failures


if __name__ == "__main__":
    sys.exit(h.run(TEST, body, __doc__))
