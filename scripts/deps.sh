#!/usr/bin/env bash
# deps.sh — install the Debian packages mailpulse needs to build, test and run.
#
# Idempotent: packages already installed are left alone, and when nothing is
# missing it exits 0 without touching apt. As root it runs apt-get itself;
# otherwise it prints the exact apt-get line to run and exits 1.
#
# Usage: scripts/deps.sh [--bench|--peers]   (--bench adds what `make bench`
# needs, --peers what `make bench-peers` needs)
set -euo pipefail

pkgs=(
  build-essential pkg-config
  protobuf-c-compiler libprotobuf-c-dev   # wire contract, generated at build time
  libzmq3-dev                             # ingest sockets
  librocksdb-dev                          # system of record
  libcurl4-openssl-dev                    # webhook sender (multi interface)
  libjansson-dev                          # JSON bodies
  libyaml-dev                             # config and rules files
  libmicrohttpd-dev                       # HTTP API and `mailpulse sink`
  libssl-dev                              # HMAC-SHA256 signatures
  libxml2-dev zlib1g-dev libzip-dev       # DMARC aggregate reports: XML, gzip, zip
  libgmime-3.0-dev                        # DMARC reports mailed in: the MIME message
  check libsubunit-dev                    # unit test framework
  universal-ctags                         # scripts/house-check.sh: function sizes
  curl                                    # the README's tour
  protobuf-compiler python3-zmq python3-protobuf  # examples/producer.py and its test
  systemd                                 # systemd-analyze verify of packaging/mailpulse.service
  procps                                  # /bin/kill: the unit's ExecReload (not in a minimal Debian)
  python3-aiosmtpd                        # tests/smtp_sink.py: the real SMTP server of test_e2e_receivers
  prometheus-alertmanager                 # amtool: tests/test_e2e_silence drives the Alertmanager API v2
  postfix                                 # tests/test_e2e_gate: a private Postfix asks the gate (policy protocol)
  libc-ares-dev                           # blocklist checks (base/mp_dnsq: asynchronous DNS)
  python3-dnslib                          # tests/dnsbl_server.py: the test blocklist zone of test_e2e_dnsbl
  nodejs                                  # the web UI's build (ui/: npm ci + esbuild), compiled into the daemon
  chromium                                # tests/test_e2e_ui: the page in headless Chromium (playwright-core)
)
# npm: Debian's package, unless an npm is already there (NodeSource's nodejs
# bundles one and conflicts with Debian's npm package).
command -v npm >/dev/null 2>&1 || pkgs+=(npm)
if [ "${1:-}" = "--bench" ]; then
  pkgs+=(
    redis-server                          # bench_throughput: the home-grown alternative
    libhiredis-dev                        # bench_throughput: its C client (pipelining)
  )
fi
if [ "${1:-}" = "--peers" ]; then
  pkgs+=(
    prometheus                            # bench-peers: scrape + alerting rule
    prometheus-alertmanager               # bench-peers: grouping + webhook
  )
fi

missing=()
for p in "${pkgs[@]}"; do
  st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$st" = "install ok installed" ] || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

line="apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "deps.sh: missing packages: ${missing[*]}" >&2
  echo "deps.sh: run as root:  apt-get update && $line" >&2
  exit 1
fi

echo "deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# postfix: no system mail setup (the test runs a private instance of its own)
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections 2>/dev/null || true
# apt's own progress is shown: on a fresh machine the install takes a minute
# and one silent line looks like a hang. A minimal Debian has empty package
# lists, so they are fetched first when there are none.
if ! compgen -G '/var/lib/apt/lists/*_Packages' >/dev/null; then
  apt-get update
fi
if ! apt-get install -y --no-install-recommends "${missing[@]}"; then
  # Stale lists (a package moved to a new version): refresh, try once more.
  apt-get update
  apt-get install -y --no-install-recommends "${missing[@]}"
fi
